package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import io.appointmentserver.store.StoredResource;
import io.appointmentserver.validation.ProfileValidator;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.StructureDefinition;

/**
 * {@code StructureDefinition/$snapshot} (as HAPI's servers have it; eHealth's name for it is
 * {@code $generateSnapshot}): the snapshot of a StructureDefinition made from its differential and
 * its base definition, which may be any definition the server knows (DSTU3, the IG, stored). The
 * StructureDefinition is the stored instance ({@code [id]/$snapshot}), the parameter
 * {@code definition}, or the known one of canonical {@code url}. Nothing is stored; audited as
 * the operation.
 */
public final class Snapshot {
  static final String TYPE = "StructureDefinition";

  private final ProfileValidator validator;
  private final ResourceCodec codec;
  private final Access access;
  private final Read read;

  Snapshot(ProfileValidator validator, ResourceCodec codec, Access access, Read read) {
    this.validator = validator;
    this.codec = codec;
    this.access = access;
    this.read = read;
  }

  /** What the snapshot is asked of: the instance's id, a definition, or a canonical url (one of them). */
  public record Request(String operation, String id, StructureDefinition definition, String url) {}

  public StructureDefinition snapshot(Request r, RequestDetails request) {
    int given = (r.id() == null ? 0 : 1) + (r.definition() == null ? 0 : 1) + (r.url() == null ? 0 : 1);
    if (given != 1) {
      String msg = r.operation() + " needs exactly one StructureDefinition: the instance ([base]/StructureDefinition/[id]/"
          + r.operation() + "), the parameter definition, or the parameter url";
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.REQUIRED, msg));
    }
    StructureDefinition sd;
    String ref = null;
    if (r.id() != null) {
      StoredResource s = read.current(TYPE, r.id(), request);
      sd = (StructureDefinition) codec.decode(s);
      ref = Ids.versioned(TYPE, s.id(), s.version());
    } else if (r.url() != null) {
      sd = validator.definition(r.url());
      if (sd == null) {
        throw new ResourceNotFoundException("No StructureDefinition of url " + r.url() + " is known to this server");
      }
    } else {
      sd = r.definition();
    }
    StructureDefinition out = validator.snapshot(sd);
    access.auditedOperation(request, r.operation(), TYPE, ref, new String[0]);
    return out;
  }
}
