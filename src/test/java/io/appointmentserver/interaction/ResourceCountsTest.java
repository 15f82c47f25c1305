package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** {@code GET [base]/$get-resource-counts}: the current resources per type, for SYSTEM users with the privilege. */
class ResourceCountsTest {
  static final String BASE = TestServer.base();

  static long count(JsonNode parameters, String type) {
    for (JsonNode p : parameters.path("parameter")) {
      if (p.get("name").asText().equals(type)) {
        return p.get("valueInteger").asLong();
      }
    }
    return 0;
  }

  @Test
  void countsFollowCreatesAndDeletes() {
    String system = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM",
        List.of("$get-resource-counts", "Basic.*"), Map.of(), null, 300);
    HttpResponse<String> before = Http.get(BASE + "/$get-resource-counts", "Authorization", system);
    assertThat(before.statusCode()).as(before.body()).isEqualTo(200);
    JsonNode b = Json.parse(before.body());
    assertThat(b.get("resourceType").asText()).isEqualTo("Parameters");
    String id = "counts-" + UUID.randomUUID().toString().substring(0, 8);
    String basic = "{\"resourceType\":\"Basic\",\"id\":\"" + id + "\",\"code\":{\"text\":\"counted\"}}";
    assertThat(Http.put(BASE + "/Basic/" + id, basic).statusCode()).isEqualTo(201);
    JsonNode after = Json.parse(Http.get(BASE + "/$get-resource-counts", "Authorization", system).body());
    assertThat(count(after, "Basic")).isEqualTo(count(b, "Basic") + 1);
    assertThat(Http.send("DELETE", BASE + "/Basic/" + id, null).statusCode()).isBetween(200, 204);
    JsonNode deleted = Json.parse(Http.get(BASE + "/$get-resource-counts", "Authorization", system).body());
    assertThat(count(deleted, "Basic")).isEqualTo(count(b, "Basic"));
  }

  @Test
  void onlySystemUsersWithThePrivilege() {
    String noPrivilege = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Basic.*"), Map.of(), null, 300);
    assertThat(Http.get(BASE + "/$get-resource-counts", "Authorization", noPrivilege).statusCode()).isEqualTo(403);
    String practitioner = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("$get-resource-counts"),
        Map.of("care_team_id", "http://organization.fut.trifork.com/fhir/CareTeam/35102"), null, 300);
    HttpResponse<String> r = Http.get(BASE + "/$get-resource-counts", "Authorization", practitioner);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("SYSTEM");
    assertThat(Http.get(BASE + "/$get-resource-counts", "Authorization", Http.NO_AUTH).statusCode()).isEqualTo(401);
  }
}
