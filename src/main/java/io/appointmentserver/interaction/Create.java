package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.store.StoredResource;
import java.util.Map;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * <a href="https://hl7.org/fhir/STU3/http.html#create">create</a> and
 * <a href="https://hl7.org/fhir/STU3/http.html#ccreate">conditional create</a>: a server-assigned
 * id (a client's id in the body is ignored); with {@code If-None-Exist} one match within the
 * user's context is returned as it is (200), several are a 412.
 */
public final class Create {
  private final Writes writes;
  private final ConditionalWrites conditional;

  Create(Writes writes, ConditionalWrites conditional) {
    this.writes = writes;
    this.conditional = conditional;
  }

  /** {@code ifNoneExist}: the conditional create's criteria, or null for a plain create. */
  public MethodOutcome create(String type, IBaseResource resource, String ifNoneExist, RequestDetails request) {
    Writes.requireBody(resource);
    WriteCommand write = new WriteCommand(type, null, resource, null, WriteCommand.Origin.of(request));
    if (ifNoneExist == null) {
      return writes.create(write);
    }
    return createUnless(write, ConditionalWrites.parse(ifNoneExist));
  }

  /** A create of an operation, unless a resource within the user's context matches {@code criteria}. */
  MethodOutcome createUnlessExists(String type, IBaseResource resource, Map<String, String[]> criteria,
      RequestDetails request) {
    return createUnless(new WriteCommand(type, null, resource, null, WriteCommand.Origin.of(request)), criteria);
  }

  private MethodOutcome createUnless(WriteCommand write, Map<String, String[]> criteria) {
    String type = write.type();
    RequestDetails request = write.request();
    return conditional.underLock(request, type, criteria, 2, matches -> switch (matches.size()) {
      case 0 -> writes.create(write);
      case 1 -> existing(type, matches.get(0), request);
      default -> throw Writes.multiple("If-None-Exist");
    });
  }

  /** A create whose id is known (a transaction's entry) or not (null), for a Bundle entry. */
  MethodOutcome create(WriteCommand write) {
    Writes.requireBody(write.resource());
    return writes.create(write);
  }

  /** A conditional create's match: answered as it is stored (200), audited as a read. */
  private MethodOutcome existing(String type, StoredResource s, RequestDetails request) {
    writes.access().audited(request, "read", type, Ids.versioned(type, s.id(), s.version()), s.tags());
    IBaseResource resource = writes.codec().decode(s);
    MethodOutcome outcome = new MethodOutcome(new IdType(type, s.id(), Long.toString(s.version())));
    outcome.setCreated(false);
    outcome.setResource(resource);
    StoredForm.attach(resource, s);
    outcome.setOperationOutcome(Outcomes.issue(IssueSeverity.INFORMATION, IssueType.INFORMATIONAL,
        "Found " + type + "/" + s.id() + " matching If-None-Exist: nothing was created"));
    return outcome;
  }
}
