package io.appointmentserver.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * SearchParameter resources written through the API: they take effect without a restart, in this
 * server and in another one on the same database, and the resources stored before them are
 * indexed by the reindex job, also while they are being written.
 */
class SearchParameterTest {
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String BASE = TestServer.base();
  static final String SYS = "urn:sp:" + RUN;

  static String basic(String id, String text, String display) {
    return "{\"resourceType\":\"Basic\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\""
        + id + "\"}],\"code\":{\"coding\":[{\"system\":\"urn:x\",\"code\":\"c\",\"display\":\"" + display + "\"}],"
        + "\"text\":\"" + text + "\"}}";
  }

  static String searchParameter(String id, String code, String expression) {
    return "{\"resourceType\":\"SearchParameter\",\"id\":\"" + id + "\",\"url\":\"http://example.org/sp/" + id
        + "\",\"name\":\"" + code + "\",\"status\":\"active\",\"code\":\"" + code + "\",\"base\":[\"Basic\"],"
        + "\"type\":\"string\",\"description\":\"test\",\"expression\":\"" + expression + "\"}";
  }

  static void put(String path, String json) {
    HttpResponse<String> r = Http.put(BASE + "/" + path, json);
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
  }

  /** The ids of this run's Basic resources a search returns (all on one page). */
  static Set<String> ids(String base, String param, String value) {
    HttpResponse<String> r = Http.get(base + "/Basic?identifier=" + q(SYS + "|") + "&_count=1000&" + param + "=" + q(value));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Set<String> out = new TreeSet<>();
    JsonNode page = Json.parse(r.body());
    if (page.has("entry")) {
      page.get("entry").forEach(e -> out.add(e.get("resource").get("id").asText().replace("-" + RUN, "")));
    }
    return out;
  }

  static String q(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
  }

  static <T> T eventually(Supplier<T> value, java.util.function.Predicate<T> done) throws InterruptedException {
    long until = System.nanoTime() + 90_000_000_000L;
    T v = value.get();
    while (!done.test(v) && System.nanoTime() < until) {
      Thread.sleep(200);
      v = value.get();
    }
    return v;
  }

  @Test
  void aParameterWrittenThroughTheApiIndexesWhatIsStoredAndChangesAndGoesWithoutRestart() throws Exception {
    String code = "label-" + RUN;
    put("Basic/b1-" + RUN, basic("b1-" + RUN, "Ærlig hund", "Kat"));
    put("Basic/b2-" + RUN, basic("b2-" + RUN, "Ærgerlig", "Hund"));
    put("Basic/b3-" + RUN, basic("b3-" + RUN, "Kat", "Ærlig"));
    HttpResponse<String> unknown = Http.get(BASE + "/Basic?" + code + "=aer");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.body()).contains(code);

    put("SearchParameter/sp1-" + RUN, searchParameter("sp1-" + RUN, code, "Basic.code.text"));
    // known at once; the resources stored before it are found once the job indexed them
    assertThat(eventually(() -> ids(BASE, code, "ærl"), s -> s.size() == 1)).containsExactly("b1");
    assertThat(ids(BASE, code, "ÆR")).containsExactly("b1", "b2");
    // a resource written now is indexed by its write
    put("Basic/b4-" + RUN, basic("b4-" + RUN, "Ærø", "x"));
    assertThat(ids(BASE, code, "ær")).containsExactly("b1", "b2", "b4");
    assertThat(searchParams("Basic")).contains(code + ":string", "identifier:token", "_id:token");
    JsonNode health = Json.parse(Http.get(BASE.replace("/fhir", "/health")).body());
    assertThat(health.get("searchIndex").toString()).contains("\"type\":\"Basic\"");

    // changed: the stored resources are indexed under the new expression
    put("SearchParameter/sp1-" + RUN, searchParameter("sp1-" + RUN, code, "Basic.code.coding.display"));
    assertThat(eventually(() -> ids(BASE, code, "ærl"), s -> s.equals(Set.of("b3")))).containsExactly("b3");
    assertThat(ids(BASE, code, "kat")).containsExactly("b1");

    // deleted: unknown again
    assertThat(Http.send("DELETE", BASE + "/SearchParameter/sp1-" + RUN, null).statusCode()).isEqualTo(200);
    assertThat(Http.get(BASE + "/Basic?" + code + "=kat").statusCode()).isEqualTo(400);
  }

  @Test
  void anotherServerOnTheSameDatabaseTakesUpTheParameter() throws Exception {
    String code = "other-" + RUN;
    put("Basic/o1-" + RUN, basic("o1-" + RUN, "Fjord", "x"));
    try (AppointmentServer other = TestServer.another(c -> c)) {
      HttpResponse<String> r = Http.put(other.baseUrl() + "/SearchParameter/sp2-" + RUN,
          searchParameter("sp2-" + RUN, code, "Basic.code.text"));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
      assertThat(Http.get(other.baseUrl() + "/Basic?" + code + "=fj").statusCode()).isEqualTo(200);
      // the shared server looks every few seconds
      assertThat(eventually(() -> Http.get(BASE + "/Basic?identifier=" + q(SYS + "|") + "&" + code + "=fj").statusCode(),
          s -> s == 200)).isEqualTo(200);
      assertThat(eventually(() -> ids(BASE, code, "fj"), s -> !s.isEmpty())).containsExactly("o1");
      assertThat(Http.send("DELETE", other.baseUrl() + "/SearchParameter/sp2-" + RUN, null).statusCode()).isEqualTo(200);
    }
  }

  /**
   * Writes racing the job: every resource ends with exactly the rows of its last version, none
   * lost, none twice.
   */
  @Test
  void writesWhileTheJobRunsLeaveExactlyTheRowsOfTheLastVersion() throws Exception {
    String code = "race-" + RUN;
    int n = 600;
    for (int i = 0; i < n; i++) {
      put("Basic/r" + i + "-" + RUN, basic("r" + i + "-" + RUN, "first " + i, "x"));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> writes = new ArrayList<>();
      put("SearchParameter/sp3-" + RUN, searchParameter("sp3-" + RUN, code, "Basic.code.text"));
      for (int t = 0; t < 4; t++) {
        int from = t;
        writes.add(pool.submit(() -> {
          for (int i = from; i < n; i += 4) {
            put("Basic/r" + i + "-" + RUN, basic("r" + i + "-" + RUN, "second " + i, "x"));
          }
        }));
      }
      for (Future<?> f : writes) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    Map<String, List<String>> rows = eventually(() -> rows(code), m -> m.size() == n);
    assertThat(rows).hasSize(n);
    for (int i = 0; i < n; i++) {
      assertThat(rows.get("r" + i + "-" + RUN)).as("r" + i).containsExactly("second " + i);
    }
    assertThat(Http.send("DELETE", BASE + "/SearchParameter/sp3-" + RUN, null).statusCode()).isEqualTo(200);
  }

  /**
   * A pass a restart interrupted goes on after the last resource it had done: the progress row
   * says where; the resources before it are left for the next pass.
   */
  @Test
  void anInterruptedPassGoesOnWhereItWasAfterARestart() throws Exception {
    put("Basic/zr1-" + RUN, basic("zr1-" + RUN, "one", "x"));
    put("Basic/zr2-" + RUN, basic("zr2-" + RUN, "two", "x"));
    String fingerprint = sql("SELECT fingerprint FROM search_indexed WHERE res_type = 'Basic' AND res_id = 'zr1-" + RUN + "'");
    // as if both were indexed under older definitions, and a pass had done zr1 when the server stopped
    sql("UPDATE search_indexed SET fingerprint = 'older' WHERE res_type = 'Basic' AND res_id LIKE 'zr_-" + RUN + "'");
    sql("DELETE FROM search_token WHERE res_type = 'Basic' AND res_id LIKE 'zr_-" + RUN + "'");
    sql("INSERT INTO search_reindex (res_type, fingerprint, after_id, indexed, started, updated) VALUES ('Basic', '"
        + fingerprint + "', 'zr1-" + RUN + "', 7, now(), now()) ON CONFLICT (res_type) DO UPDATE SET fingerprint = excluded.fingerprint,"
        + " after_id = excluded.after_id, indexed = 7, finished = NULL");
    try (AppointmentServer restarted = TestServer.another(c -> c)) {
      restarted.reindexed().get(120, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(ids(restarted.baseUrl(), "code", "c")).contains("zr2").doesNotContain("zr1");
      assertThat(Long.parseLong(sql("SELECT indexed FROM search_reindex WHERE res_type = 'Basic'"))).isGreaterThanOrEqualTo(8);
      assertThat(sql("SELECT finished IS NOT NULL FROM search_reindex WHERE res_type = 'Basic'")).isEqualTo("t");
    }
    // the shared server's next pass over Basic (a parameter change) takes zr1 too
    put("SearchParameter/sp4-" + RUN, searchParameter("sp4-" + RUN, "zr-" + RUN, "Basic.code.text"));
    assertThat(eventually(() -> ids(BASE, "code", "c"), s -> s.contains("zr1"))).contains("zr1", "zr2");
    assertThat(Http.send("DELETE", BASE + "/SearchParameter/sp4-" + RUN, null).statusCode()).isEqualTo(200);
  }

  /** Runs one statement on the test database; the first column of the first row, if any. */
  static String sql(String statement) {
    try (Connection c = TestServer.postgres().getPostgresDatabase().getConnection();
        PreparedStatement ps = c.prepareStatement(statement)) {
      if (!ps.execute()) {
        return null;
      }
      try (ResultSet rs = ps.getResultSet()) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code :text} on a token: its CodeableConcept.text and Coding.display, starts-with, case and accents ignored. */
  @Test
  void tokenTextFindsTheTextAndDisplayOfTheCode() {
    put("Basic/t1-" + RUN, basic("t1-" + RUN, "Blodprøve taget", "Hæmoglobin"));
    put("Basic/t2-" + RUN, basic("t2-" + RUN, "Urinprøve", "Blodsukker"));
    assertThat(ids(BASE, "code:text", "blod")).containsExactly("t1", "t2");
    assertThat(ids(BASE, "code:text", "BLODPRØVE T")).containsExactly("t1");
    assertThat(ids(BASE, "code:text", "hæmo")).containsExactly("t1");
    assertThat(ids(BASE, "code:text", "urin,blodsuk")).containsExactly("t2");
    assertThat(ids(BASE, "code:text", "taget")).isEmpty(); // starts-with, as string parameters
    assertThat(ids(BASE, "code", "c")).contains("t1", "t2");
  }

  /** The search parameters /metadata lists for {@code type}, as name:type. */
  static Set<String> searchParams(String type) {
    HttpResponse<String> r = Http.get(BASE + "/metadata", "Cache-Control", "no-cache");
    assertThat(r.statusCode()).isEqualTo(200);
    Set<String> out = new TreeSet<>();
    for (JsonNode res : Json.parse(r.body()).get("rest").get(0).get("resource")) {
      if (res.get("type").asText().equals(type) && res.has("searchParam")) {
        res.get("searchParam").forEach(p -> out.add(p.get("name").asText() + ":" + p.get("type").asText()));
      }
    }
    return out;
  }

  /** The CapabilityStatement lists the parameters each type's search takes: DSTU3's, the IG's, the composite ones the search takes. */
  @Test
  void theCapabilityStatementListsTheSearchParametersOfEachType() {
    assertThat(searchParams("Appointment")).contains("patient:reference", "date:date", "status:token",
        "actor:reference", "responsible:reference", "_lastUpdated:date");
    assertThat(searchParams("Observation")).contains("code:token", "value-quantity:quantity")
        .contains("code-value-quantity:composite", "component-code-value-quantity:composite");
    // every composite of DSTU3 (CompositeSearchTest searches each)
    List<String> composites = new ArrayList<>();
    JsonNode cs = Json.parse(Http.get(TestServer.base() + "/metadata", "Cache-Control", "no-cache").body());
    for (JsonNode r : cs.get("rest").get(0).get("resource")) {
      if (r.has("searchParam")) {
        r.get("searchParam").forEach(p -> {
          if (p.get("type").asText().equals("composite")) {
            composites.add(r.get("type").asText() + "." + p.get("name").asText());
          }
        });
      }
    }
    assertThat(composites).containsExactlyInAnyOrder("DocumentReference.relationship", "Group.characteristic-value",
        "Observation.code-value-concept", "Observation.code-value-date", "Observation.code-value-quantity",
        "Observation.code-value-string", "Observation.combo-code-value-concept", "Observation.combo-code-value-quantity",
        "Observation.component-code-value-concept", "Observation.component-code-value-quantity", "Observation.related",
        "Sequence.coordinate");
  }

  /** Each type lists the _include values its searches take and the _revinclude values that lead to it. */
  @Test
  void theCapabilityStatementListsIncludesAndRevIncludes() {
    JsonNode appointment = capabilityResource("Appointment");
    assertThat(texts(appointment.get("searchInclude"))).contains("*", "Appointment:patient", "Appointment:actor",
        "Appointment:responsible", "Appointment:careteamParticipant").doesNotContain("Appointment:status");
    JsonNode patient = capabilityResource("Patient");
    assertThat(texts(patient.get("searchInclude"))).contains("*", "Patient:organization", "Patient:general-practitioner");
    assertThat(texts(patient.get("searchRevInclude"))).contains("Appointment:patient", "Appointment:actor",
        "Observation:subject", "Observation:patient", "Appointment:responsible") // no target types: any
        .doesNotContain("Appointment:status", "Observation:code", "Patient:organization");
    // every value listed is one the search takes
    for (String include : texts(appointment.get("searchInclude"))) {
      assertThat(Http.get(TestServer.base() + "/Appointment?_count=1&_include=" + include).statusCode()).as(include).isEqualTo(200);
    }
    for (String rev : texts(patient.get("searchRevInclude"))) {
      assertThat(Http.get(TestServer.base() + "/Patient?_id=none&_revinclude=" + rev).statusCode()).as(rev).isEqualTo(200);
    }
  }

  private static JsonNode capabilityResource(String type) {
    JsonNode cs = Json.parse(Http.get(TestServer.base() + "/metadata", "Cache-Control", "no-cache").body());
    for (JsonNode r : cs.get("rest").get(0).get("resource")) {
      if (r.get("type").asText().equals(type)) {
        return r;
      }
    }
    throw new AssertionError("no " + type + " in the CapabilityStatement");
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** The {@code code} string rows of this run's Basic resources, by id. */
  private static Map<String, List<String>> rows(String code) {
    Map<String, List<String>> out = new TreeMap<>();
    try (Connection c = TestServer.postgres().getPostgresDatabase().getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT res_id, exact FROM search_string WHERE res_type = 'Basic' AND param = ? AND res_id LIKE ?")) {
      ps.setString(1, code);
      ps.setString(2, "r%-" + RUN);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2));
        }
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
    return out;
  }
}
