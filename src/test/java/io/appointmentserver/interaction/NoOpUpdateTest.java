package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
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

/**
 * An update whose content is the current version's (what the server sets aside) keeps the current
 * version, as the eHealth services do: a PUT, a PATCH, a conditional update and a transaction's
 * entry answer the current version and add no history entry.
 */
class NoOpUpdateTest {
  static final String BASE = TestServer.base();
  static final String SYSTEM = "urn:no-op-test";

  static String id() {
    return "noop-" + UUID.randomUUID().toString().substring(0, 8);
  }

  static String patient(String id, String family) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"" + SYSTEM
        + "\",\"value\":\"" + id + "\"}],\"name\":[{\"family\":\"" + family + "\",\"given\":[\"Ann\"]}],"
        + "\"birthDate\":\"1970-01-01\"}";
  }

  static int historyTotal(String id) {
    HttpResponse<String> r = Http.get(BASE + "/Patient/" + id + "/_history");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Json.parse(r.body()).get("total").asInt();
  }

  static String etag(HttpResponse<String> r) {
    return r.headers().firstValue("ETag").orElse("");
  }

  @Test
  void aPutOfTheSameContentAnswersTheCurrentVersionAndWritesNothing() throws Exception {
    String id = id();
    HttpResponse<String> first = Http.put(BASE + "/Patient/" + id, patient(id, "Same"));
    assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
    JsonNode stored = Json.parse(first.body());
    Thread.sleep(5); // a new version would have a later lastUpdated

    // the same content, written differently: other key order, spacing, and server fields a client made up
    String again = "{ \"name\": [{\"given\":[\"Ann\"], \"family\":\"Same\"}], \"resourceType\":\"Patient\","
        + " \"birthDate\":\"1970-01-01\", \"id\":\"" + id + "\", \"meta\":{\"versionId\":\"7\","
        + "\"lastUpdated\":\"2001-01-01T00:00:00Z\"}, \"identifier\":[{\"system\":\"" + SYSTEM + "\",\"value\":\""
        + id + "\"}]}";
    String traceId = UUID.randomUUID().toString().replace("-", "");
    // by the patient (SYSTEM users are not audited)
    String self = "Bearer " + Tokens.sign(TestServer.dataDir(), "PATIENT", List.of("Patient.update"),
        Map.of("patient_id", "Patient/" + id), "Patient/" + id, 300);
    HttpResponse<String> second = Http.put(BASE + "/Patient/" + id, again, "X-B3-TraceId", traceId,
        "Authorization", self);
    assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
    assertThat(etag(second)).isEqualTo("W/\"1\"");
    assertThat(second.headers().firstValue("Last-Modified")).isEqualTo(first.headers().firstValue("Last-Modified"));
    assertThat(second.body()).isEqualTo(first.body()); // the stored version, as it is
    assertThat(Json.parse(second.body()).at("/meta/lastUpdated").asText())
        .isEqualTo(stored.at("/meta/lastUpdated").asText());
    assertThat(historyTotal(id)).isEqualTo(1);
    assertThat(Http.get(BASE + "/Patient?identifier=" + SYSTEM + "%7C" + id).body()).contains("\"total\":1");
    // audited as the update that was asked for, naming the current version
    List<JsonNode> events = AuditTrail.eventsOf(traceId, 1);
    assertThat(events).isNotEmpty();
    assertThat(events.get(0).get("action").asText()).isEqualTo("U");
    assertThat(events.get(0).toString()).contains("Patient/" + id + "/_history/1").doesNotContain("_history/2");

    // XML asked for: the same version
    HttpResponse<String> xml = Http.put(BASE + "/Patient/" + id, patient(id, "Same"), "Accept", "application/fhir+xml");
    assertThat(xml.statusCode()).as(xml.body()).isEqualTo(200);
    assertThat(xml.body()).contains("<versionId value=\"1\"/>");
    assertThat(historyTotal(id)).isEqualTo(1);

    HttpResponse<String> changed = Http.put(BASE + "/Patient/" + id, patient(id, "Other"));
    assertThat(changed.statusCode()).as(changed.body()).isEqualTo(200);
    assertThat(etag(changed)).isEqualTo("W/\"2\"");
    assertThat(historyTotal(id)).isEqualTo(2);
    assertThat(Http.get(BASE + "/Patient?family=Same&identifier=" + SYSTEM + "%7C" + id).body())
        .contains("\"total\":0");
  }

  @Test
  void ifMatchIsCheckedAndAVersionedPutAlwaysWrites() {
    String id = id();
    assertThat(Http.put(BASE + "/Patient/" + id, patient(id, "A")).statusCode()).isEqualTo(201);
    assertThat(Http.put(BASE + "/Patient/" + id, patient(id, "B")).statusCode()).isEqualTo(200);
    HttpResponse<String> stale = Http.put(BASE + "/Patient/" + id, patient(id, "B"), "If-Match", "W/\"1\"");
    assertThat(stale.statusCode()).as(stale.body()).isEqualTo(412);
    assertThat(Json.parse(stale.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    // a versioned PUT of the current version makes the next one even with the same content, as
    // the eHealth service answered the seed's PUT with If-Match "1" with version 2
    HttpResponse<String> current = Http.put(BASE + "/Patient/" + id, patient(id, "B"), "If-Match", "W/\"2\"");
    assertThat(current.statusCode()).as(current.body()).isEqualTo(200);
    assertThat(etag(current)).isEqualTo("W/\"3\"");
    assertThat(historyTotal(id)).isEqualTo(3);
    HttpResponse<String> plain = Http.put(BASE + "/Patient/" + id, patient(id, "B"));
    assertThat(plain.statusCode()).as(plain.body()).isEqualTo(200);
    assertThat(etag(plain)).isEqualTo("W/\"3\"");
    assertThat(historyTotal(id)).isEqualTo(3);
  }

  @Test
  void aPatchThatChangesNothingKeepsTheVersion() {
    String id = id();
    assertThat(Http.put(BASE + "/Patient/" + id, patient(id, "Patched")).statusCode()).isEqualTo(201);
    HttpResponse<String> same = Http.send("PATCH", BASE + "/Patient/" + id,
        "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"Patched\"}]",
        "Content-Type", "application/json-patch+json");
    assertThat(same.statusCode()).as(same.body()).isEqualTo(200);
    assertThat(etag(same)).isEqualTo("W/\"1\"");
    HttpResponse<String> other = Http.send("PATCH", BASE + "/Patient/" + id,
        "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"Changed\"}]",
        "Content-Type", "application/json-patch+json");
    assertThat(other.statusCode()).as(other.body()).isEqualTo(200);
    assertThat(etag(other)).isEqualTo("W/\"2\"");
    assertThat(historyTotal(id)).isEqualTo(2);
  }

  @Test
  void aConditionalUpdateAndATransactionEntryOfTheSameContentKeepTheVersion() {
    String id = id();
    assertThat(Http.put(BASE + "/Patient/" + id, patient(id, "Cond")).statusCode()).isEqualTo(201);
    HttpResponse<String> conditional = Http.put(BASE + "/Patient?identifier=" + SYSTEM + "%7C" + id,
        patient(id, "Cond"));
    assertThat(conditional.statusCode()).as(conditional.body()).isEqualTo(200);
    assertThat(etag(conditional)).isEqualTo("W/\"1\"");

    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"fullUrl\":\"" + BASE
        + "/Patient/" + id + "\",\"resource\":" + patient(id, "Cond") + ",\"request\":{\"method\":\"PUT\",\"url\":"
        + "\"Patient/" + id + "\"}}]}";
    HttpResponse<String> tx = Http.post(BASE, bundle);
    assertThat(tx.statusCode()).as(tx.body()).isEqualTo(200);
    JsonNode response = Json.parse(tx.body()).at("/entry/0/response");
    assertThat(response.get("status").asText()).startsWith("200");
    assertThat(response.get("etag").asText()).isEqualTo("W/\"1\"");
    assertThat(historyTotal(id)).isEqualTo(1);
  }

  @Test
  void anAppointmentPutAgainKeepsItsVersionAndItsBookings() {
    String patient = id();
    assertThat(Http.put(BASE + "/Patient/" + patient, patient(patient, "Booked")).statusCode()).isEqualTo(201);
    String id = id();
    String team = "http://organization.example.org/fhir/CareTeam/noop";
    String appointment = Appointments.ofCareTeam(id, team, patient);
    assertThat(Http.put(BASE + "/Appointment/" + id, appointment).statusCode()).isEqualTo(201);
    HttpResponse<String> again = Http.put(BASE + "/Appointment/" + id, appointment);
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(etag(again)).isEqualTo("W/\"1\"");
    // still booked as before: another appointment of the patient at the same time is told it overlaps
    String other = id();
    HttpResponse<String> overlapping = Http.put(BASE + "/Appointment/" + other,
        Appointments.ofCareTeam(other, team, patient));
    assertThat(overlapping.statusCode()).as(overlapping.body()).isEqualTo(201);
    assertThat(overlapping.headers().allValues("Warning").toString()).contains("Appointment/" + id);
    assertThat(Json.parse(Http.get(BASE + "/Appointment/" + id + "/_history").body()).get("total").asInt()).isEqualTo(1);
  }
}
