package io.appointmentserver.api;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.security.ForbiddenException;
import io.appointmentserver.security.Principal;
import io.appointmentserver.security.Privileges;
import io.appointmentserver.security.Privileges.Op;

/**
 * The role check for everything HAPI's RestfulServer handles, once it knows which interaction a
 * request is: the privilege it needs ({@link Privileges}), then that the user has a context where
 * one is required. The context itself is checked against the resources, in the interactions.
 */
public final class PrivilegeInterceptor {
  private final AccessPolicy policy;

  public PrivilegeInterceptor(AccessPolicy policy) {
    this.policy = policy;
  }

  @Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED)
  public void check(RequestDetails request, RestOperationTypeEnum operation) {
    if (operation == RestOperationTypeEnum.METADATA) {
      return;
    }
    Principal p = Access.principal(request);
    String type = request.getResourceName();
    switch (operation) {
      case READ, VREAD, HISTORY_INSTANCE -> Privileges.require(p, type, Op.READ);
      case SEARCH_TYPE, HISTORY_TYPE -> Privileges.require(p, type, Op.SEARCH);
      case CREATE -> Privileges.require(p, type, Op.CREATE);
      case UPDATE -> Privileges.require(p, type, Op.UPDATE);
      case PATCH -> Privileges.require(p, type, Op.PATCH);
      case DELETE -> Privileges.require(p, type, Op.DELETE);
      case EXTENDED_OPERATION_TYPE, EXTENDED_OPERATION_INSTANCE ->
          Privileges.requireOperation(p, type, request.getOperation());
      case EXTENDED_OPERATION_SERVER -> Privileges.requireOperation(p, null, request.getOperation());
      case HISTORY_SYSTEM -> {
        // checked by the system provider, which limits the types
      }
      default -> throw new ForbiddenException(
          "SECURITY_TOKEN_INSUFFICIENT_PERMISSION: Insufficient permission for " + operation.getCode());
    }
    if (type != null) {
      policy.rule(p, type); // SECURITY_TOKEN_CONTEXT_MISSING before any work
    }
  }
}
