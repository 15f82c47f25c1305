package io.appointmentserver.http;

import io.appointmentserver.rest.BrowserPages;
import io.appointmentserver.interaction.DeclaredSurface;
import io.appointmentserver.interaction.Ids;
import io.appointmentserver.interaction.Outcomes;
import io.appointmentserver.interaction.Read;
import io.appointmentserver.security.Caller;
import io.appointmentserver.security.ForbiddenException;
import io.appointmentserver.store.StoreUnavailableException;
import io.appointmentserver.store.StoredJson;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.ee10.servlet.HttpOutput;

/**
 * The read hot path: a plain JSON read or vread sends the stored bytes without parsing or
 * re-serializing them. Anything else (XML, {@code _summary}, {@code _elements}, not found,
 * deleted, HEAD) goes on to HAPI's RestfulServer, which answers it the general way.
 */
final class FastRead extends HttpFilter {
  private static final Pattern PATH = Pattern.compile(
      "/([A-Z][A-Za-z]+)/(" + Ids.ID_PATTERN + ")(?:/_history/([0-9]{1,18}))?");

  private final Read read;
  private final Set<String> resourceTypes;
  private final DeclaredSurface surface;
  private final ErrorWriter errors;
  private final String configuredBase;
  private final GzipCache gzipped = new GzipCache(32 << 20);

  /**
   * {@code surface}: what the server declares (a read it does not declare goes on to HAPI, which
   * refuses it); {@code configuredBase} is the public base URL, or null to use the one each request was sent to.
   */
  FastRead(Read read, Set<String> resourceTypes, DeclaredSurface surface, ErrorWriter errors, String configuredBase) {
    this.read = read;
    this.resourceTypes = resourceTypes;
    this.surface = surface;
    this.errors = errors;
    this.configuredBase = configuredBase;
  }

  @Override
  protected void doFilter(HttpServletRequest req, HttpServletResponse resp, FilterChain chain)
      throws IOException, ServletException {
    Matcher m = req.getMethod().equals("GET") && req.getQueryString() == null
        ? PATH.matcher(req.getPathInfo() == null ? "" : req.getPathInfo()) : null;
    if (m == null || !m.matches() || !resourceTypes.contains(m.group(1))
        || !surface.declaresInteraction(m.group(1), m.group(3) == null ? "read" : "vread")
        || Negotiation.responseFormat(req) != Negotiation.Format.JSON || Negotiation.prefersLegacyJson(req)
        || BrowserPages.wanted(req)) { // a browser gets HAPI's HTML page
      chain.doFilter(req, resp);
      return;
    }
    String type = m.group(1);
    Caller caller = Caller.of(req);
    StoredJson s;
    try {
      // the read interaction, as the HAPI path runs it: privilege, context, the resource's context, audit
      s = read.stored(caller, type, m.group(2), m.group(3) == null ? null : Long.valueOf(m.group(3)));
      if (s == null || s.deleted()) {
        chain.doFilter(req, resp); // HAPI writes the 404 / 410
        return;
      }
    } catch (StoreUnavailableException | ForbiddenException e) {
      errors.write(req, resp, Outcomes.toResponse(e));
      return;
    }
    String etag = Ids.etag(s.version());
    resp.setHeader("ETag", etag);
    resp.setDateHeader("Last-Modified", s.lastUpdated().toEpochMilli());
    resp.setHeader("Content-Location", RequestBase.of(req, configuredBase) + "/" + Ids.versioned(s.type(), s.id(), s.version()));
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
      body = gzipped.get(s.type(), s.id(), s.version(), body);
    }
    resp.setContentLength(body.length);
    if (resp.getOutputStream() instanceof HttpOutput out) {
      out.sendContent(ByteBuffer.wrap(body)); // headers and body in one write, no copy
    } else {
      resp.getOutputStream().write(body);
    }
  }

  private static boolean notModified(HttpServletRequest req, StoredJson s) {
    String ifNoneMatch = req.getHeader("If-None-Match");
    if (ifNoneMatch != null) {
      for (String tag : ifNoneMatch.split(",")) {
        String t = tag.trim();
        if (t.equals("*") || t.equals(Ids.etag(s.version())) || t.equals("\"" + s.version() + "\"")) {
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
