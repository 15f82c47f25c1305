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
    Resource r = (Resource) resource;
    r.setId(new IdType(type, id, Long.toString(version)));
    r.getMeta().setVersionId(Long.toString(version));
    r.getMeta().setLastUpdatedElement(lastUpdated(lastUpdated));
    return ctx.newJsonParser().encodeResourceToString(r);
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
