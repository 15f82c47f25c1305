package io.appointmentserver.http;

import static io.appointmentserver.http.FuzzRequests.patient;
import static io.appointmentserver.http.FuzzRequests.pick;

import io.appointmentserver.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * What {@link FuzzTest} does to a request: bodies truncated, values of the wrong type, huge numbers,
 * deep nesting, bad UTF-8, duplicate keys; content types, charsets, encodings, headers, ids, search
 * parameters, paths and methods; a lying Content-Length or chunks.
 */
final class FuzzMutations {
  private static final String[] CONTENT_TYPES = {
      "application/fhir+json", "application/fhir+json; charset=bogus-42", "application/fhir+json; charset=UTF-16",
      "application/fhir+json; charset=ISO-8859-1", "application/fhir+json; charset=", "application/fhir+json; charset=\"utf-8\"",
      "application/fhir+json; charset=a b", "application/fhir+json;;;", "application/fhir+xml", "application/xml",
      "text/xml; charset=utf-8", "application/json", "application/json+fhir", "text/plain", "application/json-patch+json",
      "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", ";", "*/*", "application/",
      "application/fhir+json, application/fhir+xml", "APPLICATION/FHIR+JSON", "application/fhir+json; q=0.1; charset=utf-8"};
  private static final String[] ACCEPTS = {
      "application/fhir+json", "application/fhir+xml", "application/json+fhir", "*/*", "text/html", "image/png",
      "application/fhir+json;q=abc", "application/fhir+json;q=0", "text/calendar", "", ",,,", "application/*;q=0.5",
      "text/*", "application/fhir+xml;q=0.9, application/fhir+json;q=1.0"};
  private static final String[] IDS = {
      "a_b", "a".repeat(65), "%2F", "..", "%C3%A9", "%00", "-", ".", "a%20b", "$everything", "_history", "_search",
      "fz-p1;x", "fz-p1%3Fx", "%ZZ", "fz-p1/", "0", "é"};
  private static final String[] VERSIONS = {
      "0", "-1", "99999999999999999999", "abc", "1.5", "9223372036854775807", "1e3", "%31", ""};
  private static final String[] PARAM_NAMES = {
      "name", "family", "identifier", "birthdate", "gender", "_id", "_lastUpdated", "_count", "_sort", "_include",
      "_revinclude", "_has:Appointment:patient:status", "_has:Appointment", "general-practitioner.name",
      "general-practitioner:Practitioner.family", "_summary", "_elements", "_total", "_cursor", "_format", "_pretty",
      "status", "date", "actor", "patient", "bogus", "name:exact", "name:contains", "name:missing", "birthdate:missing",
      "identifier:text", "identifier:of-type", "_filter", "_content", "_include:iterate", "_since", "_offset", "_at",
      "phone", "address-postalcode", "death-date", "_tag", "_profile", "_security", "telecom:not", "_id:not",
      "organization:missing", "link", "_list", "multiplebirth", "responsible", "appointmentGroupId", "_snapshot",
      "identifier.bogus", "actor:Patient.birthdate", "patient._id", "_revinclude:iterate", "name:below"};
  private static final String[] PARAM_VALUES = {
      "x", "", ",", "gt2020", "ge1970-01-01", "eq99999-99-99", "2020-13-45", "1e999", "99999999999999999999", "-1",
      "urn:fz|v", "|", "||", "Patient/fz-p1", "true", "maybe", "%ZZ", "%00", "%C3%28", "%E2%82", "x".repeat(3000), "*",
      "Patient:organization", "-name", "name,-birthdate", "count", "json", "xml", "garbage-cursor", "eyJ4IjoxfQ",
      "ap2020", "sa2020-01-01T00:00:00Z", "2020-01-01T25:61:00Z", "lt-2020", "0", "2147483648", "1.5", "NaN",
      "%2C%2C", "a%2Cb%5Cc", "Patient:*", "Appointment:actor:Bogus", "%C0%AF", "%F4%90%80%80", "text",
      "Patient/", "http://x/Patient/1", "Patient?x", "urn:uuid:1", "+", "%20", "99999-01-01", "2020-02-30"};
  private static final String[] PATHS = {
      "/fhir//Patient", "/fhir/Patient/", "/fhir/patient/fz-p1", "/fhir/Patient/fz-p1/_history/", "/fhir/Patient/../Patient/fz-p1",
      "/fhir/Patient/%2e%2e", "/fhir/%00", "/fhir/Patient/fz-p1/$unknown", "/fhir/$meta", "/fhir/_history",
      "/fhir/Patient/fz-p1/_history/1/extra", "/fhir/" + "a".repeat(9000), "/fhir/metadata/extra", "/fhir/Patient;jsessionid=1",
      "/fhir/Patient/fz-p1/$exportAsiCal", "/fhir/Spaceship/1", "/fhir/Patient/fz-p1/%", "/fhir/Patient/%C3%28",
      "/fhir/Patient/fz-p1/_history/%ZZ", "/fhir/Patient/_search", "/fhir/$export", "/fhir/Patient/$validate", "/fhir",
      "/fhir/", "/fhir/Appointment/fz-a1/$exportAsiCal/x", "/fhir/Patient//_history", "/fhir/Patient/fz-p1/*",
      "/health/x", "/", "/fhir/Patient/fz-p1/_history/1/_history/1", "/fhir/AuditEvent/1", "/fhir/AuditEvent/_history"};
  private static final String[] METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "FOO", "TRACE", "get"};

  /** The mutation that frames the body (Content-Length, chunks). */
  private static final int FRAMING = 22;

  private FuzzMutations() {}

  /** One to four mutations at random (of those that need a body, only when there is one), the framing last. */
  static void apply(FuzzRequest r, Random rnd) {
    int mutations = 1 + rnd.nextInt(rnd.nextInt(5) == 0 ? 4 : 2);
    List<Integer> chosen = new ArrayList<>();
    for (int m = 0; m < mutations; m++) {
      chosen.add(rnd.nextInt(r.body != null ? 24 : 14));
    }
    // the framing (a lying Content-Length, chunks) last: it frames the body as finally sent
    chosen.sort(java.util.Comparator.comparing(m -> m == FRAMING));
    for (int m : chosen) {
      mutate(r, rnd, r.body == null && m >= 14 ? rnd.nextInt(14) : m);
    }
  }

  private static void mutate(FuzzRequest r, Random rnd, int m) {
    r.mutations.add(Integer.toString(m));
    switch (m) {
      case 0 -> r.header("Accept", pick(rnd, ACCEPTS));
      case 1 -> r.header(pick(rnd, "Prefer", "Prefer", "If-Match", "If-None-Match", "If-Modified-Since", "If-None-Exist",
          "X-B3-TraceId", "Accept-Encoding", "Cache-Control", "Accept-Charset"), pick(rnd,
          "return=representation", "return=minimal", "return=OperationOutcome", "handling=lenient", "handling=strict",
          "respond-async", "return=", "W/\"1\"", "\"abc\"", "*", "W/\"99999999999999999999\"", "", "W/", "W/\"-1\"",
          "Mon, 07 Dec 2026 10:00:00 GMT", "yesterday", "Mon, 07 Dec 99999 10:00:00 GMT", "identifier=urn:fz|v",
          "%ZZ", "foo=bar", "_count=1", "identifier=urn:fz|v&identifier:missing=x", "x".repeat(5000), "gzip;q=x",
          "no-cache", "utf-8", "Patient?identifier=urn:fz|v", "identifier=%C3%28"));
      case 2 -> { // an id that is not one
        String bad = pick(rnd, IDS);
        r.path = r.path.replaceFirst("fz-(p|a|pr)[0-9]", java.util.regex.Matcher.quoteReplacement(bad.equals("..") ? "fz-.." : bad));
      }
      case 3 -> { // a version that is not one
        r.path = r.path.contains("/_history/") ? r.path.replaceFirst("/_history/[0-9]+", "/_history/" + pick(rnd, VERSIONS))
            : r.path + (rnd.nextBoolean() ? "/_history/" + pick(rnd, VERSIONS) : "");
      }
      case 4, 5 -> { // search parameters, named and valued at random
        StringBuilder q = new StringBuilder(r.query == null ? "" : r.query);
        for (int i = 0; i < 1 + rnd.nextInt(3); i++) {
          q.append(q.length() == 0 ? "" : "&").append(pick(rnd, PARAM_NAMES)).append('=').append(pick(rnd, PARAM_VALUES));
        }
        r.query = q.toString();
        if (r.method.equals("GET") && rnd.nextInt(3) == 0) {
          r.header("Prefer", "handling=lenient");
        }
      }
      case 6 -> r.path = pick(rnd, PATHS);
      case 7 -> r.method = pick(rnd, METHODS);
      case 8 -> r.header("Authorization", pick(rnd, "Bearer", "Bearer x.y.z", "Basic YTpi", "", "Bearer " + "a".repeat(5000),
          "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "bearer " + TestServer.systemToken()));
      case 9 -> {
        String line = pick(rnd, "X-Bytes: caf\u00e9 \u00ff\r\n", "X-Long: " + "y".repeat(20_000) + "\r\n",
            "Broken header line\r\n", "X-Empty:\r\n", "Accept: application/fhir+json\r\nAccept: text/plain\r\n",
            " folded: continuation\r\n", "Content-Type: application/fhir+xml\r\n", "Expect: 100-continue\r\n",
            "Transfer-Encoding: identity\r\n", "Authorization: Bearer x\r\n", "Host: other\r\n", "X-Nul: a\u0000b\r\n");
        r.rawHead += line;
        // a header block the HTTP parser refuses (answered 400 or 431 before the body is read)
        r.unparseable |= !(line.startsWith("X-Empty") || line.startsWith("Accept") || line.startsWith("Content-Type")
            || line.startsWith("Expect") || line.startsWith("Authorization"));
      }
      case 10 -> r.header("Content-Type", pick(rnd, CONTENT_TYPES));
      case 11 -> r.header("Content-Encoding", pick(rnd, "gzip", "deflate", "br", "gzip, identity", "GZIP", "x-gzip",
          "identity", "", "gzip;q=1"));
      case 12 -> { // a query without its parameters' form
        r.query = pick(rnd, "%ZZ", "&&&", "=", "a=b=c", "_format=%ZZ", "_format=json&_format=xml", "_pretty=maybe",
            "_summary=nonsense", "_elements=%00", "?", "#x", "a%5B%5D=1", "_count=1e10", "_count=99999999999", "_count=-0");
      }
      case 13 -> { // a body where none belongs
        if (r.body == null) {
          r.body = patient(null).getBytes(StandardCharsets.UTF_8);
          r.header("Content-Type", "application/fhir+json");
        }
      }
      case 14 -> r.body = java.util.Arrays.copyOf(r.body, r.body.length == 0 ? 0 : rnd.nextInt(r.body.length)); // truncated
      case 15 -> r.body = replaceValue(r.body, rnd, pick(rnd, "123", "true", "null", "{}", "[]", "\"x\"", "[1,2]",
          "{\"a\":1}", "-0", "\"\"", "\"\\ud800\"", "\"a\\u0000b\""));
      case 16 -> r.body = replaceNumber(r.body, rnd, pick(rnd, "1e999999", "99999999999999999999999999999", "-9223372036854775809",
          "1.0e-99999", "0x10", "01", "NaN", "Infinity", "-", "1.", ".5", "2147483648", "1" + "0".repeat(5000)));
      case 17 -> { // deep nesting
        int depth = pick(rnd, 100, 1001, 5000, 10_000);
        String nest = rnd.nextBoolean() ? "[".repeat(depth) + "]".repeat(depth)
            : "{\"url\":\"http://x\",\"extension\":[".repeat(depth) + "]}".repeat(depth);
        r.body = new String(r.body, StandardCharsets.UTF_8).replaceFirst("\\{", java.util.regex.Matcher.quoteReplacement("{\"extension\":[" + nest + "],"))
            .getBytes(StandardCharsets.UTF_8);
      }
      case 18 -> { // bad UTF-8
        byte[] bad = pick(rnd, new byte[] {(byte) 0xC3}, new byte[] {(byte) 0xC0, (byte) 0xAF},
            new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, new byte[] {(byte) 0xFF}, new byte[] {0},
            new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
        int at = r.body.length == 0 ? 0 : rnd.nextInt(r.body.length);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(r.body, 0, at);
        b.writeBytes(bad);
        b.write(r.body, at, r.body.length - at);
        r.body = b.toByteArray();
      }
      case 19 -> { // duplicate keys
        String s = new String(r.body, StandardCharsets.UTF_8);
        r.body = s.replaceFirst("\\{", pick(rnd, "{\"id\":\"fz-other\",", "{\"resourceType\":\"Practitioner\",",
            "{\"resourceType\":\"Patient\",", "{\"meta\":{},\"meta\":{\"versionId\":\"x\"},", "{\"type\":\"batch\","))
            .getBytes(StandardCharsets.UTF_8);
      }
      case 20 -> { // the resource type swapped
        String s = new String(r.body, StandardCharsets.UTF_8);
        r.body = s.replaceFirst("\"resourceType\" ?: ?\"[A-Za-z]+\"", "\"resourceType\":\"" + pick(rnd, "Patient",
            "Appointment", "Bundle", "OperationOutcome", "Parameters", "Binary", "Nope", "patient", "") + "\"")
            .getBytes(StandardCharsets.UTF_8);
      }
      case 21 -> { // gzip, honest or not
        r.header("Content-Encoding", "gzip");
        byte[] gz = gzip(r.body);
        r.body = rnd.nextBoolean() ? gz : java.util.Arrays.copyOf(gz, gz.length / 2);
      }
      case FRAMING -> { // a Content-Length that lies, or chunks
        switch (rnd.nextInt(3)) {
          case 0 -> r.contentLength = r.body.length + 1 + rnd.nextInt(100);
          // a little short: the rest is read as the next request's start (more, unread, and the
          // server's close would reset the connection before the client reads the answer)
          case 1 -> r.contentLength = Math.max(0, r.body.length - 1 - rnd.nextInt(100));
          default -> {
            r.noContentLength = true;
            r.rawHead += "Transfer-Encoding: chunked\r\n";
            r.body = chunked(r, rnd);
          }
        }
      }
      default -> { // bytes flipped at random
        byte[] b = r.body.clone();
        for (int i = 0; i < 1 + rnd.nextInt(5) && b.length > 0; i++) {
          b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
        }
        r.body = b;
      }
    }
  }

  private static byte[] replaceValue(byte[] body, Random rnd, String value) {
    String s = new String(body, StandardCharsets.UTF_8);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(": ?(\"[^\"]*\"|[0-9.]+|true|false)").matcher(s);
    List<int[]> spans = new ArrayList<>();
    while (m.find()) {
      spans.add(new int[] {m.start(1), m.end(1)});
    }
    if (spans.isEmpty()) {
      return body;
    }
    int[] span = spans.get(rnd.nextInt(spans.size()));
    return (s.substring(0, span[0]) + value + s.substring(span[1])).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] replaceNumber(byte[] body, Random rnd, String number) {
    String s = new String(body, StandardCharsets.UTF_8);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?<=: ?)(-?[0-9][0-9.]*)(?=[,}\\] ])").matcher(s);
    if (!m.find()) {
      return replaceValue(body, rnd, number);
    }
    return (s.substring(0, m.start()) + number + s.substring(m.end())).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] gzip(byte[] b) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(b);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  /** The body in chunks; now and then a broken chunk size. */
  private static byte[] chunked(FuzzRequest r, Random rnd) {
    byte[] body = r.body;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    while (at < body.length) {
      int n = Math.min(body.length - at, 1 + rnd.nextInt(200));
      String size = rnd.nextInt(20) == 0 ? pick(rnd, "zz", "-1", "FFFFFFFFFFFF", "") : Integer.toHexString(n);
      r.unparseable |= !size.equals(Integer.toHexString(n));
      out.writeBytes((size + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.write(body, at, n);
      out.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
      at += n;
    }
    out.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
    return out.toByteArray();
  }
}
