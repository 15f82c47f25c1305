package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import io.appointmentserver.search.Reindexer;
import io.appointmentserver.security.AuditLog;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Parameters;
import org.hl7.fhir.dstu3.model.StringType;

/**
 * HAPI JPA's {@code $mark-all-resources-for-reindexing} (every resource, or those of
 * {@code type}, indexed again by the background job: a full pass, progress in {@code /health})
 * and {@code $perform-reindexing-pass} (the passes under way run now, in the request, for up to
 * {@value #PASS_MILLIS} ms; the job does the rest), on {@link Reindexer}. For SYSTEM users with
 * the operation's privilege; each call is one audit event (action E).
 */
public final class Reindexing {
  static final String MARK = "$mark-all-resources-for-reindexing";
  static final String PERFORM = "$perform-reindexing-pass";
  /** How long {@code $perform-reindexing-pass} works in the request before it leaves the rest to the job. */
  static final long PASS_MILLIS = 20_000;

  private final Reindexer reindexer;
  private final Access access;
  private final Set<String> types;

  Reindexing(Reindexer reindexer, Access access, Set<String> types) {
    this.reindexer = reindexer;
    this.access = access;
    this.types = new TreeSet<>(types);
  }

  /** {@code type}: a resource type, or null for all. */
  public Parameters mark(String type, RequestDetails request) {
    Access.requireSystem(request, MARK, "it concerns the whole server");
    if (type != null && !types.contains(type.trim())) {
      String msg = "Unknown resource type for " + MARK + ": " + type;
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.VALUE, msg));
    }
    long marked = reindexer.markAll(type == null ? types : List.of(type.trim()));
    access.auditedMaintenance(request, new AuditLog.Action("E", MARK, type, null),
        (type == null ? "" : "type=" + type.trim() + "&") + "marked=" + marked);
    return status("Marked " + marked + " resources");
  }

  public Parameters perform(RequestDetails request) {
    Access.requireSystem(request, PERFORM, "it concerns the whole server");
    Reindexer.PassResult r = reindexer.runPending(PASS_MILLIS);
    access.auditedMaintenance(request, new AuditLog.Action("E", PERFORM, null, null),
        "indexed=" + r.indexed() + "&unfinished=" + r.unfinished());
    return status("Indexed " + r.indexed() + " resources" + (r.unfinished() == 0 ? ""
        : "; " + r.unfinished() + " passes go on in the background (GET /health)"));
  }

  private static Parameters status(String text) {
    Parameters out = new Parameters();
    out.addParameter().setName("status").setValue(new StringType(text));
    return out;
  }
}
