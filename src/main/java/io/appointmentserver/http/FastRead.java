package io.appointmentserver.http;

import io.appointmentserver.api.Outcomes;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoreUnavailableException;
import io.appointmentserver.store.StoredJson;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * The read hot path: a plain JSON read or vread sends the stored bytes without parsing or
 * re-serializing them. Anything else (XML, {@code _summary}, {@code _elements}, not found,
 * deleted, HEAD) goes on to HAPI's RestfulServer, which answers it the general way.
 */
final class FastRead extends HttpFilter {
  private static final Pattern PATH = Pattern.compile(
      "/([A-Z][A-Za-z]+)/([A-Za-z0-9\\-.]{1,64})(?:/_history/([0-9]{1,18}))?");
  private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

  private final ResourceStore store;
  private final Set<String> resourceTypes;
  private final ErrorWriter errors;

  FastRead(ResourceStore store, Set<String> resourceTypes, ErrorWriter errors) {
    this.store = store;
    this.resourceTypes = resourceTypes;
    this.errors = errors;
  }

  @Override
  protected void doFilter(HttpServletRequest req, HttpServletResponse resp, FilterChain chain)
      throws IOException, ServletException {
    Matcher m = req.getMethod().equals("GET") && req.getQueryString() == null
        ? PATH.matcher(req.getPathInfo() == null ? "" : req.getPathInfo()) : null;
    if (m == null || !m.matches() || !resourceTypes.contains(m.group(1))
        || Negotiation.responseFormat(req) != Negotiation.Format.JSON || Negotiation.prefersLegacyJson(req)) {
      chain.doFilter(req, resp);
      return;
    }
    StoredJson s;
    try {
      s = m.group(3) == null ? store.readJson(m.group(1), m.group(2))
          : store.vreadJson(m.group(1), m.group(2), Long.parseLong(m.group(3)));
    } catch (StoreUnavailableException e) {
      errors.write(req, resp, Outcomes.toResponse(e));
      return;
    }
    if (s == null || s.deleted()) {
      chain.doFilter(req, resp); // HAPI writes the 404 / 410
      return;
    }
    String etag = "W/\"" + s.version() + "\"";
    resp.setHeader("ETag", etag);
    resp.setHeader("Last-Modified", HTTP_DATE.format(s.lastUpdated()));
    if (notModified(req, s)) {
      resp.setStatus(304);
      return;
    }
    resp.setStatus(200);
    resp.setContentType("application/fhir+json;charset=utf-8");
    byte[] body = s.json();
    String acceptEncoding = req.getHeader("Accept-Encoding");
    if (acceptEncoding != null && acceptEncoding.contains("gzip") && body.length > 256) {
      resp.setHeader("Content-Encoding", "gzip");
      resp.setHeader("Vary", "Accept-Encoding");
      try (OutputStream out = new GZIPOutputStream(resp.getOutputStream(), 4096)) {
        out.write(body);
      }
    } else {
      resp.setContentLength(body.length);
      resp.getOutputStream().write(body);
    }
  }

  private static boolean notModified(HttpServletRequest req, StoredJson s) {
    String ifNoneMatch = req.getHeader("If-None-Match");
    if (ifNoneMatch != null) {
      for (String tag : ifNoneMatch.split(",")) {
        String t = tag.trim();
        if (t.equals("*") || t.equals("W/\"" + s.version() + "\"") || t.equals("\"" + s.version() + "\"")) {
          return true;
        }
      }
      return false;
    }
    long ifModifiedSince;
    try {
      ifModifiedSince = req.getDateHeader("If-Modified-Since");
    } catch (IllegalArgumentException e) {
      return false;
    }
    return ifModifiedSince >= 0
        && !s.lastUpdated().truncatedTo(ChronoUnit.SECONDS).isAfter(Instant.ofEpochMilli(ifModifiedSince));
  }
}
