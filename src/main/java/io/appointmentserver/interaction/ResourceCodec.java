package io.appointmentserver.interaction;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.model.api.ResourceMetadataKeyEnum;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.fhir.model.valueset.BundleEntryTransactionMethodEnum;
import io.appointmentserver.store.Write;
import io.appointmentserver.validation.ProfileValidator;
import io.appointmentserver.store.StoredResource;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Date;
import java.util.TimeZone;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.InstantType;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Turns resources into the JSON the store keeps (and serves as is) and back. The server owns
 * {@code id}, {@code meta.versionId} and {@code meta.lastUpdated}; whatever a client sent there
 * is replaced when a version is stamped.
 */
public final class ResourceCodec {
  private final FhirContext ctx;
  private final TimeZone zone;

  public ResourceCodec(FhirContext ctx, ZoneId zone) {
    this.ctx = ctx;
    this.zone = TimeZone.getTimeZone(zone);
  }

  public FhirContext context() {
    return ctx;
  }

  /** Sets the server's id, version and lastUpdated and returns the JSON to store. */
  public String stamp(IBaseResource resource, String type, String id, long version, Instant lastUpdated) {
    return encoded(resource, type).render(id, version, lastUpdated);
  }

  /**
   * The resource encoded once, before its id, version and time are known: HAPI's encoding with
   * placeholders for the three, which {@link Encoded#render} replaces by the real values. So a
   * write encodes its resource once, before its transaction, and the validator reads the same JSON
   * ({@link Encoded#content}). Nothing may change the resource between this call and the render.
   */
  public Encoded encoded(IBaseResource resource, String type) {
    Resource r = (Resource) resource;
    r.setId(new IdType(type, PLACEHOLDER_ID, PLACEHOLDER_VERSION));
    r.getMeta().setVersionId(PLACEHOLDER_VERSION);
    r.getMeta().setLastUpdatedElement(lastUpdated(Instant.EPOCH));
    return new Encoded(r, type, ctx.newJsonParser().encodeResourceToString(r));
  }

  private static final String PLACEHOLDER_ID = "0";
  private static final String PLACEHOLDER_VERSION = "0";

  /** An id the JSON holds as it is: no character to escape (the FHIR id rule's are none). */
  private static boolean plain(String id) {
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c < 0x20 || c == '"' || c == '\\' || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  /** A resource's JSON as {@link #encoded} made it; renders each version of it. */
  public final class Encoded implements Write.Renderer {
    private final Resource resource;
    private final String type;
    /** What follows the placeholder lastUpdated's value, from its closing quote; null: render encodes again. */
    private final String rest;

    private Encoded(Resource resource, String type, String json) {
      this.resource = resource;
      this.type = type;
      // HAPI writes resourceType, id, then meta, whose versionId and lastUpdated come first unless
      // meta has an id or extensions of its own: then the splice is not attempted
      String head = "{\"resourceType\":\"" + type + "\",\"id\":\"" + PLACEHOLDER_ID + "\",\"meta\":{\"versionId\":\""
          + PLACEHOLDER_VERSION + "\",\"lastUpdated\":\"";
      int end = json.startsWith(head) ? json.indexOf('"', head.length()) : -1;
      this.rest = end < 0 ? null : json.substring(end);
    }

    /** Whether {@link #render} splices (else it encodes again: meta has an id or extensions). */
    public boolean spliced() {
      return rest != null;
    }

    /**
     * The resource's content, as validation sees it: the JSON without what the server sets (the
     * resource's id, {@code meta.versionId} and {@code meta.lastUpdated}).
     */
    public String content() {
      if (rest == null) {
        return ProfileValidator.withoutServerFields(ctx, resource);
      }
      // rest: the closing quote of lastUpdated, then the end of meta or its next element
      String head = "{\"resourceType\":\"" + type + "\"";
      return rest.charAt(1) == '}' ? head + rest.substring(2) : head + ",\"meta\":{" + rest.substring(2);
    }

    /** Sets the server's id, version and lastUpdated on the resource and returns the JSON to store. */
    @Override
    public String render(String id, long version, Instant lastUpdated) {
      String v = Long.toString(version);
      InstantType at = lastUpdated(lastUpdated);
      resource.setId(new IdType(type, id, v));
      resource.getMeta().setVersionId(v);
      resource.getMeta().setLastUpdatedElement(at);
      if (rest == null || !plain(id)) {
        return ctx.newJsonParser().encodeResourceToString(resource);
      }
      String time = at.getValueAsString();
      return new StringBuilder(rest.length() + type.length() + id.length() + v.length() + time.length() + 64)
          .append("{\"resourceType\":\"").append(type).append("\",\"id\":\"").append(id)
          .append("\",\"meta\":{\"versionId\":\"").append(v).append("\",\"lastUpdated\":\"").append(time)
          .append(rest).toString();
    }
  }

  public InstantType lastUpdated(Instant t) {
    return new InstantType(Date.from(t), TemporalPrecisionEnum.MILLI, zone);
  }

  /** FHIR_TIMEZONE: the zone of meta.lastUpdated, and of dates without a time of day. */
  public ZoneId zone() {
    return zone.toZoneId();
  }

  /** The stored version as a model object; a tombstone becomes an empty resource marked deleted. */
  /** {@link #decode(StoredResource)} of a version read as bytes. */
  public IBaseResource decode(io.appointmentserver.store.StoredJson s) {
    return decode(new StoredResource(s.at(), s.json() == null ? null
        : new String(s.json(), java.nio.charset.StandardCharsets.UTF_8), s.tags()));
  }

  public IBaseResource decode(StoredResource s) {
    IdType id = new IdType(s.type(), s.id(), Long.toString(s.version()));
    Resource r;
    if (s.deleted()) {
      r = (Resource) ctx.getResourceDefinition(s.type()).newInstance();
      r.getMeta().setVersionId(Long.toString(s.version()));
      r.getMeta().setLastUpdatedElement(lastUpdated(s.lastUpdated()));
      ResourceMetadataKeyEnum.DELETED_AT.put(r, lastUpdated(s.lastUpdated()));
    } else {
      r = (Resource) ctx.newJsonParser().parseResource(s.json());
    }
    r.setId(id);
    ResourceMetadataKeyEnum.ENTRY_TRANSACTION_METHOD.put(r,
        BundleEntryTransactionMethodEnum.valueOf(s.method()));
    return r;
  }
}
