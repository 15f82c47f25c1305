package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.AuditTrail;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * {@code $mark-all-resources-for-reindexing} and {@code $perform-reindexing-pass} on the shared
 * server: a damaged index row is rebuilt, the progress shows in {@code /health}.
 */
class ReindexOperationsTest {
  static final String BASE = TestServer.base();
  static final String MARK = "/$mark-all-resources-for-reindexing";
  static final String PERFORM = "/$perform-reindexing-pass";
  static final String JSON = "application/fhir+json";
  static final String OPERATOR = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM",
      List.of("$mark-all-resources-for-reindexing", "$perform-reindexing-pass", "Basic.*"), Map.of(), null, 300);

  static Connection db() throws SQLException {
    return TestServer.postgres().getPostgresDatabase().getConnection();
  }

  static String typeParameter(String type) {
    return "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"type\",\"valueCode\":\"" + type + "\"}]}";
  }

  static long found(String code, String id) {
    return Json.parse(Http.get(BASE + "/Basic?code=urn:r%7C" + code + "&_id=" + id).body()).path("total").asLong();
  }

  static String status(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Json.parse(r.body()).path("parameter").get(0).path("valueString").asText();
  }

  @Test
  void aDamagedIndexRowIsRebuiltByAPassAndTheProgressShowsInHealth() throws Exception {
    String id = "reindex-" + UUID.randomUUID().toString().substring(0, 8);
    String basic = "{\"resourceType\":\"Basic\",\"id\":\"" + id + "\",\"code\":{\"coding\":[{\"system\":\"urn:r\",\"code\":\"good\"}]}}";
    assertThat(Http.put(BASE + "/Basic/" + id, basic).statusCode()).isEqualTo(201);
    assertThat(found("good", id)).isEqualTo(1);
    try (Connection c = db(); PreparedStatement ps = c.prepareStatement(
        "UPDATE search_token SET code = 'bad' WHERE res_type = 'Basic' AND res_id = ? AND param = 'code'")) {
      ps.setString(1, id);
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    assertThat(found("good", id)).isZero(); // damaged, under the current fingerprint: no ordinary pass sees it

    long live;
    try (Connection c = db(); PreparedStatement ps = c.prepareStatement(
        "SELECT count(*) FROM resource WHERE res_type = 'Basic' AND NOT deleted"); ResultSet rs = ps.executeQuery()) {
      rs.next();
      live = rs.getLong(1);
    }
    String trace = UUID.randomUUID().toString().replace("-", "");
    String marked = status(Http.post(BASE + MARK, typeParameter("Basic"), "Content-Type", JSON,
        "Authorization", OPERATOR, "X-B3-TraceId", trace));
    assertThat(marked).isEqualTo("Marked " + live + " resources");
    assertThat(status(Http.post(BASE + PERFORM, "{\"resourceType\":\"Parameters\"}", "Content-Type", JSON,
        "Authorization", OPERATOR))).startsWith("Indexed ").doesNotContain("background");

    assertThat(found("good", id)).isEqualTo(1);
    assertThat(found("bad", id)).isZero();
    JsonNode pass = null;
    for (JsonNode p : Json.parse(Http.get(TestServer.base().replace("/fhir", "/health")).body()).path("searchIndex")) {
      if (p.path("type").asText().equals("Basic")) {
        pass = p;
      }
    }
    assertThat(pass).as("Basic's pass in /health").isNotNull();
    assertThat(pass.path("full").asBoolean()).isTrue();
    assertThat(pass.path("total").asLong()).isEqualTo(live);
    assertThat(pass.path("indexed").asLong()).isEqualTo(live);
    assertThat(pass.path("state").asText()).isEqualTo("finished");

    List<JsonNode> events = AuditTrail.eventsOf(trace, 1);
    assertThat(events).hasSize(1);
    assertThat(events.get(0).toString()).contains("$mark-all-resources-for-reindexing");
  }

  @Test
  void withoutATypeEveryTypeIsMarked() throws Exception {
    // a database of its own, so that every resource in it is known
    try (io.appointmentserver.AppointmentServer own = io.appointmentserver.AppointmentServer.start(
        TestServer.withFreshDatabase(TestServer.config(), "reindex_all"))) {
      String base = own.baseUrl();
      for (String r : List.of("{\"resourceType\":\"Basic\",\"code\":{\"text\":\"x\"}}",
          "{\"resourceType\":\"Organization\",\"name\":\"x\"}", "{\"resourceType\":\"Patient\"}")) {
        assertThat(Http.post(base + "/" + Json.parse(r).get("resourceType").asText(), r, "Content-Type", JSON)
            .statusCode()).isEqualTo(201);
      }
      assertThat(status(Http.post(base + MARK, "{\"resourceType\":\"Parameters\"}", "Content-Type", JSON,
          "Authorization", OPERATOR))).isEqualTo("Marked 3 resources");
      assertThat(status(Http.post(base + PERFORM, "{\"resourceType\":\"Parameters\"}", "Content-Type", JSON,
          "Authorization", OPERATOR))).startsWith("Indexed ").doesNotContain("background");
      long passes = 0;
      for (JsonNode p : Json.parse(Http.get(base.replace("/fhir", "/health")).body()).path("searchIndex")) {
        if (p.path("full").asBoolean()) {
          passes++;
          assertThat(p.path("total").asLong()).isEqualTo(1);
          assertThat(p.path("indexed").asLong()).isEqualTo(1);
          assertThat(p.path("state").asText()).isEqualTo("finished");
        }
      }
      assertThat(passes).isEqualTo(3);
    }
  }

  @Test
  void anUnknownTypeIsA400() {
    for (String type : List.of("Foo", "basic", "Basic,Patient")) {
      HttpResponse<String> r = Http.post(BASE + MARK, typeParameter(type), "Content-Type", JSON, "Authorization", OPERATOR);
      assertThat(r.statusCode()).as(type + ": " + r.body()).isEqualTo(400);
      assertThat(Json.parse(r.body()).path("resourceType").asText()).isEqualTo("OperationOutcome");
    }
  }

  @Test
  void onlySystemUsersWithThePrivilege() {
    String typeStar = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Basic.*", "Patient.*"), Map.of(), null, 300);
    String practitioner = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER",
        List.of("$mark-all-resources-for-reindexing", "$perform-reindexing-pass"),
        Map.of("care_team_id", "http://organization.fut.trifork.com/fhir/CareTeam/35102"), null, 300);
    for (String op : List.of(MARK, PERFORM)) {
      String body = op.equals(MARK) ? typeParameter("Basic") : "{\"resourceType\":\"Parameters\"}";
      assertThat(Http.post(BASE + op, body, "Content-Type", JSON, "Authorization", typeStar).statusCode()).isEqualTo(403);
      HttpResponse<String> r = Http.post(BASE + op, body, "Content-Type", JSON, "Authorization", practitioner);
      assertThat(r.statusCode()).isEqualTo(403);
      assertThat(r.body()).contains("SYSTEM");
      assertThat(Http.post(BASE + op, body, "Content-Type", JSON, "Authorization", Http.NO_AUTH).statusCode()).isEqualTo(401);
    }
  }
}
