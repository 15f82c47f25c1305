package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import io.appointmentserver.plugin.Plugins;
import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.security.AuditLog;
import io.appointmentserver.security.Caller;
import io.appointmentserver.security.AuthenticationException;
import io.appointmentserver.security.ContextRule;
import io.appointmentserver.security.ForbiddenException;
import io.appointmentserver.search.ContextSql;
import io.appointmentserver.search.Searcher;
import io.appointmentserver.search.Sql;
import io.appointmentserver.security.Principal;
import io.appointmentserver.security.Privileges;
import io.appointmentserver.security.Privileges.Op;
import io.appointmentserver.store.AuditEvents;
import io.appointmentserver.store.StoredResource;
import io.appointmentserver.store.Write.AuditTrail;
import io.appointmentserver.store.Write.Guard;
import java.util.List;

/** The security checks as the interactions use them, for the principal of a request. */
public final class Access {
  private final AccessPolicy policy;
  private final AuditLog audit;
  private final Plugins plugins;

  public Access(Plugins plugins, AuditLog audit) {
    this.policy = plugins.accessPolicy();
    this.plugins = plugins;
    this.audit = audit;
  }

  /** The search parameters of {@code type} whose care teams must lie within the user's context. */
  java.util.Set<String> teamSearchParameters(String type) {
    return plugins.of(type).teamSearchParameters();
  }

  /** The audit events of a write, stored in its transaction. */
  public AuditTrail trail(RequestDetails request, String action, String subtype) {
    Caller c = caller(request);
    return new AuditTrail() {
      @Override
      public List<AuditEvents.Event> eventsFor(StoredResource written, String[] tags) {
        return audit.events(c, new AuditLog.Action(
            written.version() == 1 && action.equals("U") ? "C" : action,
            written.version() == 1 && subtype.equals("update") ? "create" : subtype, written.type(),
            Ids.versioned(written.type(), written.id(), written.version())), tags);
      }

      /** As asked (an update or patch), naming the version it left current: eHealth audits the access. */
      @Override
      public List<AuditEvents.Event> eventsForUnchanged(StoredResource current, String[] tags) {
        return audit.events(c, new AuditLog.Action(action, subtype, current.type(),
            Ids.versioned(current.type(), current.id(), current.version())), tags);
      }
    };
  }

  /** Audits an operation that changes nothing (action E, the operation's name as subtype). */
  public void auditedOperation(RequestDetails request, String operation, String type, String ref, String[] tags) {
    audit.record(audit.events(caller(request), new AuditLog.Action("E", operation, type, ref), tags));
  }

  /**
   * Audits a maintenance operation ({@code $expunge}, reindexing) at once, SYSTEM users included:
   * action {@code code}, the operation as subtype, {@code detail} (parameters and outcome) as the query.
   */
  public void auditedMaintenance(RequestDetails request, AuditLog.Action what, String detail) {
    audit.maintenance(caller(request), what, detail);
  }

  /** Audits a read (queued; stored within a second). */
  public void audited(RequestDetails request, String subtype, String type, String ref, String[] tags) {
    audit.record(audit.events(caller(request), new AuditLog.Action("R", subtype, type, ref), tags));
  }

  /** Who sent the request: 401 when it was not authenticated. */
  public static Caller caller(RequestDetails request) {
    Caller c = request instanceof ServletRequestDetails s ? Caller.of(s.getServletRequest()) : null;
    if (c == null) {
      throw new AuthenticationException("Not authenticated");
    }
    return c;
  }

  /** 403 unless the user is a SYSTEM user: for operations on the whole server, {@code why} saying so. */
  public static void requireSystem(RequestDetails request, String operation, String why) {
    if (principal(request).userType() != Principal.UserType.SYSTEM) {
      throw new ForbiddenException("SECURITY_TOKEN_INSUFFICIENT_PERMISSION: Insufficient permission for " + operation
          + ": " + why + ", for SYSTEM users only");
    }
  }

  public static Principal principal(RequestDetails request) {
    return caller(request).user();
  }

  public AccessPolicy policy() {
    return policy;
  }

  AuditLog audit() {
    return audit;
  }

  /** 403 unless a resource with these access tags is within the user's context. */
  public void check(RequestDetails request, String type, String[] tags) {
    policy.check(principal(request), type, tags);
  }

  /** For writes: the version being replaced must be within the user's context too. */
  public Guard guard(RequestDetails request, String type) {
    ContextRule rule = policy.rule(principal(request), type);
    return rule == null ? Guard.NONE : (oldTags, oldJson) -> rule.allows(oldTags);
  }

  /**
   * What the user may see of other types, for includes, chains and {@code _has}: a type needs
   * its read or search privilege (without it an include leaves the type out; a chain or
   * {@code _has}, which cannot be answered without it, is a 403), then its context applies.
   */
  public Searcher.Scope scope(RequestDetails request, java.util.Set<String> types) {
    Principal p = principal(request);
    return new Searcher.Scope() {
      @Override
      public Sql of(String type, boolean required) {
        if (!Privileges.allows(p.roles(), type, Op.READ) && !Privileges.allows(p.roles(), type, Op.SEARCH)) {
          if (required) {
            Privileges.require(p, type, Op.SEARCH);
          }
          return null;
        }
        return ContextSql.of(policy.rule(p, type));
      }

      @Override
      public java.util.Set<String> types() {
        return types;
      }
    };
  }

  /** What the user's context demands of the resources of {@code type}, or null when the user is not limited. */
  public ContextRule rule(RequestDetails request, String type) {
    return policy.rule(principal(request), type);
  }

  /** The context as an SQL condition for lists, or null when the user is not limited. */
  public Sql filter(RequestDetails request, String type) {
    ContextRule rule = policy.rule(principal(request), type);
    return rule == null ? null : ContextSql.of(rule);
  }
}
