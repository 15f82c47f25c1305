package io.appointmentserver.api;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.model.api.ResourceMetadataKeyEnum;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.fhir.model.valueset.BundleEntryTransactionMethodEnum;
import io.appointmentserver.store.StoredResource;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Date;
import java.util.TimeZone;
import io.appointmentserver.validation.ProfileValidator;
import org.hl7.fhir.dstu3.model.DomainResource;
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
    return stamp(resource, type, id, version, lastUpdated, null);
  }

  /**
   * {@link #stamp(IBaseResource, String, String, long, Instant)} of a resource whose
   * {@link #unstamped} JSON is known (null: not known): that JSON with the id and the two meta
   * elements put in, instead of a second serialization. HAPI writes a resource as
   * {@code resourceType, id, meta (versionId, lastUpdated, profile, security, tag), the rest}, so
   * they go at the start; a resource whose id or meta has extensions or element ids, or that has
   * contained resources (whose meta the unstamped JSON leaves out too), is serialized again.
   */
  public String stamp(IBaseResource resource, String type, String id, long version, Instant lastUpdated,
      String unstamped) {
    Resource r = (Resource) resource;
    r.setId(new IdType(type, id, Long.toString(version)));
    r.getMeta().setVersionId(Long.toString(version));
    InstantType at = lastUpdated(lastUpdated);
    r.getMeta().setLastUpdatedElement(at);
    String head = "{\"resourceType\":\"" + type + "\",";
    if (unstamped == null || !unstamped.startsWith(head) || !spliceable(r)) {
      return ctx.newJsonParser().encodeResourceToString(r);
    }
    StringBuilder json = new StringBuilder(unstamped.length() + 96).append(head)
        .append("\"id\":\"").append(id).append("\",\"meta\":{\"versionId\":\"").append(version)
        .append("\",\"lastUpdated\":\"").append(at.getValueAsString()).append('"');
    String meta = "\"meta\":{";
    if (unstamped.startsWith(meta, head.length())) {
      // HAPI writes "meta":{} when versionId and lastUpdated were all the meta there was
      int rest = head.length() + meta.length();
      return json.append(unstamped.charAt(rest) == '}' ? "" : ",").append(unstamped, rest, unstamped.length())
          .toString();
    }
    return json.append("},").append(unstamped, head.length(), unstamped.length()).toString();
  }

  /** The resource as {@link #stamp} can splice it: see there. */
  private static boolean spliceable(Resource r) {
    return !r.getIdElement().hasExtension() && !r.getMeta().hasExtension() && r.getMeta().getId() == null
        && (!(r instanceof DomainResource d) || !d.hasContained());
  }

  /**
   * The JSON of {@code resource} as {@link #stamp} would make it, without id, meta.versionId and
   * meta.lastUpdated, or null when {@link #stamp} would not use it: for a write to make once and
   * give to the validation (whose key it is) and to {@link #stamp}.
   */
  public String unstamped(IBaseResource resource) {
    return resource instanceof Resource r && spliceable(r) ? ProfileValidator.unstamped(ctx, r) : null;
  }

  public InstantType lastUpdated(Instant t) {
    return new InstantType(Date.from(t), TemporalPrecisionEnum.MILLI, zone);
  }

  /** The stored version as a model object; a tombstone becomes an empty resource marked deleted. */
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
