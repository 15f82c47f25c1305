package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** JSON Patch on a resource: applied to the stored version and then written like an update. */
class PatchTest {
  static final String BASE = TestServer.base();
  static final String TEAM = "http://organization.example.org/fhir/CareTeam/patch";

  private static String appointment(String team) {
    String id = "pa-" + UUID.randomUUID().toString().substring(0, 8);
    Http.put(BASE + "/Patient/patch-p", "{\"resourceType\":\"Patient\",\"id\":\"patch-p\"}");
    assertThat(Http.put(BASE + "/Appointment/" + id, Appointments.ofCareTeam(id, team, "patch-p")).statusCode())
        .isEqualTo(201);
    return id;
  }

  private static HttpResponse<String> patch(String id, String body, String... headers) {
    String[] all = new String[headers.length + 2];
    all[0] = "Content-Type";
    all[1] = "application/json-patch+json; charset=UTF-8";
    System.arraycopy(headers, 0, all, 2, headers.length);
    return Http.send("PATCH", BASE + "/Appointment/" + id, body, all);
  }

  static final String ADD_TYPE = "[{\"op\":\"add\",\"path\":\"/appointmentType\",\"value\":{\"coding\":"
      + "[{\"system\":\"http://ehealth.sundhed.dk/cs/appointmenttype-codes\",\"code\":\"EMERGENCY\"}]}}]";

  @Test
  void aPatchWithIfMatchMakesTheNextVersion() {
    String id = appointment(TEAM);
    HttpResponse<String> r = patch(id, ADD_TYPE, "If-Match", "W/\"1\"");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"2\"");
    JsonNode stored = Json.parse(Http.get(BASE + "/Appointment/" + id).body());
    assertThat(stored.at("/appointmentType/coding/0/code").asText()).isEqualTo("EMERGENCY");
    assertThat(stored.at("/meta/versionId").asText()).isEqualTo("2");
    assertThat(stored.at("/status").asText()).isEqualTo("booked");
  }

  @Test
  void aPatchWithoutIfMatchAppliesToTheCurrentVersionAndAStaleOneIs412() {
    String id = appointment(TEAM);
    assertThat(patch(id, "[{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"arrived\"}]").statusCode()).isEqualTo(200);
    HttpResponse<String> stale = patch(id, ADD_TYPE, "If-Match", "\"1\"");
    assertThat(stale.statusCode()).isEqualTo(412);
    assertThat(Json.parse(Http.get(BASE + "/Appointment/" + id).body()).has("appointmentType")).isFalse();
  }

  @Test
  void badPatchesAreRefusedAndNothingIsWritten() {
    String id = appointment(TEAM);
    assertThat(patch(id, "{\"op\":\"add\"}").statusCode()).isEqualTo(400);
    assertThat(patch(id, "not json").statusCode()).isEqualTo(400);
    assertThat(patch(id, "[{\"op\":\"jump\",\"path\":\"/status\"}]").statusCode()).isEqualTo(400);
    assertThat(patch(id, "[{\"op\":\"test\",\"path\":\"/status\",\"value\":\"cancelled\"}]").statusCode()).isEqualTo(422);
    assertThat(patch(id, "[{\"op\":\"remove\",\"path\":\"/nothing/here\"}]").statusCode()).isEqualTo(422);
    assertThat(patch(id, "[{\"op\":\"replace\",\"path\":\"/status\",\"value\":{\"x\":1}}]").statusCode()).isEqualTo(422);
    assertThat(patch(id, "[{\"op\":\"add\",\"path\":\"/unknownElement\",\"value\":1}]").statusCode()).isEqualTo(422);
    assertThat(patch(id, "[{\"op\":\"replace\",\"path\":\"/id\",\"value\":\"other\"}]").statusCode()).isEqualTo(422);
    assertThat(Http.send("PATCH", BASE + "/Appointment/" + id, ADD_TYPE, "Content-Type", "application/fhir+json")
        .statusCode()).isIn(400, 415);
    assertThat(Http.get(BASE + "/Appointment/" + id).headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(patch("no-such-" + id, ADD_TYPE).statusCode()).isEqualTo(404);
    Http.send("DELETE", BASE + "/Appointment/" + id, null);
    assertThat(patch(id, ADD_TYPE).statusCode()).isEqualTo(410);
  }

  @Test
  void aPatchIsAuthorizedLikeAnUpdate() {
    String id = appointment(TEAM);
    String patcher = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Appointment.patch"),
        Map.of("care_team_id", TEAM), null, 300);
    String reader = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Appointment.read"),
        Map.of("care_team_id", TEAM), null, 300);
    assertThat(patch(id, ADD_TYPE, "Authorization", reader).statusCode()).isEqualTo(403);
    assertThat(patch(id, ADD_TYPE, "Authorization", patcher).statusCode()).isEqualTo(200);
    // moving the appointment to another team takes it out of the patcher's reach: refused
    String move = "[{\"op\":\"replace\",\"path\":\"/extension/0/valueReference/reference\",\"value\":\"CareTeam/elsewhere\"},"
        + "{\"op\":\"replace\",\"path\":\"/participant/0/extension/0/valueReference/reference\",\"value\":\"CareTeam/elsewhere\"}]";
    HttpResponse<String> moved = patch(id, move, "Authorization", patcher);
    assertThat(moved.statusCode()).isEqualTo(403);
    assertThat(Json.parse(moved.body()).at("/issue/0/diagnostics").asText())
        .startsWith("SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT");
  }
}
