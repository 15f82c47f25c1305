package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.MethodNotAllowedException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import io.appointmentserver.security.AuditLog;
import io.appointmentserver.store.Expunges;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoredResource;
import org.hl7.fhir.dstu3.model.IntegerType;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Parameters;

/**
 * {@code $expunge} as HAPI's JPA server has it: removes for good, at the system, type, instance
 * or version level, the previous versions of resources ({@code expungePreviousVersions}), deleted
 * resources with all their versions ({@code expungeDeletedResources}), or every resource
 * ({@code expungeEverything}, system level only); up to {@code limit} versions (default
 * {@value #DEFAULT_LIMIT}, as HAPI), answered with their number ({@code count}). The current
 * version of a live resource stays, except under {@code expungeEverything}; the audit trail always
 * stays. Served only with {@code FHIR_EXPUNGE=on}; for SYSTEM users holding {@code $expunge} (or
 * {@code Type$expunge} below the system level; {@code Type.*} is not enough, see
 * {@code security.Privileges}); each call is one audit event (action D) with its count.
 */
public final class Expunge {
  static final String NAME = "$expunge";
  static final int DEFAULT_LIMIT = 1000;

  private final ResourceStore store;
  private final Access access;
  private final boolean enabled;

  Expunge(ResourceStore store, Access access, boolean enabled) {
    this.store = store;
    this.access = access;
    this.enabled = enabled;
  }

  /** The operation's input parameters, as given (null when absent). */
  public record Options(Integer limit, Boolean deletedResources, Boolean previousVersions, Boolean everything) {}

  /** Whether it is served ({@code FHIR_EXPUNGE=on}); off, it answers 405. */
  public boolean enabled() {
    return enabled;
  }

  /** {@code scope}: the level the operation was called at (type, id and version null above it). */
  public Parameters expunge(Expunges.Scope scope, Options o, RequestDetails request) {
    Access.requireSystem(request, NAME, "it removes data for good");
    if (!enabled) {
      String msg = NAME + " is not enabled on this server: its operator enables it with FHIR_EXPUNGE=on";
      throw new MethodNotAllowedException(msg, Outcomes.error(IssueType.NOTSUPPORTED, msg));
    }
    int limit = o.limit() == null ? DEFAULT_LIMIT : o.limit();
    if (limit < 1) {
      throw invalid("Expunge limit may not be less than 1. Received expunge limit " + limit + ".");
    }
    boolean everything = Boolean.TRUE.equals(o.everything());
    if (everything && scope.type() != null) {
      throw invalid("expungeEverything is a parameter of the system level only ([base]/$expunge)");
    }
    if (!everything && !Boolean.TRUE.equals(o.deletedResources()) && !Boolean.TRUE.equals(o.previousVersions())) {
      throw invalid("Nothing to expunge: set expungeDeletedResources, expungePreviousVersions"
          + " or (at the system level) expungeEverything to true");
    }
    if (scope.id() != null) {
      checkTarget(scope);
    }
    long[] count = {0};
    try {
      count[0] = run(scope, o, limit, everything);
    } finally {
      access.auditedMaintenance(request, new AuditLog.Action("D", NAME, scope.type(), target(scope)),
          detail(o, limit, count[0]));
    }
    Parameters out = new Parameters();
    out.addParameter().setName("count").setValue(new IntegerType((int) Math.min(count[0], Integer.MAX_VALUE)));
    return out;
  }

  private long run(Expunges.Scope scope, Options o, long limit, boolean everything) {
    Expunges expunges = store.expunges();
    if (everything) {
      return expunges.everything(); // as HAPI: the limit does not bound it
    }
    boolean deleted = Boolean.TRUE.equals(o.deletedResources());
    // previous versions of every resource include those of the deleted ones
    long count = expunges.previousVersions(scope, !Boolean.TRUE.equals(o.previousVersions()), limit);
    if (deleted && scope.version() == null && count < limit) {
      count += expunges.deletedResources(scope, limit - count);
    }
    return count;
  }

  /** 404 for a resource or version that is not there; 412 for a version that is the current one, as HAPI. */
  private void checkTarget(Expunges.Scope scope) {
    StoredResource current = store.reads().read(scope.type(), scope.id());
    if (current == null) {
      throw new ResourceNotFoundException("Resource " + scope.type() + "/" + scope.id() + " is not known");
    }
    if (scope.version() == null) {
      return;
    }
    if (store.reads().vread(scope.type(), scope.id(), scope.version()) == null) {
      throw new ResourceNotFoundException("Version " + scope.version() + " of " + scope.type() + "/" + scope.id()
          + " is not known");
    }
    if (scope.version() == current.version()) {
      String msg = "Can not perform version-specific expunge of resource " + target(scope) + " as this is the current version";
      throw new PreconditionFailedException(msg, Outcomes.error(IssueType.CONFLICT, msg));
    }
  }

  private static String target(Expunges.Scope scope) {
    if (scope.id() == null) {
      return null;
    }
    return scope.version() == null ? scope.type() + "/" + scope.id() : Ids.versioned(scope.type(), scope.id(), scope.version());
  }

  /** The audit event's query: what was asked, and how many versions went. */
  private static String detail(Options o, int limit, long count) {
    return "expungeDeletedResources=" + Boolean.TRUE.equals(o.deletedResources())
        + "&expungePreviousVersions=" + Boolean.TRUE.equals(o.previousVersions())
        + "&expungeEverything=" + Boolean.TRUE.equals(o.everything()) + "&limit=" + limit + "&count=" + count;
  }

  private static InvalidRequestException invalid(String msg) {
    return new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
  }
}
