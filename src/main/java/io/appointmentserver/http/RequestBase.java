package io.appointmentserver.http;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The base URL a request was addressed to ({@code http://host:port/fhir}), worked out once per
 * request and kept in it for the filters behind.
 */
final class RequestBase {
  private static final String ATTRIBUTE = RequestBase.class.getName();

  private RequestBase() {}

  /** The request's URL without its path info: what HAPI's incoming address strategy gives. */
  static String of(HttpServletRequest req) {
    String base = (String) req.getAttribute(ATTRIBUTE);
    if (base == null) {
      StringBuffer url = req.getRequestURL();
      String path = req.getPathInfo();
      base = url.substring(0, url.length() - (path == null ? 0 : path.length()));
      req.setAttribute(ATTRIBUTE, base);
    }
    return base;
  }

  /** {@code configured} (the public base URL) when set, else the request's own. */
  static String of(HttpServletRequest req, String configured) {
    return configured != null ? configured : of(req);
  }
}
