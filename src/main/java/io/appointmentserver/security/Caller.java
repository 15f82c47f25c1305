package io.appointmentserver.security;

/**
 * Who sent a request, as the servlet API's {@code getUserPrincipal()} returns it once the token is
 * checked ({@code http.Authentication}): the user, and the details of the request the audit
 * records (trace id, client address, query, method).
 */
public record Caller(Principal user, AuditLog.RequestInfo request) implements java.security.Principal {
  @Override
  public String getName() {
    return user.userId();
  }

  /** The caller of a servlet request, or null when it was not authenticated. */
  public static Caller of(jakarta.servlet.http.HttpServletRequest request) {
    return request.getUserPrincipal() instanceof Caller c ? c : null;
  }
}
