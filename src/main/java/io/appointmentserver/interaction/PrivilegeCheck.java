package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.security.Cpr;
import io.appointmentserver.security.ForbiddenException;
import io.appointmentserver.security.Principal;
import io.appointmentserver.security.Privileges;
import io.appointmentserver.security.Privileges.Op;

/**
 * The role check for everything HAPI's RestfulServer handles, once it knows which interaction a
 * request is: the privilege it needs ({@link Privileges}), then that the user has a context where
 * one is required. The context itself is checked against the resources, in the interactions.
 * Called by {@code rest.FhirRestServer} when it has chosen the method, before the body is parsed; not
 * an interceptor hook, since HAPI logs every exception out of a hook as a server error, and a
 * client's missing privilege is none.
 */
public final class PrivilegeCheck {
  private static final String VALIDATE = "$validate";

  private final AccessPolicy policy;
  private final DeclaredSurface surface;

  /** {@code surface}: what the service declares; a request outside it is refused before its privilege is asked. */
  public PrivilegeCheck(AccessPolicy policy, DeclaredSurface surface) {
    this.policy = policy;
    this.surface = surface;
  }

  public void check(RequestDetails request, RestOperationTypeEnum operation) {
    if (operation == RestOperationTypeEnum.METADATA) {
      return;
    }
    if (operation == null) {
      throw new ForbiddenException("SECURITY_TOKEN_INSUFFICIENT_PERMISSION: Insufficient permission for this request");
    }
    surface.check(request, operation);
    Principal p = Access.principal(request);
    String type = request.getResourceName();
    switch (operation) {
      case READ, VREAD, HISTORY_INSTANCE -> Privileges.require(p, type, Op.READ);
      case SEARCH_TYPE, HISTORY_TYPE -> {
        if (type != null) {
          Privileges.require(p, type, Op.SEARCH);
          if (operation == RestOperationTypeEnum.SEARCH_TYPE) {
            Cpr.requireSearchPrivilege(p, type, request.getParameters());
          }
        } // else system search (HAPI names it a type search): each type is checked as it is searched
      }
      case CREATE -> Privileges.require(p, type, Op.CREATE);
      case UPDATE -> Privileges.require(p, type, Op.UPDATE);
      case PATCH -> Privileges.require(p, type, Op.PATCH);
      case DELETE -> Privileges.require(p, type, Op.DELETE);
      case EXTENDED_OPERATION_TYPE, EXTENDED_OPERATION_INSTANCE -> {
        if (VALIDATE.equals(request.getOperation())) {
          // any user may ask whether content is valid, as the eHealth service lets them (a
          // SYSTEM user without any role validated an Organization); of a stored resource, its reader
          if (operation == RestOperationTypeEnum.EXTENDED_OPERATION_INSTANCE) {
            Privileges.require(p, type, Op.READ);
          }
        } else {
          Privileges.requireOperation(p, type, request.getOperation());
        }
      }
      case EXTENDED_OPERATION_SERVER -> Privileges.requireOperation(p, null, request.getOperation());
      case HISTORY_SYSTEM -> {
        // checked by the system provider, which limits the types
      }
      case TRANSACTION, BATCH -> {
        // each entry is checked as the request it stands for (BundleProcessor)
      }
      default -> throw new ForbiddenException(
          "SECURITY_TOKEN_INSUFFICIENT_PERMISSION: Insufficient permission for " + operation.getCode());
    }
    if (isConditional(request, operation)) {
      Privileges.require(p, type, Op.SEARCH); // a conditional interaction searches
    }
    if (type != null) {
      policy.rule(p, type); // SECURITY_TOKEN_CONTEXT_MISSING before any work
    }
  }

  /**
   * A conditional create ({@code If-None-Exist}), or an update, patch or delete addressed by
   * search parameters instead of an id ({@code PUT Appointment?identifier=x}).
   */
  public static boolean isConditional(RequestDetails request, RestOperationTypeEnum operation) {
    return switch (operation) {
      case CREATE -> request.getHeader("If-None-Exist") != null;
      case UPDATE, PATCH, DELETE -> (request.getId() == null || !request.getId().hasIdPart())
          && !request.getParameters().isEmpty();
      default -> false;
    };
  }
}
