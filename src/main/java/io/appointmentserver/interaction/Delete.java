package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import io.appointmentserver.store.StoredResource;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;

/**
 * <a href="https://hl7.org/fhir/STU3/http.html#delete">delete</a>: writes a tombstone version;
 * reading the resource then answers 410 Gone. Without an id, addressed by search parameters, a
 * <a href="https://hl7.org/fhir/STU3/http.html#2.21.0.13.1">conditional delete</a>: no match within
 * the user's context is a 404, one is deleted, several are a 412 unless the server is set to
 * delete them all.
 */
public final class Delete {
  private final Writes writes;
  private final ConditionalWrites conditional;

  Delete(Writes writes, ConditionalWrites conditional) {
    this.writes = writes;
    this.conditional = conditional;
  }

  /** {@code id}: the URL's id, or null for a conditional delete by the request's parameters. */
  public MethodOutcome delete(String type, String id, RequestDetails request) {
    if (id == null) {
      return conditionalDelete(type, ConditionalWrites.criteria(request.getParameters()), request);
    }
    String idPart = Ids.check(id);
    StoredResource s = writes.delete(type, idPart, Ids.ifMatch(request), request);
    if (s == null) {
      throw new ResourceNotFoundException(new IdType(type, idPart));
    }
    MethodOutcome outcome = new MethodOutcome(new IdType(type, idPart, Long.toString(s.version())));
    outcome.setOperationOutcome(Outcomes.issue(IssueSeverity.INFORMATION, IssueType.INFORMATIONAL,
        "Deleted " + type + "/" + idPart + " (version " + s.version() + ")"));
    return outcome;
  }

  /** Pages of matches are deleted until none is left (each deletion drops out of the next search). */
  private MethodOutcome conditionalDelete(String type, Map<String, String[]> criteria, RequestDetails request) {
    int page = conditional.deleteMultiple() ? HistoryQueries.MAX_PAGE_SIZE : 2;
    return conditional.underLock(request, type, criteria, page, first -> {
      if (first.isEmpty()) {
        throw new ResourceNotFoundException("No " + type + " matches the conditional delete's criteria");
      }
      if (first.size() > 1 && !conditional.deleteMultiple()) {
        throw Writes.multiple("the conditional delete's criteria");
      }
      Long expected = first.size() == 1 ? Ids.ifMatch(request) : null;
      int deleted = 0;
      String last = null;
      for (List<StoredResource> matches = first; !matches.isEmpty();
          matches = conditional.matches(request, type, criteria, page)) {
        for (StoredResource m : matches) {
          writes.delete(type, m.id(), expected, request);
          last = Ids.versioned(type, m.id(), m.version() + 1);
          deleted++;
        }
      }
      MethodOutcome outcome = deleted == 1 ? new MethodOutcome(new IdType(last)) : new MethodOutcome();
      outcome.setOperationOutcome(Outcomes.issue(IssueSeverity.INFORMATION, IssueType.INFORMATIONAL,
          "Deleted " + deleted + " " + type + " matching the criteria"));
      return outcome;
    });
  }
}
