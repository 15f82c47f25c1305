package io.appointmentserver.http;

import java.net.URLDecoder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Locale;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import io.appointmentserver.rest.BundleProvider;
import io.appointmentserver.interaction.Outcomes;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;

/**
 * Turns away what the server cannot take before any work is done: an unsupported Accept (406),
 * an unsupported Content-Type or Content-Encoding (415), a body over the limit (413, counted
 * after decompression, so a small gzip bomb is caught too). A gzip body is inflated here, and a
 * UTF-8 byte order mark dropped, so everything behind sees plain bytes.
 */
final class RequestGuard extends HttpFilter {
  private static final Set<String> BODY_TYPES = Set.of(
      "application/fhir+json", "application/json+fhir", "application/json",
      "application/fhir+xml", "application/xml+fhir", "application/xml", "text/xml",
      "application/json-patch+json", "application/x-www-form-urlencoded");

  /** The methods of the FHIR REST API (and HEAD, OPTIONS). */
  private static final java.util.List<String> METHODS =
      java.util.List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

  private final long maxBody;
  private final ErrorWriter errors;

  RequestGuard(long maxBody, ErrorWriter errors) {
    this.maxBody = maxBody;
    this.errors = errors;
  }

  @Override
  protected void doFilter(HttpServletRequest req, HttpServletResponse resp, FilterChain chain)
      throws IOException, ServletException {
    // the container and HAPI decode the query later, where a bad escape would be a 500
    String badQuery = undecodable(req.getQueryString());
    if (badQuery != null) {
      errors.write(req, resp, 400, IssueType.INVALID, "The query string is not valid URL-encoded UTF-8 (or holds a NUL): " + badQuery);
      return;
    }
    // the container's getContentType() throws on a charset Java does not know (a 500)
    String header = req.getHeader("Content-Type");
    String unsupported = header == null ? null : unsupportedCharset(header);
    if (unsupported != null) {
      errors.write(req, resp, 415, IssueType.NOTSUPPORTED, "The charset " + unsupported
          + " of the Content-Type is not supported; send UTF-8");
      return;
    }
    if (!METHODS.contains(req.getMethod())) {
      // HTTP methods are case-sensitive: "get" is no GET; HAPI answered these with a 501
      resp.setHeader("Allow", String.join(", ", METHODS));
      errors.write(req, resp, 405, IssueType.NOTSUPPORTED, "The method " + req.getMethod()
          + " is not supported; use " + String.join(", ", METHODS));
      return;
    }
    if (Negotiation.responseFormat(req) == null) {
      errors.write(req, resp, 406, IssueType.NOTSUPPORTED, "None of the formats in "
          + (Negotiation.formatParam(req) != null ? "_format=" + Negotiation.formatParam(req)
              : "Accept: " + req.getHeader("Accept"))
          + " can be produced; use application/fhir+json or application/fhir+xml");
      return;
    }
    String ifModifiedSince = req.getHeader("If-Modified-Since");
    if (ifModifiedSince != null && ca.uhn.fhir.util.DateUtils.parseDate(ifModifiedSince) == null) {
      // not an HTTP date: ignored, as RFC 9110 (13.1.3) says (HAPI's read failed on it with a 500)
      req = new WithoutHeader(req, "If-Modified-Since");
    }
    String method = req.getMethod();
    if (!(method.equals("POST") || method.equals("PUT") || method.equals("PATCH"))) {
      if (req.getContentLengthLong() > 0 || req.getHeader("Transfer-Encoding") != null) {
        // a body where none belongs is read and dropped: answered unread, Jetty would close the
        // connection under a client still sending it, which then never sees the answer
        if (req.getContentLengthLong() > maxBody || readBody(req.getInputStream()) == null) {
          tooLarge(req, resp);
          return;
        }
      }
      chain.doFilter(req, resp);
      return;
    }
    long declared = req.getContentLengthLong();
    if (declared > maxBody) {
      tooLarge(req, resp);
      return;
    }
    String encoding = req.getHeader("Content-Encoding");
    boolean gzip = false;
    if (encoding != null && !encoding.isBlank() && !encoding.equalsIgnoreCase("identity")) {
      if (!encoding.trim().equalsIgnoreCase("gzip")) {
        errors.write(req, resp, 415, IssueType.NOTSUPPORTED,
            "Content-Encoding " + encoding + " is not supported; use gzip or none");
        return;
      }
      gzip = true;
    }
    byte[] body;
    try {
      body = gzip ? readBody(new GZIPInputStream(req.getInputStream()))
          : declared >= 0 ? readBody(req.getInputStream(), (int) declared) : readBody(req.getInputStream());
    } catch (ZipException | java.io.EOFException e) { // the latter: a gzip stream cut short
      errors.write(req, resp, 400, IssueType.STRUCTURE, "The gzip body cannot be decompressed: " + e.getMessage());
      return;
    } catch (OutOfMemoryError e) {
      outOfMemory(req, resp, e);
      return;
    }
    if (body == null) {
      tooLarge(req, resp);
      return;
    }
    String contentType = req.getHeader("Content-Type");
    if (body.length > 0 && (contentType == null
        || !BODY_TYPES.contains(Negotiation.mediaType(contentType)))) {
      errors.write(req, resp, 415, IssueType.NOTSUPPORTED, "Content-Type " + contentType
          + " is not supported; send application/fhir+json or application/fhir+xml");
      return;
    }
    if (contentType != null && Negotiation.mediaType(contentType).equals(FORM)) {
      // a form is a search's parameters (POST [type]/_search); as a resource it is no FHIR format
      if (!method.equals("POST")) {
        errors.write(req, resp, 415, IssueType.NOTSUPPORTED, "Content-Type " + FORM + " is only taken by a POST"
            + " search; send application/fhir+json or application/fhir+xml");
        return;
      }
      String bad = undecodable(new String(body, StandardCharsets.UTF_8));
      if (bad != null) {
        errors.write(req, resp, 400, IssueType.INVALID, "The form body is not valid URL-encoded UTF-8 (or holds a NUL): " + bad);
        return;
      }
    }
    body = withoutByteOrderMark(body);
    // the body once: a Bundle reads it from here rather than from a copy (rest.BundleProvider)
    try {
      chain.doFilter(new BufferedBody(req, body), resp);
    } catch (OutOfMemoryError e) {
      // what HAPI did not answer itself; a transaction has rolled back (TransactionScope)
      outOfMemory(req, resp, e);
    }
  }

  private static final String FORM = "application/x-www-form-urlencoded";

  /**
   * The first {@code name=value} pair of {@code query} (a query string or form body) that does not
   * decode: a broken %-escape or bytes that are not UTF-8; null when all decode.
   */
  static String undecodable(String query) {
    if (query == null || query.isEmpty()) {
      return null;
    }
    for (String pair : query.split("&")) {
      try {
        decode(pair);
      } catch (IllegalArgumentException | CharacterCodingException e) {
        return pair.length() > 100 ? pair.substring(0, 100) + "..." : pair;
      }
    }
    return null;
  }

  /** URL-decoding as UTF-8 that refuses malformed escapes and malformed UTF-8 (URLDecoder replaces those). */
  static String decode(String s) throws CharacterCodingException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
    int plain = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%' || c == '+') {
        bytes.writeBytes(s.substring(plain, i).getBytes(StandardCharsets.UTF_8));
        if (c == '+') {
          bytes.write(' ');
        } else if (i + 2 < s.length() && hex(s.charAt(i + 1)) >= 0 && hex(s.charAt(i + 2)) >= 0) {
          bytes.write(hex(s.charAt(i + 1)) * 16 + hex(s.charAt(i + 2)));
          i += 2;
        } else {
          throw new IllegalArgumentException("a % not followed by two hex digits");
        }
        plain = i + 1;
      }
    }
    bytes.writeBytes(s.substring(plain).getBytes(StandardCharsets.UTF_8));
    String decoded = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
    if (decoded.indexOf('\u0000') >= 0) {
      // no stored text holds one (PostgreSQL's text cannot): a search for it would fail in the database
      throw new IllegalArgumentException("a NUL character");
    }
    return decoded;
  }

  private static int hex(char c) {
    return c < 128 ? Character.digit(c, 16) : -1;
  }

  /** The charset parameter of {@code contentType} when Java does not know it; null when absent or known. */
  private static String unsupportedCharset(String contentType) {
    for (String param : contentType.split(";")) {
      String p = param.trim();
      if (p.regionMatches(true, 0, "charset=", 0, 8)) {
        String name = p.substring(8).trim().replace("\"", "");
        try {
          return Charset.isSupported(name) ? null : name;
        } catch (IllegalArgumentException e) { // an illegal name
          return name;
        }
      }
    }
    return null;
  }

  private void outOfMemory(HttpServletRequest req, HttpServletResponse resp, OutOfMemoryError e) throws IOException {
    if (!resp.isCommitted()) {
      resp.reset();
      errors.write(req, resp, Outcomes.toResponse(e));
    }
  }

  /** A body of the declared length, read into one array of that size; null when more comes. */
  private static byte[] readBody(InputStream in, int length) throws IOException {
    byte[] body = in.readNBytes(length);
    return body.length < length || in.read() >= 0 ? null : body;
  }

  /** JSON (RFC 8259) and XML parsers may ignore a UTF-8 byte order mark; HAPI's do not. */
  private static byte[] withoutByteOrderMark(byte[] body) {
    if (body.length >= 3 && (body[0] & 0xFF) == 0xEF && (body[1] & 0xFF) == 0xBB && (body[2] & 0xFF) == 0xBF) {
      return java.util.Arrays.copyOfRange(body, 3, body.length);
    }
    return body;
  }

  private void tooLarge(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    errors.write(req, resp, 413, IssueType.TOOCOSTLY,
        "The request body is larger than the limit of " + maxBody + " bytes");
  }

  /** The whole body, or null when it is larger than the limit. */
  private byte[] readBody(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[16384];
    long total = 0;
    for (int n; (n = in.read(buf)) > 0; ) {
      total += n;
      if (total > maxBody) {
        return null;
      }
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }

  /** The request without one of its headers. */
  private static final class WithoutHeader extends HttpServletRequestWrapper {
    private final String name;

    WithoutHeader(HttpServletRequest req, String name) {
      super(req);
      this.name = name;
    }

    @Override
    public String getHeader(String n) {
      return n.equalsIgnoreCase(name) ? null : super.getHeader(n);
    }

    @Override
    public Enumeration<String> getHeaders(String n) {
      return n.equalsIgnoreCase(name) ? Collections.emptyEnumeration() : super.getHeaders(n);
    }

    @Override
    public long getDateHeader(String n) {
      return n.equalsIgnoreCase(name) ? -1 : super.getDateHeader(n);
    }

    @Override
    public Enumeration<String> getHeaderNames() {
      return Collections.enumeration(Collections.list(super.getHeaderNames()).stream()
          .filter(h -> !h.equalsIgnoreCase(name)).toList());
    }
  }

  /** The request with its body already read (and inflated). */
  /** The request with its body as read here: HAPI reads it from memory, a Bundle takes the bytes themselves. */
  private static final class BufferedBody extends HttpServletRequestWrapper implements BundleProvider.ReadBody {
    private final byte[] body;

    BufferedBody(HttpServletRequest req, byte[] body) {
      super(req);
      this.body = body;
    }

    @Override
    public byte[] body() {
      return body;
    }

    @Override
    public ServletInputStream getInputStream() {
      ByteArrayInputStream in = new ByteArrayInputStream(body);
      return new ServletInputStream() {
        @Override public int read() { return in.read(); }
        @Override public int read(byte[] b, int off, int len) { return in.read(b, off, len); }
        @Override public boolean isFinished() { return in.available() == 0; }
        @Override public boolean isReady() { return true; }
        @Override public void setReadListener(ReadListener l) { throw new UnsupportedOperationException(); }
      };
    }

    @Override
    public BufferedReader getReader() {
      String enc = getCharacterEncoding();
      Charset cs = enc == null ? StandardCharsets.UTF_8 : Charset.forName(enc);
      return new BufferedReader(new InputStreamReader(new ByteArrayInputStream(body), cs));
    }

    @Override
    public int getContentLength() {
      return body.length;
    }

    private Map<String, String[]> parameters;

    /**
     * The query's parameters and, for a form ({@code POST [type]/_search}), the body's: the
     * container can no longer read them from the body, which was read here.
     */
    @Override
    public Map<String, String[]> getParameterMap() {
      if (parameters == null) {
        Map<String, String[]> all = new LinkedHashMap<>(super.getParameterMap());
        String type = getContentType();
        if (type != null && type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")
            && body.length > 0) {
          for (String pair : new String(body, StandardCharsets.UTF_8).split("&")) {
            if (pair.isEmpty()) {
              continue;
            }
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            String[] old = all.get(name);
            String[] now = old == null ? new String[1] : Arrays.copyOf(old, old.length + 1);
            now[now.length - 1] = value;
            all.put(name, now);
          }
        }
        parameters = Collections.unmodifiableMap(all);
      }
      return parameters;
    }

    @Override
    public String getParameter(String name) {
      String[] v = getParameterMap().get(name);
      return v == null || v.length == 0 ? null : v[0];
    }

    @Override
    public String[] getParameterValues(String name) {
      return getParameterMap().get(name);
    }

    @Override
    public Enumeration<String> getParameterNames() {
      return Collections.enumeration(getParameterMap().keySet());
    }

    @Override
    public long getContentLengthLong() {
      return body.length;
    }

    @Override
    public String getHeader(String name) {
      if (name.equalsIgnoreCase("Content-Encoding")) {
        return null;
      }
      if (name.equalsIgnoreCase("Content-Length")) {
        return Integer.toString(body.length);
      }
      return super.getHeader(name);
    }

    @Override
    public Enumeration<String> getHeaders(String name) {
      if (name.toLowerCase(Locale.ROOT).equals("content-encoding")) {
        return Collections.emptyEnumeration();
      }
      return super.getHeaders(name);
    }
  }
}
