package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.AuditTrail;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** {@code $meta}, {@code $meta-add} and {@code $meta-delete}: meta changes in place, no new version. */
class MetaTest {
  static final String BASE = TestServer.base();
  static final String JSON = "application/fhir+json";
  static final String SYS = "urn:meta-test:" + UUID.randomUUID().toString().substring(0, 8);
  static final String BASIC = "http://hl7.org/fhir/StructureDefinition/Basic";
  static final String TEAM = "http://organization.fut.trifork.com/fhir/CareTeam/35102";

  static String meta(String code) {
    return "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"meta\",\"valueMeta\":{\"tag\":[{\"system\":\""
        + SYS + "\",\"code\":\"" + code + "\"}],\"security\":[{\"system\":\"" + SYS + "\",\"code\":\"s-" + code
        + "\"}]}}]}";
  }

  static int found(String query) {
    HttpResponse<String> r = Http.get(BASE + query);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Json.parse(r.body()).get("total").asInt();
  }

  @Test
  void tagsAreAddedAndRemovedInPlaceAndSearchFollows() {
    String id = "meta-" + UUID.randomUUID().toString().substring(0, 8);
    String basic = "{\"resourceType\":\"Basic\",\"id\":\"" + id + "\",\"meta\":{\"tag\":[{\"system\":\"" + SYS
        + "\",\"code\":\"a\"}]},\"code\":{\"text\":\"tagged\"}}";
    assertThat(Http.put(BASE + "/Basic/" + id, basic).statusCode()).isEqualTo(201);

    HttpResponse<String> read = Http.get(BASE + "/Basic/" + id + "/$meta");
    assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
    assertThat(read.body()).contains("\"code\":\"a\"");

    HttpResponse<String> added = Http.post(BASE + "/Basic/" + id + "/$meta-add", meta("b"), "Content-Type", JSON);
    assertThat(added.statusCode()).as(added.body()).isEqualTo(200);
    JsonNode out = Json.parse(added.body()).get("parameter").get(0).get("valueMeta");
    assertThat(out.get("tag")).hasSize(2);
    assertThat(out.get("security").get(0).get("code").asText()).isEqualTo("s-b");

    JsonNode now = Json.parse(Http.get(BASE + "/Basic/" + id).body());
    assertThat(now.get("meta").get("versionId").asText()).isEqualTo("1"); // no new version
    assertThat(now.get("meta").get("tag")).hasSize(2);
    assertThat(found("/Basic?_tag=" + SYS + "%7Cb&_id=" + id)).isEqualTo(1);
    assertThat(found("/Basic?_security=" + SYS + "%7Cs-b&_id=" + id)).isEqualTo(1);
    JsonNode history = Json.parse(Http.get(BASE + "/Basic/" + id + "/_history").body());
    assertThat(history.get("total").asInt()).isEqualTo(1);
    assertThat(history.get("entry").get(0).get("resource").get("meta").get("tag")).hasSize(2);

    HttpResponse<String> removed = Http.post(BASE + "/Basic/" + id + "/$meta-delete", meta("a"), "Content-Type", JSON);
    assertThat(removed.statusCode()).as(removed.body()).isEqualTo(200);
    assertThat(found("/Basic?_tag=" + SYS + "%7Ca&_id=" + id)).isZero();
    assertThat(found("/Basic?_tag=" + SYS + "%7Cb&_id=" + id)).isEqualTo(1);
    assertThat(Json.parse(Http.get(BASE + "/Basic/" + id).body()).get("meta").get("versionId").asText()).isEqualTo("1");
  }

  @Test
  void badRequestsPrivilegesContextAndAudit() throws Exception {
    assertThat(Http.post(BASE + "/Basic/no-such-basic/$meta-add", meta("x"), "Content-Type", JSON).statusCode())
        .isEqualTo(404);
    String id = "meta-" + UUID.randomUUID().toString().substring(0, 8);
    assertThat(Http.put(BASE + "/Basic/" + id, "{\"resourceType\":\"Basic\",\"id\":\"" + id
        + "\",\"code\":{\"text\":\"x\"}}").statusCode()).isEqualTo(201);
    HttpResponse<String> noMeta = Http.post(BASE + "/Basic/" + id + "/$meta-add",
        "{\"resourceType\":\"Parameters\"}", "Content-Type", JSON);
    assertThat(noMeta.statusCode()).as(noMeta.body()).isEqualTo(400);
    String readOnly = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Basic.read"), Map.of(), null, 300);
    assertThat(Http.post(BASE + "/Basic/" + id + "/$meta-add", meta("x"), "Content-Type", JSON,
        "Authorization", readOnly).statusCode()).isEqualTo(403);

    ObjectNode a = Appointments.seed();
    String appointment = "meta-" + UUID.randomUUID().toString().substring(0, 8);
    a.put("id", appointment);
    Http.put(BASE + "/Patient/240", "{\"resourceType\":\"Patient\",\"id\":\"240\"}");
    assertThat(Http.put(BASE + "/Appointment/" + appointment, a.toString()).statusCode()).isEqualTo(201);
    List<String> roles = List.of("Appointment.read", "Appointment$meta-add");
    String outside = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", roles,
        Map.of("care_team_id", "http://organization.fut.trifork.com/fhir/CareTeam/1"), null, 300);
    assertThat(Http.post(BASE + "/Appointment/" + appointment + "/$meta-add", meta("x"), "Content-Type", JSON,
        "Authorization", outside).statusCode()).isEqualTo(403);
    String inside = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", roles, Map.of("care_team_id", TEAM),
        null, 300);
    String trace = UUID.randomUUID().toString().replace("-", "");
    HttpResponse<String> r = Http.post(BASE + "/Appointment/" + appointment + "/$meta-add", meta("x"),
        "Content-Type", JSON, "Authorization", inside, "X-B3-TraceId", trace);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<JsonNode> events = AuditTrail.eventsOf(trace, 1);
    assertThat(events).isNotEmpty();
    assertThat(events.get(0).toString()).contains("$meta-add").contains("Appointment/" + appointment);
  }

  /** The {@code return} Meta's codes of one kind ({@code tag}, {@code security}, {@code profile}) with this test's system. */
  static List<String> inUse(HttpResponse<String> r, String kind, String system) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode meta = Json.parse(r.body()).get("parameter").get(0).get("valueMeta");
    List<String> out = new java.util.ArrayList<>();
    if (meta != null && meta.has(kind)) {
      for (JsonNode n : meta.get(kind)) {
        if (system.equals(n.path("system").asText())) {
          out.add(n.get("code").asText());
        }
      }
    }
    return out;
  }

  @Test
  void typeAndSystemLevelListWhatIsInUseWithinTheContext() throws Exception {
    String sys = "urn:meta-in-use:" + UUID.randomUUID().toString().substring(0, 8);
    String[] ids = new String[3];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = "meta-use-" + UUID.randomUUID().toString().substring(0, 8);
    }
    assertThat(Http.put(BASE + "/Basic/" + ids[0], "{\"resourceType\":\"Basic\",\"id\":\"" + ids[0] + "\",\"meta\":{\"tag\":[{\"system\":\""
        + sys + "\",\"code\":\"basic-tag\"}],\"profile\":[\"" + BASIC + "\"]},\"code\":{\"text\":\"x\"}}")
        .statusCode()).isEqualTo(201);
    assertThat(Http.put(BASE + "/Basic/" + ids[1], "{\"resourceType\":\"Basic\",\"id\":\"" + ids[1] + "\",\"meta\":{\"tag\":[{\"system\":\""
        + sys + "\",\"code\":\"deleted-tag\"}]},\"code\":{\"text\":\"x\"}}").statusCode()).isEqualTo(201);
    assertThat(Http.send("DELETE", BASE + "/Basic/" + ids[1], null).statusCode()).isIn(200, 204);

    // an appointment in TEAM's context, and one in another team's, tagged differently
    Http.put(BASE + "/Patient/240", "{\"resourceType\":\"Patient\",\"id\":\"240\"}");
    ObjectNode inTeam = Appointments.seed();
    inTeam.put("id", ids[2]);
    inTeam.putObject("meta").putArray("security").addObject().put("system", sys).put("code", "team-label");
    assertThat(Http.put(BASE + "/Appointment/" + ids[2], inTeam.toString()).statusCode()).isEqualTo(201);
    ObjectNode other = Appointments.seed();
    String otherId = "meta-use-" + UUID.randomUUID().toString().substring(0, 8);
    other.put("id", otherId);
    other.putObject("meta").putArray("security").addObject().put("system", sys).put("code", "other-label");
    String otherTeam = "http://organization.fut.trifork.com/fhir/CareTeam/99" + (int) (Math.random() * 1000);
    String body = other.toString().replace(TEAM, otherTeam);
    assertThat(body).contains(otherTeam);
    assertThat(Http.put(BASE + "/Appointment/" + otherId, body).statusCode()).isEqualTo(201);

    HttpResponse<String> basic = Http.get(BASE + "/Basic/$meta");
    assertThat(inUse(basic, "tag", sys)).containsExactly("basic-tag"); // not the deleted one's
    assertThat(Json.parse(basic.body()).get("parameter").get(0).get("valueMeta").get("profile").toString())
        .contains(BASIC);
    assertThat(inUse(Http.get(BASE + "/Appointment/$meta"), "security", sys)).containsExactly("other-label", "team-label");
    String admin = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("$meta", "Basic.*", "Appointment.*"),
        Map.of(), null, 300);
    HttpResponse<String> all = Http.get(BASE + "/$meta", "Authorization", admin);
    assertThat(inUse(all, "tag", sys)).containsExactly("basic-tag");
    assertThat(inUse(all, "security", sys)).containsExactly("other-label", "team-label");

    // a practitioner sees the labels of their own team's appointments only
    String inside = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Appointment$meta",
        "Appointment.read", "$meta"), Map.of("care_team_id", TEAM), null, 300);
    String trace = UUID.randomUUID().toString().replace("-", "");
    assertThat(inUse(Http.get(BASE + "/Appointment/$meta", "Authorization", inside, "X-B3-TraceId", trace),
        "security", sys)).containsExactly("team-label");
    assertThat(AuditTrail.eventsOf(trace, 1).get(0).toString()).contains("$meta");
    HttpResponse<String> system = Http.get(BASE + "/$meta", "Authorization", inside);
    assertThat(inUse(system, "security", sys)).containsExactly("team-label");
    assertThat(inUse(system, "tag", sys)).isEmpty(); // no privilege for Basic: its tags are not shown

    // the operation's privilege is needed at each level
    String reader = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Basic.read", "Basic.search"),
        Map.of(), null, 300);
    assertThat(Http.get(BASE + "/Basic/$meta", "Authorization", reader).statusCode()).isEqualTo(403);
    assertThat(Http.get(BASE + "/$meta", "Authorization", reader).statusCode()).isEqualTo(403);
  }
}
