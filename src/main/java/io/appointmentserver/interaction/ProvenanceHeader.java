package io.appointmentserver.interaction;

import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import io.appointmentserver.security.Privileges;
import io.appointmentserver.security.Privileges.Op;
import io.appointmentserver.store.StoredResource;
import java.util.Date;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Provenance;
import org.hl7.fhir.dstu3.model.Reference;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The {@code X-Provenance} request header (as HAPI's servers take it): a Provenance in JSON that is
 * stored with the write, in its transaction, its target the version written (a create or update
 * of its own; a Bundle's entries carry none). The Provenance is written as any create of one is:
 * the writer needs {@code Provenance.create}, and its content is checked and validated.
 */
final class ProvenanceHeader {
  static final String HEADER = "X-Provenance";

  private ProvenanceHeader() {}

  /** The header's Provenance, or null when the request has none; 400 when it is no Provenance. */
  static Provenance of(RequestDetails request, ResourceCodec codec) {
    String header = request == null || request.isSubRequest() ? null : request.getHeader(HEADER);
    if (header == null || header.isBlank()) {
      return null;
    }
    Privileges.require(Access.principal(request), "Provenance", Op.CREATE);
    IBaseResource parsed;
    try {
      parsed = codec.context().newJsonParser().parseResource(header);
    } catch (DataFormatException e) {
      throw invalid("The " + HEADER + " header is not a Provenance in JSON: " + e.getMessage());
    }
    if (!(parsed instanceof Provenance p)) {
      throw invalid("The " + HEADER + " header must hold a Provenance, not a "
          + codec.context().getResourceType(parsed));
    }
    return p;
  }

  /** The Provenance of {@code written}: its target that version, recorded now unless it says when. */
  static Provenance of(Provenance provenance, StoredResource written) {
    provenance.setId((String) null);
    provenance.getTarget().clear();
    provenance.addTarget(new Reference(Ids.versioned(written.type(), written.id(), written.version())));
    if (!provenance.hasRecorded()) {
      provenance.setRecorded(Date.from(written.lastUpdated()));
    }
    return provenance;
  }

  private static InvalidRequestException invalid(String msg) {
    return new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
  }
}
