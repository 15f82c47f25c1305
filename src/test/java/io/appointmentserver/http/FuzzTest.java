package io.appointmentserver.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.appointmentserver.support.Http;
import io.appointmentserver.support.RawHttp;
import io.appointmentserver.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/**
 * Mutated requests over a raw socket, across every interaction (read, vread, create, update,
 * patch, delete, history, search, batch, transaction, the conditional ones, $exportAsiCal):
 * bodies truncated, values of the wrong type, huge numbers, deep nesting, bad UTF-8, duplicate
 * keys; content types, charsets, encodings, headers, ids, search parameters and paths. No request
 * may get a 5xx or go unanswered, every error is an OperationOutcome, a refused write changes
 * nothing in the database, and the server answers normally afterwards.
 *
 * <p>Seeded: a fixed seed by default, {@code -Dfuzz.seed=random} for a new one, {@code -Dfuzz.seed=N}
 * repeats a run (the seed is printed, and named in a failure);
 * {@code -Dfuzz.requests=N} sets how many requests (5,000 by default). Writes go to ids
 * {@code fz-*} and conditional criteria always include the identifier system {@code urn:fz}, so
 * the fuzzer touches no other test's resources.
 */
class FuzzTest {
  /**
   * The same requests on every build by default, so that a build's verdict is the code's, not the
   * draw's; {@code -Dfuzz.seed=random} explores new ones (and prints the seed that repeats a failure).
   */
  private static final long SEED = "random".equals(System.getProperty("fuzz.seed")) ? System.nanoTime()
      : Long.getLong("fuzz.seed", 20_261_207L);
  private static final int REQUESTS = Integer.getInteger("fuzz.requests", 5000);
  /** Long enough for any honest answer on a busy machine; a request past it has hung. */
  private static final int ANSWER_WITHIN_MILLIS = 60_000;

  private final String base = TestServer.base();
  private String appointment;

  /** One request as it goes on the wire; {@code writes}: it may change the database. */
  private static final class Req {
    String method;
    String path;
    String query;
    final List<String[]> headers = new ArrayList<>();
    byte[] body;
    boolean writes;
    String interaction;
    String rawHead = ""; // header lines added as bytes (non-ASCII, broken ones)
    boolean noContentLength;
    /** The header block or the chunk framing cannot be parsed: HTTP/1.1 has the server answer 400 and close. */
    boolean unparseable;
    Integer contentLength;
    final List<String> mutations = new ArrayList<>();

    String target() {
      return path + (query == null ? "" : "?" + query);
    }

    void header(String name, String value) {
      headers.removeIf(h -> h[0].equalsIgnoreCase(name));
      headers.add(new String[] {name, value});
    }

    String describe() {
      String b = body == null ? "" : new String(body, 0, Math.min(body.length, 300), StandardCharsets.ISO_8859_1);
      StringBuilder h = new StringBuilder();
      headers.forEach(x -> h.append(x[0]).append(": ").append(x[1].length() > 120 ? x[1].substring(0, 120) + "..." : x[1])
          .append(" | "));
      String t = target();
      return method + " " + (t.length() > 300 ? t.substring(0, 300) + "..." : t) + " [" + h + rawHead.replace("\r\n", " | ")
          + "] mutations " + mutations + " body " + b;
    }
  }

  private static final String PRACTITIONER =
      "{\"resourceType\":\"Practitioner\",\"id\":\"fz-pr1\",\"name\":[{\"family\":\"Fuzz\"}]}";

  @Test
  void mutatedRequestsAreRefusedCleanly() throws Exception {
    System.out.println("FuzzTest seed " + SEED + " (-Dfuzz.seed=" + SEED + " repeats it), " + REQUESTS + " requests");
    String seed = Files.readString(TestServer.sharedDir().resolve("seed/request-body.json"));
    appointment = seed.replace("\"id\" : \"309\"", "\"id\" : \"fz-a1\"").replace("Patient/240", "Patient/fz-p1");
    put("Practitioner/fz-pr1", PRACTITIONER);
    put("Patient/fz-p1", patient("fz-p1"));
    put("Appointment/fz-a1", appointment);

    // one connection for the whole run: a new one per request cost more than the requests themselves
    try (Connection db = TestServer.postgres().getPostgresDatabase().getConnection()) {
      run(db);
    }
    // and the server still answers as before
    // (the fuzzer may have deleted its own resources, the practitioner a patient refers to too: new
    // ones are written and read)
    put("Practitioner/fz-pr1", PRACTITIONER);
    put("Patient/fz-alive", patient("fz-alive"));
    assertThat(Http.get(base + "/Patient/fz-alive").statusCode()).isEqualTo(200);
    assertThat(Http.get(base + "/metadata").statusCode()).isEqualTo(200);
    assertThat(Http.get(base + "/Patient?identifier=urn:fz%7Cv").statusCode()).isEqualTo(200);
    assertThat(Http.get(base.replace("/fhir", "/health")).statusCode()).isEqualTo(200);
  }

  private void run(Connection db) throws Exception {
    Random rnd = new Random(SEED);
    List<String> failures = new ArrayList<>();
    Map<String, Integer> statuses = new TreeMap<>();
    Map<String, Long> millis = new TreeMap<>();
    long started = System.nanoTime();
    for (int i = 0; i < REQUESTS && failures.size() < 15; i++) {
      Req r = generate(rnd);
      long[] before = r.writes ? fingerprint(db) : null;
      RawHttp.Response resp;
      long sent = System.nanoTime();
      try {
        resp = RawHttp.send(r.method, r.target(), head(r), r.body, ANSWER_WITHIN_MILLIS);
        millis.merge(r.interaction, (System.nanoTime() - sent) / 1_000_000, Long::sum);
      } catch (RawHttp.SendFailed e) {
        // the server answered an unparseable request and closed while the body was still on its
        // way: the answer may be lost in TCP's reset, as with any HTTP/1.1 server; the next request
        // shows the server alive
        if (!r.unparseable) {
          failures.add("#" + i + " no answer (" + e + "): " + r.describe());
        }
        statuses.merge(r.method + " closed while sending", 1, Integer::sum);
        continue;
      } catch (IOException e) {
        failures.add("#" + i + " no answer (" + e + "): " + r.describe());
        continue;
      }
      statuses.merge(r.method + " " + resp.status(), 1, Integer::sum);
      String problem = check(r, resp);
      if (problem == null && before != null && resp.status() >= 400) {
        long[] after = fingerprint(db);
        if (after[0] != before[0] || after[1] != before[1]) {
          problem = "refused with " + resp.status() + " but the database changed";
        }
      }
      if (problem != null) {
        failures.add("#" + i + " " + problem + ": " + r.describe() + " -> " + resp.status() + " "
            + resp.text().substring(0, Math.min(400, resp.text().length())));
      }
    }
    System.out.printf("FuzzTest: %d requests in %d ms (ms per interaction %s), statuses %s%n", REQUESTS,
        (System.nanoTime() - started) / 1_000_000, millis, statuses);
    assertThat(failures).as("seed " + SEED + " (repeat with -Dfuzz.seed=" + SEED + ")").isEmpty();
  }

  private static boolean askedForHtml(Req r) {
    boolean accept = r.headers.stream().anyMatch(h -> h[0].equalsIgnoreCase("Accept") && h[1].contains("html"));
    return accept || (r.query != null && r.query.contains("_format=") && r.query.contains("html"));
  }

  /** Why the answer is wrong; null when it is right. */
  private static String check(Req r, RawHttp.Response resp) {
    if (resp.status() < 0) {
      return "connection closed without an answer";
    }
    if (resp.status() >= 500) {
      return "server error";
    }
    if (resp.status() >= 400 && !r.method.equals("HEAD")) {
      String type = resp.header("Content-Type");
      if (type != null && type.contains("text/html")) {
        // a browser's error is a page (api.BrowserPages): only for a request that asked for one
        return askedForHtml(r) && resp.text().contains("<html") ? null : "an HTML page nobody asked for";
      }
      if (type == null || !(type.contains("json") || type.contains("xml")) || !resp.text().contains("OperationOutcome")) {
        return "an error without an OperationOutcome";
      }
    }
    return null;
  }

  /** The newest history row's time and the rows at that time: changed by any write, cheap (an index). */
  private static long[] fingerprint(Connection c) throws Exception {
    try (Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT (extract(epoch FROM m) * 1000000)::bigint, (SELECT count(*)"
             + " FROM resource_history WHERE last_updated = m) FROM (SELECT max(last_updated) AS m FROM resource_history) x")) {
      rs.next();
      return new long[] {rs.getLong(1), rs.getLong(2)};
    }
  }

  private void put(String path, String json) {
    int status = Http.put(base + "/" + path, json).statusCode();
    assertThat(status).as(path).isIn(200, 201);
  }

  private static String patient(String id) {
    return "{\"resourceType\":\"Patient\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
        + ",\"identifier\":[{\"system\":\"urn:fz\",\"value\":\"v\"}],\"active\":true,"
        + "\"name\":[{\"family\":\"Fuzz\",\"given\":[\"Fuzzy\"]}],\"gender\":\"female\",\"birthDate\":\"1970-01-01\","
        + "\"multipleBirthInteger\":2,\"generalPractitioner\":[{\"reference\":\"Practitioner/fz-pr1\"}]}";
  }

  private static String headString(Req r) {
    StringBuilder h = new StringBuilder();
    for (String[] x : r.headers) {
      h.append(x[0]).append(": ").append(x[1]).append("\r\n");
    }
    return h.toString();
  }

  private static String head(Req r) {
    String h = headString(r) + r.rawHead;
    if (r.body != null && !r.noContentLength) {
      h += "Content-Length: " + (r.contentLength != null ? r.contentLength : r.body.length) + "\r\n";
    }
    return h;
  }

  // ------------------------------------------------------------------ generation

  private static final String[] TYPES = {"Patient", "Appointment", "Practitioner"};

  private Req generate(Random rnd) {
    Req r = new Req();
    r.header("Authorization", "Bearer " + TestServer.systemToken());
    r.header("Accept", "application/fhir+json");
    int kind = rnd.nextInt(16);
    r.interaction = List.of("read", "vread", "create", "update", "patch", "delete", "history", "search", "search",
        "search-post", "batch", "transaction", "conditional-create", "conditional", "exportAsiCal", "other").get(kind);
    String type = pick(rnd, TYPES);
    String id = "fz-" + (type.equals("Patient") ? "p" : type.equals("Appointment") ? "a" : "pr") + (1 + rnd.nextInt(3));
    switch (kind) {
      case 0 -> { // read (FastRead and HAPI)
        r.method = "GET";
        r.path = "/fhir/" + type + "/" + id;
      }
      case 1 -> { // vread
        r.method = "GET";
        r.path = "/fhir/" + type + "/" + id + "/_history/" + (1 + rnd.nextInt(3));
      }
      case 2 -> { // create
        r.method = "POST";
        r.path = "/fhir/" + type;
        r.body = body(type, null);
      }
      case 3 -> { // update
        r.method = "PUT";
        r.path = "/fhir/" + type + "/" + id;
        r.body = body(type, id);
        if (rnd.nextBoolean()) {
          r.header("If-Match", "W/\"" + (1 + rnd.nextInt(3)) + "\"");
        }
      }
      case 4 -> { // patch
        r.method = "PATCH";
        r.path = "/fhir/Patient/fz-p" + (1 + rnd.nextInt(3));
        r.body = "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"Patched\"},{\"op\":\"add\",\"path\":\"/active\",\"value\":true}]"
            .getBytes(StandardCharsets.UTF_8);
        r.header("Content-Type", "application/json-patch+json");
      }
      case 5 -> { // delete
        r.method = "DELETE";
        r.path = "/fhir/Patient/fz-p" + (2 + rnd.nextInt(2));
      }
      case 6 -> { // history
        r.method = "GET";
        r.path = pick(rnd, "/fhir/" + type + "/" + id + "/_history", "/fhir/" + type + "/_history", "/fhir/_history");
        r.query = pick(rnd, null, "_count=2", "_since=2020-01-01", "_count=1&_offset=1");
      }
      case 7, 8 -> { // search
        r.method = "GET";
        r.path = "/fhir/" + type;
        r.query = pick(rnd, "identifier=urn:fz|v", "name=Fuzz&_count=2", "_id=fz-p1&_include=Patient:general-practitioner",
            "status=booked&_sort=-date", "_has:Appointment:patient:status=booked", "family=Fuzz&_total=accurate");
      }
      case 9 -> { // search by POST
        r.method = "POST";
        r.path = "/fhir/" + type + "/_search";
        r.body = pick(rnd, "identifier=urn%3Afz%7Cv", "name=Fuzz&_count=1", "_id=fz-p1").getBytes(StandardCharsets.UTF_8);
        r.header("Content-Type", "application/x-www-form-urlencoded");
      }
      case 10 -> { // batch
        r.method = "POST";
        r.path = "/fhir";
        r.body = bundle("batch", rnd).getBytes(StandardCharsets.UTF_8);
      }
      case 11 -> { // transaction
        r.method = "POST";
        r.path = "/fhir";
        r.body = bundle("transaction", rnd).getBytes(StandardCharsets.UTF_8);
      }
      case 12 -> { // conditional create
        r.method = "POST";
        r.path = "/fhir/Patient";
        r.body = patient(null).getBytes(StandardCharsets.UTF_8);
        r.header("If-None-Exist", "identifier=urn:fz|v" + rnd.nextInt(3));
      }
      case 13 -> { // conditional update, patch, delete
        r.method = pick(rnd, "PUT", "DELETE", "PATCH");
        r.path = "/fhir/Patient";
        r.query = "identifier=urn:fz|c" + rnd.nextInt(3);
        if (r.method.equals("PUT")) {
          r.body = patient(null).replace("\"value\":\"v\"", "\"value\":\"c0\"").getBytes(StandardCharsets.UTF_8);
        } else if (r.method.equals("PATCH")) {
          r.body = "[{\"op\":\"replace\",\"path\":\"/active\",\"value\":false}]".getBytes(StandardCharsets.UTF_8);
          r.header("Content-Type", "application/json-patch+json");
        }
      }
      case 14 -> { // $exportAsiCal
        r.method = "GET";
        r.path = "/fhir/Appointment/fz-a" + (1 + rnd.nextInt(2)) + "/$exportAsiCal";
        r.header("Accept", pick(rnd, "text/calendar", "application/fhir+json", "application/fhir+xml"));
      }
      default -> { // metadata, health
        r.method = "GET";
        r.path = pick(rnd, "/fhir/metadata", "/health");
      }
    }
    r.writes = !r.method.equals("GET");
    if (r.body != null && r.headers.stream().noneMatch(h -> h[0].equals("Content-Type"))) {
      r.header("Content-Type", "application/fhir+json; charset=UTF-8");
    }
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
    // a mutation may turn a read into a write (another method): the database is checked then too
    r.writes = !r.method.equals("GET") && !r.method.equals("HEAD");
    return r;
  }

  private byte[] body(String type, String id) {
    String json = switch (type) {
      case "Appointment" -> id == null ? appointment.replace("\"id\" : \"fz-a1\",", "")
          : appointment.replace("\"fz-a1\"", "\"" + id + "\"");
      case "Patient" -> patient(id);
      default -> "{\"resourceType\":\"Practitioner\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
          + ",\"name\":[{\"family\":\"Fuzz\"}],\"active\":true}";
    };
    return json.getBytes(StandardCharsets.UTF_8);
  }

  private static String bundle(String type, Random rnd) {
    List<String> entries = new ArrayList<>();
    int n = 1 + rnd.nextInt(4);
    for (int i = 0; i < n; i++) {
      String full = "urn:uuid:00000000-0000-4000-8000-00000000000" + i;
      entries.add(switch (rnd.nextInt(6)) {
        case 0 -> "{\"fullUrl\":\"" + full + "\",\"resource\":" + patient(null)
            + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}";
        case 1 -> "{\"fullUrl\":\"" + full + "\",\"resource\":" + patient("fz-p" + (2 + rnd.nextInt(2)))
            .replace("Practitioner/fz-pr1", "urn:uuid:00000000-0000-4000-8000-000000000000")
            + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/fz-p" + (2 + rnd.nextInt(2)) + "\"}}";
        case 2 -> "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/fz-p1\"}}";
        case 3 -> "{\"request\":{\"method\":\"GET\",\"url\":\"Patient?identifier=urn:fz|v&_count=2\"}}";
        case 4 -> "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/fz-p3\"}}";
        default -> "{\"resource\":" + patient(null) + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\","
            + "\"ifNoneExist\":\"identifier=urn:fz|v2\"}}";
      });
    }
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + String.join(",", entries) + "]}";
  }

  // ------------------------------------------------------------------ mutation

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

  private void mutate(Req r, Random rnd, int m) {
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
  private static byte[] chunked(Req r, Random rnd) {
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

  @SafeVarargs
  private static <T> T pick(Random rnd, T... options) {
    return options[rnd.nextInt(options.length)];
  }
}
