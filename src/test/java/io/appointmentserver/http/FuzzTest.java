package io.appointmentserver.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.appointmentserver.support.Http;
import io.appointmentserver.support.RawHttp;
import io.appointmentserver.support.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
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
  private FuzzRequests requests;

  private static final String PRACTITIONER =
      "{\"resourceType\":\"Practitioner\",\"id\":\"fz-pr1\",\"name\":[{\"family\":\"Fuzz\"}]}";

  @Test
  void mutatedRequestsAreRefusedCleanly() throws Exception {
    System.out.println("FuzzTest seed " + SEED + " (-Dfuzz.seed=" + SEED + " repeats it), " + REQUESTS + " requests");
    String seed = Files.readString(TestServer.sharedDir().resolve("seed/request-body.json"));
    String appointment = seed.replace("\"id\" : \"309\"", "\"id\" : \"fz-a1\"").replace("Patient/240", "Patient/fz-p1");
    put("Practitioner/fz-pr1", PRACTITIONER);
    put("Patient/fz-p1", FuzzRequests.patient("fz-p1"));
    put("Appointment/fz-a1", appointment);
    requests = new FuzzRequests(appointment);

    // one connection for the whole run: a new one per request cost more than the requests themselves
    try (Connection db = TestServer.postgres().getPostgresDatabase().getConnection()) {
      run(db);
    }
    // and the server still answers as before
    // (the fuzzer may have deleted its own resources, the practitioner a patient refers to too: new
    // ones are written and read)
    put("Practitioner/fz-pr1", PRACTITIONER);
    put("Patient/fz-alive", FuzzRequests.patient("fz-alive"));
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
      FuzzRequest r = requests.generate(rnd);
      long[] before = r.writes ? fingerprint(db) : null;
      RawHttp.Response resp;
      long sent = System.nanoTime();
      try {
        resp = RawHttp.send(r.method, r.target(), r.head(), r.body, ANSWER_WITHIN_MILLIS);
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

  private static boolean askedForHtml(FuzzRequest r) {
    boolean accept = r.headers.stream().anyMatch(h -> h[0].equalsIgnoreCase("Accept") && h[1].contains("html"));
    return accept || (r.query != null && r.query.contains("_format=") && r.query.contains("html"));
  }

  /** Why the answer is wrong; null when it is right. */
  private static String check(FuzzRequest r, RawHttp.Response resp) {
    if (resp.status() < 0) {
      return "connection closed without an answer";
    }
    if (resp.status() >= 500) {
      return "server error";
    }
    if (resp.status() >= 400 && !r.method.equals("HEAD")) {
      String type = resp.header("Content-Type");
      if (type != null && type.contains("text/html")) {
        // a browser's error is a page (rest.BrowserPages): only for a request that asked for one
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
}
