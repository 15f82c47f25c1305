package io.appointmentserver.http;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import io.appointmentserver.rest.BrowserPages;
import io.appointmentserver.interaction.Outcomes;
import io.appointmentserver.security.Caller;
import io.appointmentserver.security.AuditLog.RequestInfo;
import io.appointmentserver.security.AuthenticationException;
import io.appointmentserver.security.Principal;
import io.appointmentserver.security.TokenAuthenticator;
import io.appointmentserver.store.StoreUnavailableException;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Every request under {@code /fhir} but {@code /fhir/metadata} carries a valid bearer token; its
 * principal is left in the request for the checks behind, with what the audit needs (the
 * {@code x-b3-traceid}, made when absent). Runs first, so that nothing of an
 * anonymous request (not even its body) is processed.
 */
final class Authentication extends HttpFilter {
  /**
   * A B3 trace id: 128 random bits in hex. It correlates log lines and audit events and guards
   * nothing, so it comes from the thread's own generator, not from SecureRandom (whose shared
   * source every request would queue for).
   */
  static String newTraceId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    HexFormat hex = HexFormat.of();
    return hex.toHexDigits(r.nextLong()) + hex.toHexDigits(r.nextLong());
  }

  private final TokenAuthenticator authenticator;
  private final String defaultBase;
  private final ErrorWriter errors;

  Authentication(TokenAuthenticator authenticator, String defaultBase, ErrorWriter errors) {
    this.authenticator = authenticator;
    this.defaultBase = defaultBase;
    this.errors = errors;
  }

  @Override
  protected void doFilter(HttpServletRequest req, HttpServletResponse resp, FilterChain chain)
      throws IOException, ServletException {
    String path = req.getPathInfo();
    if ("/metadata".equals(path) && (req.getMethod().equals("GET") || req.getMethod().equals("HEAD"))) {
      chain.doFilter(req, resp);
      return;
    }
    Principal principal;
    try {
      principal = authenticator.authenticate(req.getHeader("Authorization"));
    } catch (AuthenticationException | StoreUnavailableException e) {
      BaseServerResponseException response = Outcomes.toResponse(e);
      if (response.getStatusCode() == 401 && BrowserPages.wanted(req)) {
        BrowserPages.unauthorized(req, resp, response); // says how to send a token
        return;
      }
      errors.write(req, resp, response);
      return;
    }
    Principal user = principal.localized(List.of(defaultBase, RequestBase.of(req)));
    req.setAttribute(AccessLog.USER, user.userId());
    String traceId = req.getHeader("x-b3-traceid");
    if (traceId == null || traceId.isBlank() || traceId.length() > 64) {
      traceId = newTraceId();
    }
    resp.setHeader("X-B3-TraceId", traceId);
    Caller caller = new Caller(user, new RequestInfo(traceId, req.getRemoteAddr(), auditedQuery(req.getQueryString()),
        req.getMethod()));
    // who is asking, the servlet API's way: everything behind this filter takes it from getUserPrincipal()
    chain.doFilter(new HttpServletRequestWrapper(req) {
      @Override
      public java.security.Principal getUserPrincipal() {
        return caller;
      }
    }, resp);
  }

  /** The query as the audit records it: decoded, or as sent when it does not decode (RequestGuard refuses it). */
  private static String auditedQuery(String query) {
    try {
      return query == null ? null : URLDecoder.decode(query, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return query;
    }
  }
}
