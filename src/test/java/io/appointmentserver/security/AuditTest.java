package io.appointmentserver.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.store.AuditEvents;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.AuditTrail;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.nio.charset.StandardCharsets;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every access by a user is audited as eHealth prescribes; system users and refusals are not. */
class AuditTest {
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String BASE = TestServer.base();
  static final String TEAM = "http://organization.example.org/fhir/CareTeam/audit-" + RUN;
  static final String PATIENT = "audit-p-" + RUN;
  static final String APPOINTMENT = "audit-a-" + RUN;
  static final String ORG = "http://organization.example.org/fhir/Organization/77";

  static String practitioner(List<String> roles) {
    return "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", roles,
        Map.of("care_team_id", TEAM, "organization_id", ORG), "http://organization.example.org/fhir/Practitioner/5", 300);
  }

  @BeforeAll
  static void data() {
    Http.put(BASE + "/Patient/" + PATIENT, "{\"resourceType\":\"Patient\",\"id\":\"" + PATIENT + "\"}");
    assertThat(Http.put(BASE + "/Appointment/" + APPOINTMENT, Appointments.ofCareTeam(APPOINTMENT, TEAM, PATIENT))
        .statusCode()).isEqualTo(201);
  }

  static JsonNode entityWithRole(JsonNode event, String role) {
    for (JsonNode entity : event.get("entity")) {
      if (entity.get("role").get("code").asText().equals(role)) {
        return entity;
      }
    }
    return null;
  }

  @Test
  void aPractitionersReadIsAuditedWithinASecondWithPatientTraceAndRequestor() throws Exception {
    String trace = UUID.randomUUID().toString().replace("-", "");
    assertThat(Http.get(BASE + "/Appointment/" + APPOINTMENT, "Authorization", practitioner(List.of("Appointment.read")),
        "x-b3-traceid", trace).statusCode()).isEqualTo(200);
    List<JsonNode> events = AuditTrail.eventsOf(trace, 1);
    assertThat(events).hasSize(1);
    JsonNode e = events.get(0);
    assertThat(e.get("action").asText()).isEqualTo("R");
    assertThat(e.get("subtype").get(0).get("code").asText()).isEqualTo("read");
    assertThat(e.get("outcomeDesc").asText()).isEqualTo("Appointment");
    assertThat(e.get("agent")).hasSize(1);
    JsonNode agent = e.get("agent").get(0);
    assertThat(agent.get("requestor").asBoolean()).isTrue();
    assertThat(agent.get("reference").get("reference").asText()).isEqualTo("http://organization.example.org/fhir/Practitioner/5");
    assertThat(agent.toString()).contains(ORG);
    assertThat(entityWithRole(e, "1").get("reference").get("reference").asText()).isEqualTo("Patient/" + PATIENT);
    assertThat(entityWithRole(e, "21").get("identifier").get("value").asText()).isEqualTo(trace);
  }

  @Test
  void aWriteIsAuditedInItsOwnTransaction() throws Exception {
    String trace = "w" + RUN + "0000000000000000";
    assertThat(Http.put(BASE + "/Appointment/" + APPOINTMENT, Appointments.ofCareTeam(APPOINTMENT, TEAM, PATIENT),
        "Authorization", practitioner(List.of("Appointment.*")), "x-b3-traceid", trace).statusCode()).isEqualTo(200);
    // no waiting: the event was committed with the write
    JsonNode page = Json.parse(Http.get(BASE + "/AuditEvent/_history?_count=50").body());
    List<JsonNode> events = new ArrayList<>();
    page.get("entry").forEach(entry -> {
      if (entry.get("resource").toString().contains(trace)) {
        events.add(entry.get("resource"));
      }
    });
    assertThat(events).hasSize(1);
    assertThat(events.get(0).get("action").asText()).isEqualTo("U");
    assertThat(entityWithRole(events.get(0), "4").get("reference").get("reference").asText())
        .startsWith("Appointment/" + APPOINTMENT + "/_history/");
  }

  /**
   * An update's event is stored by the update's own statement: it names the version written and
   * an agent first seen in that write, and nothing is stored when the update is not (a stale
   * If-Match; a stored version outside the user's context).
   */
  @Test
  void anUpdatesEventIsStoredWithTheUpdateOnly() throws Exception {
    String auth = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Appointment.*"),
        Map.of("care_team_id", TEAM, "organization_id", ORG), "http://organization.example.org/fhir/Practitioner/w" + RUN, 300);
    // changed content: a PUT of the current content writes no version
    String body = Appointments.ofCareTeam(APPOINTMENT, TEAM, PATIENT)
        .replace("\"status\":\"booked\",", "\"status\":\"booked\",\"comment\":\"u" + RUN + "\",");
    String trace = "u" + RUN + "0000000000000000";
    HttpResponse<String> written = Http.put(BASE + "/Appointment/" + APPOINTMENT, body, "Authorization", auth,
        "x-b3-traceid", trace);
    assertThat(written.statusCode()).isEqualTo(200);
    String version = written.headers().firstValue("ETag").orElseThrow().replaceAll("\\D", "");
    List<JsonNode> events = AuditTrail.eventsOf(trace, 1);
    assertThat(events).hasSize(1);
    assertThat(entityWithRole(events.get(0), "4").get("reference").get("reference").asText())
        .isEqualTo("Appointment/" + APPOINTMENT + "/_history/" + version);
    JsonNode agent = events.get(0).get("agent").get(0);
    assertThat(agent.get("reference").get("reference").asText()).isEqualTo("http://organization.example.org/fhir/Practitioner/w" + RUN);
    assertThat(agent.get("extension").get(0).get("valueReference").get("reference").asText()).isEqualTo(ORG);
    assertThat(entityWithRole(events.get(0), "1").get("reference").get("reference").asText()).isEqualTo("Patient/" + PATIENT);

    String stale = "v" + RUN + "0000000000000000";
    assertThat(Http.put(BASE + "/Appointment/" + APPOINTMENT, body, "Authorization", auth, "x-b3-traceid", stale,
        "If-Match", "W/\"1\"").statusCode()).isIn(409, 412);
    String other = "o" + RUN;
    String otherTeam = "http://organization.example.org/fhir/CareTeam/other-" + RUN;
    assertThat(Http.put(BASE + "/Appointment/" + other, Appointments.ofCareTeam(other, otherTeam, PATIENT))
        .statusCode()).isEqualTo(201);
    String outside = "x" + RUN + "0000000000000000";
    assertThat(Http.put(BASE + "/Appointment/" + other, Appointments.ofCareTeam(other, TEAM, PATIENT),
        "Authorization", auth, "x-b3-traceid", outside).statusCode()).isEqualTo(403);
    Thread.sleep(1100); // nothing queued either
    assertThat(AuditTrail.eventsOf(stale, 0)).isEmpty();
    assertThat(AuditTrail.eventsOf(outside, 0)).isEmpty();
  }

  /**
   * Each entry of a transaction is audited as its own request, in the transaction; a refused
   * transaction (its second entry outside the user's context) leaves no event.
   */
  @Test
  void eachEntryOfATransactionIsAuditedAndARefusedOneIsNot() throws Exception {
    String trace = "t" + RUN + "0000000000000000";
    String newOne = Appointments.ofCareTeam(null, TEAM, PATIENT);
    String update = Appointments.ofCareTeam(APPOINTMENT, TEAM, PATIENT);
    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + "{\"resource\":" + newOne + ",\"request\":{\"method\":\"POST\",\"url\":\"Appointment\"}},"
        + "{\"resource\":" + update + ",\"request\":{\"method\":\"PUT\",\"url\":\"Appointment/" + APPOINTMENT + "\"}}]}";
    String auth = practitioner(List.of("Appointment.*"));
    assertThat(Http.post(BASE, bundle, "Authorization", auth, "x-b3-traceid", trace).statusCode()).isEqualTo(200);
    List<JsonNode> events = AuditTrail.eventsOf(trace, 2);
    assertThat(events).hasSize(2);
    assertThat(events.stream().map(e -> e.get("action").asText()).sorted().toList()).containsExactly("C", "U");

    String refused = "r" + RUN + "0000000000000000";
    String outside = Appointments.ofCareTeam(null, "http://organization.example.org/fhir/CareTeam/other", PATIENT);
    String refusedBundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + "{\"resource\":" + newOne + ",\"request\":{\"method\":\"POST\",\"url\":\"Appointment\"}},"
        + "{\"resource\":" + outside + ",\"request\":{\"method\":\"POST\",\"url\":\"Appointment\"}}]}";
    HttpResponse<String> r = Http.post(BASE, refusedBundle, "Authorization", auth, "x-b3-traceid", refused);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    assertThat(r.body()).contains("Bundle entry 1").contains("SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT");
    assertThat(AuditTrail.eventsOf(refused, 0)).isEmpty();
  }

  @Test
  void theTraceIdIsMadeWhenAbsentAndTheQueryIsStoredWithCprNumbersMasked() throws Exception {
    var r = Http.get(BASE + "/Appointment/" + APPOINTMENT + "/_history?_count=5&note=0101701234",
        "Authorization", practitioner(List.of("Appointment.read")));
    assertThat(r.statusCode()).isEqualTo(200);
    String trace = r.headers().firstValue("X-B3-TraceId").orElseThrow();
    assertThat(trace).matches("[0-9a-f]{32}");
    JsonNode e = AuditTrail.eventsOf(trace, 1).get(0);
    assertThat(e.get("subtype").get(0).get("code").asText()).isEqualTo("history-instance");
    String query = new String(Base64.getDecoder().decode(entityWithRole(e, "4").get("query").asText()),
        StandardCharsets.UTF_8);
    assertThat(query).contains("_count=5").contains("xxxxxx-xxxx").doesNotContain("0101701234");
    assertThat(AuditLog.maskCpr("identifier=010170-1234&x=3112999999")).isEqualTo("identifier=xxxxxx-xxxx&x=xxxxxx-xxxx");
    assertThat(AuditLog.maskCpr("phone=12345678901")).isEqualTo("phone=12345678901");
  }

  @Test
  void systemUsersHeadRequestsAndRefusedRequestsAreNotAudited() throws Exception {
    String systemTrace = "s" + RUN + "1111111111111111";
    Http.get(BASE + "/Appointment/" + APPOINTMENT, "x-b3-traceid", systemTrace);
    String refusedTrace = "r" + RUN + "2222222222222222";
    assertThat(Http.get(BASE + "/Appointment/" + APPOINTMENT, "Authorization", practitioner(List.of("Patient.read")),
        "x-b3-traceid", refusedTrace).statusCode()).isEqualTo(403);
    String headTrace = "h" + RUN + "3333333333333333";
    Http.send("HEAD", BASE + "/Appointment/" + APPOINTMENT + "?_format=json", null,
        "Authorization", practitioner(List.of("Appointment.read")), "x-b3-traceid", headTrace);
    Thread.sleep(1500);
    assertThat(AuditTrail.eventsOf(systemTrace, 0)).isEmpty();
    assertThat(AuditTrail.eventsOf(refusedTrace, 0)).isEmpty();
    assertThat(AuditTrail.eventsOf(headTrace, 0)).isEmpty();
  }

  /** The id of the one event carrying {@code traceId}. */
  static String idOf(String traceId) throws InterruptedException {
    List<JsonNode> events = AuditTrail.eventsOf(traceId, 1);
    assertThat(events).hasSize(1);
    return events.get(0).get("id").asText();
  }

  @Test
  void recordedEventsAreReadAsAuditEventResourcesByUsersWithThePrivilege() throws Exception {
    String trace = "e" + RUN + "4444444444444444";
    assertThat(Http.get(BASE + "/Appointment/" + APPOINTMENT, "Authorization", practitioner(List.of("Appointment.read")),
        "x-b3-traceid", trace).statusCode()).isEqualTo(200);
    String id = idOf(trace);
    var read = Http.get(BASE + "/AuditEvent/" + id);
    assertThat(read.statusCode()).isEqualTo(200);
    JsonNode event = Json.parse(read.body());
    assertThat(event.get("id").asText()).isEqualTo(id);
    assertThat(event.get("meta").get("versionId").asText()).isEqualTo("1");
    assertThat(read.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(entityWithRole(event, "21").get("identifier").get("value").asText()).isEqualTo(trace);
    // the same through HAPI (XML), as a version, and as its instance history
    var xml = Http.get(BASE + "/AuditEvent/" + id + "?_format=xml");
    assertThat(xml.statusCode()).isEqualTo(200);
    assertThat(xml.body()).contains("<AuditEvent").contains(trace);
    assertThat(Http.get(BASE + "/AuditEvent/" + id + "/_history/1").body()).isEqualTo(read.body());
    assertThat(Http.get(BASE + "/AuditEvent/" + id + "/_history/1?_format=xml").statusCode()).isEqualTo(200);
    assertThat(Http.get(BASE + "/AuditEvent/" + id + "/_history/2").statusCode()).isEqualTo(404);
    JsonNode history = Json.parse(Http.get(BASE + "/AuditEvent/" + id + "/_history").body());
    assertThat(history.get("total").asInt()).isEqualTo(1);
    // an audit event cannot be deleted or replaced through the API
    assertThat(Http.send("DELETE", BASE + "/AuditEvent/" + id, null).statusCode()).isBetween(400, 499);
    assertThat(Http.get(BASE + "/AuditEvent/" + id).body()).isEqualTo(read.body());

    // users: the AuditEvent privilege, and the patient of the event within their context
    String otherPatient = "Bearer " + Tokens.sign(TestServer.dataDir(), "PATIENT", List.of("AuditEvent.read"), Map.of(),
        BASE + "/Patient/someone-else-" + RUN, 300);
    String thePatient = "Bearer " + Tokens.sign(TestServer.dataDir(), "PATIENT", List.of("AuditEvent.read"), Map.of(),
        BASE + "/Patient/" + PATIENT, 300);
    assertThat(Http.get(BASE + "/AuditEvent/" + id, "Authorization", practitioner(List.of("Appointment.read")))
        .statusCode()).isEqualTo(403);
    assertThat(Http.get(BASE + "/AuditEvent/" + id, "Authorization", practitioner(List.of("AuditEvent.read")))
        .statusCode()).isEqualTo(200);
    assertThat(Http.get(BASE + "/AuditEvent/" + id, "Authorization", otherPatient).statusCode()).isEqualTo(403);
    assertThat(Http.get(BASE + "/AuditEvent/" + id + "?_format=xml", "Authorization", otherPatient).statusCode())
        .isEqualTo(403);
    assertThat(Http.get(BASE + "/AuditEvent/" + id, "Authorization", thePatient).statusCode()).isEqualTo(200);
  }

  /** Read events still queued when a server stops are stored before it stops. */
  @Test
  void queuedEventsAreStoredOnShutdown() throws Exception {
    String trace = "q" + RUN;
    int reads = 50;
    try (AppointmentServer other = TestServer.another(c -> c)) {
      String token = practitioner(List.of("Appointment.read"));
      for (int i = 0; i < reads; i++) {
        assertThat(Http.get(other.baseUrl() + "/Appointment/" + APPOINTMENT, "Authorization", token,
            "x-b3-traceid", trace + String.format("%016d", i)).statusCode()).isEqualTo(200);
      }
    }
    // no waiting: the server was closed, so its events are in the database
    JsonNode page = Json.parse(Http.get(BASE + "/AuditEvent/_history?_count=500").body());
    long found = 0;
    for (JsonNode e : page.get("entry")) {
      if (e.get("resource").toString().contains("\"" + trace)) {
        found++;
      }
    }
    assertThat(found).isEqualTo(reads);
  }

  /**
   * The writer retries a batch until it is stored; a retry after a commit whose acknowledgement
   * was lost stores nothing twice. COPY's escapes hold for what the values may contain, and the
   * AuditEvent rendered from the stored values gives them back as they were.
   */
  @Test
  void aBatchStoredAgainIsStoredOnceWithItsValuesAsTheyWere() {
    var store = new io.appointmentserver.store.ResourceStore(TestServer.postgres().getPostgresDatabase(),
        java.time.Clock.systemUTC());
    java.time.Instant now = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    List<AuditEvents.Event> batch = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      batch.add(new AuditEvents.Event(AuditEvents.newId(now), now, new AuditEvents.Subject("Patient/" + PATIENT, "R",
          "read", "Appointment", i == 2 ? null : "Appointment/x/_history/" + i),
          AuditEvents.Agent.of(new AuditEvents.User("PRACTITIONER", "Practitioner/\\5", "Tab\there \"quoted\"\r\n " + i,
              "sub\\" + i), i == 1 ? null : ORG, "127.0.0.1"),
          new AuditEvents.Trace("trace\t" + i, i == 0 ? null : "a=b\tc\\n&x=æøå\0")));
    }
    store.writes().appendAudit(batch);
    store.writes().appendAudit(batch.subList(1, 3)); // as a retry would
    store.writes().appendAudit(batch);
    for (int i = 0; i < 3; i++) {
      AuditEvents.Event sent = batch.get(i);
      var r = Http.get(BASE + "/AuditEvent/" + sent.id());
      assertThat(r.statusCode()).isEqualTo(200);
      JsonNode e = Json.parse(r.body());
      assertThat(java.time.Instant.parse(e.get("recorded").asText())).isEqualTo(now);
      JsonNode agent = e.get("agent").get(0);
      assertThat(agent.get("name").asText()).isEqualTo(sent.agent().user().name());
      assertThat(agent.get("reference").get("display").asText()).isEqualTo(sent.agent().user().name());
      assertThat(agent.get("reference").get("reference").asText()).isEqualTo("Practitioner/\\5");
      assertThat(agent.get("userId").get("value").asText()).isEqualTo("sub\\" + i);
      assertThat(agent.has("extension")).isEqualTo(i != 1);
      assertThat(entityWithRole(e, "21").get("identifier").get("value").asText()).isEqualTo("trace\t" + i);
      JsonNode resource = entityWithRole(e, "4");
      if (i == 2) {
        assertThat(resource.has("reference")).isFalse();
        assertThat(resource.get("name").asText()).isEqualTo("Appointment");
      } else {
        assertThat(resource.get("reference").get("reference").asText()).isEqualTo("Appointment/x/_history/" + i);
      }
      if (i == 0) {
        assertThat(resource.has("query")).isFalse();
      } else {
        // the NUL character, which PostgreSQL's text cannot hold, is stored as U+FFFD
        assertThat(new String(Base64.getDecoder().decode(resource.get("query").asText()), StandardCharsets.UTF_8))
            .isEqualTo("a=b\tc\\n&x=æøå\uFFFD");
      }
      assertThat(Json.parse(Http.get(BASE + "/AuditEvent/" + sent.id() + "/_history").body()).get("total").asInt())
          .isEqualTo(1);
    }
    String thePatient = "Bearer " + Tokens.sign(TestServer.dataDir(), "PATIENT", List.of("AuditEvent.read"), Map.of(),
        BASE + "/Patient/" + PATIENT, 300);
    assertThat(Http.get(BASE + "/AuditEvent/" + batch.get(0).id(), "Authorization", thePatient).statusCode())
        .isEqualTo(200);
  }
}
