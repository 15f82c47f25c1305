package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
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

/** {@code StructureDefinition/$snapshot} and {@code $generateSnapshot}: a snapshot from a differential. */
class SnapshotTest {
  static final String BASE = TestServer.base();
  static final String JSON = "application/fhir+json";
  static final String EHEALTH_APPOINTMENT = "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-appointment";

  /** A profile of {@code base} that forbids Appointment.comment and requires a description. */
  static String profile(String url, String base) {
    return "{\"resourceType\":\"StructureDefinition\",\"url\":\"" + url + "\",\"name\":\"NoComment\",\"status\":\"draft\","
        + "\"kind\":\"resource\",\"abstract\":false,\"type\":\"Appointment\",\"baseDefinition\":\"" + base + "\","
        + "\"derivation\":\"constraint\",\"differential\":{\"element\":["
        + "{\"id\":\"Appointment.description\",\"path\":\"Appointment.description\",\"min\":1},"
        + "{\"id\":\"Appointment.comment\",\"path\":\"Appointment.comment\",\"max\":\"0\"}]}}";
  }

  static String parameters(String definition) {
    return "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"definition\",\"resource\":" + definition + "}]}";
  }

  /** The snapshot's element of {@code path}. */
  static JsonNode element(JsonNode sd, String path) {
    for (JsonNode e : sd.get("snapshot").get("element")) {
      if (e.get("path").asText().equals(path)) {
        return e;
      }
    }
    return null;
  }

  @Test
  void snapshotOfADifferentialOnTheCoreAndOnAnEhealthProfile() {
    String url = "urn:snapshot-test:" + UUID.randomUUID();
    HttpResponse<String> r = Http.post(BASE + "/StructureDefinition/$snapshot",
        parameters(profile(url, "http://hl7.org/fhir/StructureDefinition/Appointment")), "Content-Type", JSON);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode sd = Json.parse(r.body());
    assertThat(sd.get("resourceType").asText()).isEqualTo("StructureDefinition");
    assertThat(sd.get("snapshot").get("element").size()).isGreaterThan(30);
    assertThat(element(sd, "Appointment.comment").get("max").asText()).isEqualTo("0");
    assertThat(element(sd, "Appointment.description").get("min").asInt()).isEqualTo(1);
    assertThat(element(sd, "Appointment.status").get("min").asInt()).isEqualTo(1); // from the base
    // nothing is stored
    JsonNode found = Json.parse(Http.get(BASE + "/StructureDefinition?url=" + url).body());
    assertThat(found.get("total").asInt()).isZero();

    // on the eHealth profile: its extensions come with the snapshot; eHealth's name for the operation
    HttpResponse<String> e = Http.post(BASE + "/StructureDefinition/$generateSnapshot",
        parameters(profile(url, EHEALTH_APPOINTMENT)), "Content-Type", JSON);
    assertThat(e.statusCode()).as(e.body()).isEqualTo(200);
    assertThat(e.body()).contains("ehealth-responsible");
    assertThat(element(Json.parse(e.body()), "Appointment.comment").get("max").asText()).isEqualTo("0");
  }

  @Test
  void snapshotOfAStoredInstanceAndOfAKnownUrl() throws Exception {
    String id = "snapshot-" + UUID.randomUUID().toString().substring(0, 8);
    String url = "urn:snapshot-test:" + id;
    String body = profile(url, "http://hl7.org/fhir/StructureDefinition/Appointment").replaceFirst("\\{",
        "{\"id\":\"" + id + "\",");
    HttpResponse<String> put = Http.put(BASE + "/StructureDefinition/" + id, body);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);

    String trace = UUID.randomUUID().toString().replace("-", "");
    String practitioner = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("StructureDefinition.read",
        "StructureDefinition$snapshot"), Map.of("care_team_id", "http://organization.fut.trifork.com/fhir/CareTeam/35102"),
        null, 300);
    HttpResponse<String> r = Http.get(BASE + "/StructureDefinition/" + id + "/$snapshot", "X-B3-TraceId", trace,
        "Authorization", practitioner);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(element(Json.parse(r.body()), "Appointment.comment").get("max").asText()).isEqualTo("0");
    assertThat(AuditTrail.eventsOf(trace, 1).get(0).toString()) // SYSTEM users are not audited: a practitioner.contains("$snapshot")
        .contains("StructureDefinition/" + id);

    HttpResponse<String> byUrl = Http.get(BASE + "/StructureDefinition/$snapshot?url=" + EHEALTH_APPOINTMENT);
    assertThat(byUrl.statusCode()).as(byUrl.body()).isEqualTo(200);
    assertThat(Json.parse(byUrl.body()).get("url").asText()).isEqualTo(EHEALTH_APPOINTMENT);
    assertThat(Json.parse(byUrl.body()).get("snapshot").get("element").size()).isGreaterThan(30);
  }

  @Test
  void badRequestsAndPrivileges() throws Exception {
    assertThat(Http.post(BASE + "/StructureDefinition/$snapshot", "{\"resourceType\":\"Parameters\"}",
        "Content-Type", JSON).statusCode()).isEqualTo(400);
    String def = profile("urn:snapshot-test:bad", "http://hl7.org/fhir/StructureDefinition/Appointment");
    String both = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"definition\",\"resource\":" + def
        + "},{\"name\":\"url\",\"valueUri\":\"" + EHEALTH_APPOINTMENT + "\"}]}";
    assertThat(Http.post(BASE + "/StructureDefinition/$snapshot", both, "Content-Type", JSON).statusCode())
        .isEqualTo(400);
    HttpResponse<String> unknownBase = Http.post(BASE + "/StructureDefinition/$snapshot",
        parameters(profile("urn:snapshot-test:x", "urn:no-such-base")), "Content-Type", JSON);
    assertThat(unknownBase.statusCode()).as(unknownBase.body()).isEqualTo(422);
    assertThat(unknownBase.body()).contains("OperationOutcome").contains("urn:no-such-base");
    HttpResponse<String> noDifferential = Http.post(BASE + "/StructureDefinition/$snapshot",
        parameters(def.replaceAll(",\"differential\".*\\}$", "}")), "Content-Type", JSON);
    assertThat(noDifferential.statusCode()).as(noDifferential.body()).isEqualTo(422);
    assertThat(Http.get(BASE + "/StructureDefinition/$snapshot?url=urn:no-such-profile").statusCode()).isEqualTo(404);
    assertThat(Http.get(BASE + "/StructureDefinition/no-such-sd/$snapshot").statusCode()).isEqualTo(404);
    HttpResponse<String> notAResource = Http.post(BASE + "/StructureDefinition/$snapshot",
        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"definition\",\"valueString\":\"x\"}]}",
        "Content-Type", JSON);
    assertThat(notAResource.statusCode()).as(notAResource.body()).isEqualTo(400);

    String reader = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("StructureDefinition.read"),
        Map.of(), null, 300);
    assertThat(Http.post(BASE + "/StructureDefinition/$snapshot", parameters(def), "Content-Type", JSON,
        "Authorization", reader).statusCode()).isEqualTo(403);
    String allowed = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM",
        List.of("StructureDefinition$snapshot"), Map.of(), null, 300);
    assertThat(Http.post(BASE + "/StructureDefinition/$snapshot", parameters(def), "Content-Type", JSON,
        "Authorization", allowed).statusCode()).isEqualTo(200);
  }
}
