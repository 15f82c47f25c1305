package io.appointmentserver.rest;

import io.appointmentserver.interaction.Ids;
import io.appointmentserver.interaction.Outcomes;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.interceptor.ResponseHighlighterInterceptor;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.text.StringEscapeUtils;
import org.hl7.fhir.instance.model.api.IBaseConformance;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * HTML for browsers: HAPI's {@link ResponseHighlighterInterceptor} renders what a browser asks
 * for (reads, searches, history, {@code /metadata}, errors) as a page with the resource; this
 * server's URLs and the relative references in it are made links here (HAPI 8 no longer links
 * anything in the body). {@link #wanted} is the interceptor's own rule, so that the paths that answer
 * without HAPI's rendering (the stored JSON of {@code http.FastRead} and {@link StoredResponses})
 * step aside for exactly the requests it will render. A browser cannot send a bearer token: an
 * unauthenticated one gets {@link #unauthorized}, a 401 page that says how to get and send one.
 */
@Interceptor
public final class BrowserPages {
  private final ResponseHighlighterInterceptor renderer = new ResponseHighlighterInterceptor();
  private final Set<String> resourceTypes;

  public BrowserPages(Set<String> resourceTypes) {
    this.resourceTypes = resourceTypes;
    renderer.setShowRequestHeaders(false); // they hold the bearer token
    renderer.setShowResponseHeaders(true); // ETag, Location, warnings
  }

  @Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
  public boolean outgoing(RequestDetails request, ResponseDetails response, HttpServletRequest req,
      HttpServletResponse resp) throws IOException {
    if (!wanted(req)) {
      return true;
    }
    Page page = new Page(resp);
    boolean goOn = renderer.outgoingResponse(request, response, req, page);
    return goOn || page.send(request);
  }

  @Hook(Pointcut.SERVER_HANDLE_EXCEPTION)
  public boolean failed(RequestDetails request, BaseServerResponseException e, HttpServletRequest req,
      HttpServletResponse resp) throws IOException {
    if (!wanted(req)) {
      return true;
    }
    if (e.getOperationOutcome() == null) {
      // the renderer shows an outcome only; HAPI's own (a 404's, …) are made after this hook
      e.setOperationOutcome(Outcomes.error(IssueType.PROCESSING, e.getMessage()));
    }
    Page page = new Page(resp);
    boolean goOn = renderer.handleException(request, e, req, page);
    return goOn || page.send(request);
  }

  /** Adds {@code html/json} and {@code html/xml} to the statement's formats. */
  @Hook(Pointcut.SERVER_CAPABILITY_STATEMENT_GENERATED)
  public void capabilities(RequestDetails request, IBaseConformance statement) {
    renderer.capabilityStatementGenerated(request, statement);
  }

  /** HAPI's page quotes each string of the resource; the server's URLs and references become links. */
  private static final Pattern QUOTED = Pattern.compile("&quot;([^<]*?)&quot;");
  private static final Pattern RELATIVE_REFERENCE =
      Pattern.compile("([A-Z][A-Za-z]+)/" + Ids.ID_PATTERN + "(?:/_history/[0-9]{1,18})?");

  /** {@code html} with each quoted URL of this server and each {@code Type/id} a link to it. */
  String linked(String html, String base) {
    Matcher m = QUOTED.matcher(html);
    StringBuilder out = new StringBuilder(html.length() + 1024);
    while (m.find()) {
      String value = m.group(1);
      // the text as shown is escaped for HTML, and an XML page's once more for XML
      String url = StringEscapeUtils.unescapeHtml4(StringEscapeUtils.unescapeHtml4(value));
      String href = null;
      if (url.startsWith(base + "/") || url.equals(base)) {
        href = url;
      } else {
        Matcher r = RELATIVE_REFERENCE.matcher(url);
        if (r.matches() && resourceTypes.contains(r.group(1))) {
          href = base + "/" + url;
        }
      }
      m.appendReplacement(out, Matcher.quoteReplacement(href == null ? m.group()
          : "&quot;<a href=\"" + escape(href) + "\">" + value + "</a>&quot;"));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** Holds the page HAPI writes, to send it with its links. */
  private final class Page extends HttpServletResponseWrapper {
    private final StringWriter text = new StringWriter();
    private final PrintWriter writer = new PrintWriter(text);

    Page(HttpServletResponse resp) {
      super(resp);
    }

    @Override
    public PrintWriter getWriter() {
      return writer;
    }

    @Override
    public void setContentLength(int len) {
      // set once the links are in
    }

    @Override
    public void setContentLengthLong(long len) {
      // set once the links are in
    }

    @Override
    public void setHeader(String name, String value) {
      if (!name.equalsIgnoreCase("Content-Length")) {
        super.setHeader(name, value);
      }
    }

    @Override
    public void addHeader(String name, String value) {
      if (!name.equalsIgnoreCase("Content-Length")) {
        super.addHeader(name, value);
      }
    }

    /** Sends the page; false: the request is answered. */
    boolean send(RequestDetails request) throws IOException {
      writer.flush();
      byte[] bytes = linked(text.toString(), request.getFhirServerBase()).getBytes(StandardCharsets.UTF_8);
      HttpServletResponse resp = (HttpServletResponse) getResponse();
      resp.setContentLength(bytes.length);
      resp.getOutputStream().write(bytes);
      return false;
    }
  }

  /**
   * True when the response is to be an HTML page, as {@link ResponseHighlighterInterceptor}
   * decides: {@code _format} one of the HTML formats ({@code html}, {@code text/html},
   * {@code html/json}, {@code html/xml}); or, without {@code _format}, a GET whose Accept ranks
   * {@code text/html} highest and that is no script's (no {@code X-Requested-With}, no
   * {@code Origin}).
   */
  public static boolean wanted(HttpServletRequest req) {
    String format = formatParameter(req.getQueryString());
    if (format != null && !format.isBlank()) {
      int semi = format.indexOf(';');
      return isHtmlFormat((semi < 0 ? format : format.substring(0, semi)).trim());
    }
    String accept = req.getHeader("Accept");
    return accept != null && accept.contains("html") && "GET".equals(req.getMethod())
        && req.getHeader("X-Requested-With") == null && req.getHeader("Origin") == null
        && RestfulServerUtils.parseAcceptHeaderAndReturnHighestRankedOptions(req).contains(Constants.CT_HTML);
  }

  /** True for the formats of {@code _format} that ask for a page ({@code html/xml} among them). */
  public static boolean isHtmlFormat(String format) {
    return Constants.FORMATS_HTML.contains(format) || format.equals("html/json") || format.equals("html/xml");
  }

  /**
   * The {@code _format} of a query string, decoded, or null; null too for a broken %-escape, which
   * RequestGuard refuses (answering in the default format), as nothing may throw before it has.
   */
  public static String formatParameter(String query) {
    if (query == null || !query.contains("_format=")) {
      return null;
    }
    for (String pair : query.split("&")) {
      if (pair.startsWith("_format=")) {
        try {
          return URLDecoder.decode(pair.substring(8), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          return null;
        }
      }
    }
    return null;
  }

  /**
   * The 401 for a browser: a page that says why and how to send a token (the statement's
   * {@code rest.security} names the token endpoint). Tokens are not taken from the URL
   * ({@code ?access_token=}): they would end up in browser histories, logs and Referer headers.
   */
  public static void unauthorized(HttpServletRequest req, HttpServletResponse resp, BaseServerResponseException e)
      throws IOException {
    String metadata = req.getContextPath() + req.getServletPath() + "/metadata";
    String page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>401 Unauthorized</title>"
        + "</head><body>\n<h1>401 Unauthorized</h1>\n<p>" + escape(e.getMessage()) + "</p>\n"
        + "<p>Every request to this FHIR server but <a href=\"" + escape(metadata) + "\">metadata</a> needs an OAuth"
        + " bearer token in the <code>Authorization</code> header, which a browser does not send by itself."
        + " Where to get one is in the <a href=\"" + escape(metadata) + "\">CapabilityStatement</a>"
        + " (<code>rest.security</code>: the token endpoint; in dev mode the server's <code>token</code> command)."
        + " Send it with a tool, e.g.</p>\n<pre>curl -H 'Authorization: Bearer $TOKEN' -H 'Accept: text/html' "
        + escape(req.getRequestURL().toString()) + "</pre>\n<p>or with a browser extension that adds the"
        + " header; the server then answers the browser with pages like this one. Tokens are not accepted"
        + " in the URL.</p>\n</body></html>\n";
    resp.resetBuffer();
    resp.setStatus(e.getStatusCode());
    Map<String, List<String>> headers = e.getResponseHeaders();
    if (headers != null) {
      headers.forEach((k, vs) -> vs.forEach(v -> resp.addHeader(k, v)));
    }
    resp.setContentType("text/html;charset=utf-8");
    byte[] bytes = page.getBytes(StandardCharsets.UTF_8);
    resp.setContentLength(bytes.length);
    resp.getOutputStream().write(bytes);
  }

  private static String escape(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
