package io.appointmentserver.ehealth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The eHealth Appointment rules, each with a valid and a violating case, on a server without the
 * IG: the rules hold in code (profiles it does not know are let through, so that the cases stay
 * about the rules, not about profile validation).
 */
class AppointmentRulesTest {
  static AppointmentServer server;
  static String BASE;
  @BeforeAll
  static void setUp() throws Exception {
    server = TestServer.another(c -> c.withoutIg().withAllowUnknownProfiles(true));
    BASE = server.baseUrl();
    Http.put(BASE + "/Patient/240", "{\"resourceType\":\"Patient\",\"id\":\"240\"}");
    Http.put(BASE + "/Patient/241", "{\"resourceType\":\"Patient\",\"id\":\"241\"}");
  }

  @AfterAll
  static void tearDown() throws Exception {
    server.close();
  }

  static HttpResponse<String> put(ObjectNode a) {
    return Http.put(BASE + "/Appointment/" + a.get("id").asText(), a.toString());
  }

  static void assertViolates(ObjectNode a, String rule) {
    HttpResponse<String> r = put(a);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    assertThat(Json.parse(r.body()).at("/issue/0/diagnostics").asText()).contains(rule);
    assertThat(Http.get(BASE + "/Appointment/" + a.get("id").asText()).statusCode()).isEqualTo(404);
  }

  @Test
  void theSeedAppointmentKeepsEveryRule() {
    assertThat(put(Appointments.seed()).statusCode()).isEqualTo(201);
  }

  /** In a transaction each entry keeps the rules of its own request: one violation, nothing written. */
  @Test
  void aTransactionEntryKeepsTheRulesAndOneViolationWritesNothing() {
    ObjectNode valid = Appointments.seed();
    ObjectNode invalid = Appointments.seed();
    ((ArrayNode) invalid.get("participant")).addObject().put("status", "accepted").putObject("actor")
        .put("reference", "Patient/241");
    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + "{\"resource\":" + valid + ",\"request\":{\"method\":\"PUT\",\"url\":\"Appointment/" + valid.get("id").asText() + "\"}},"
        + "{\"resource\":" + invalid + ",\"request\":{\"method\":\"PUT\",\"url\":\"Appointment/" + invalid.get("id").asText() + "\"}}]}";
    HttpResponse<String> r = Http.post(BASE, bundle);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    assertThat(Json.parse(r.body()).at("/issue/0/diagnostics").asText()).startsWith("Bundle entry 1")
        .contains("single-patient-appointment");
    assertThat(Http.get(BASE + "/Appointment/" + valid.get("id").asText()).statusCode()).isEqualTo(404);
    assertThat(Http.get(BASE + "/Appointment/" + invalid.get("id").asText()).statusCode()).isEqualTo(404);
  }

  @Test
  void responsible1TheResponsibleTeamMustTakePart() {
    ObjectNode a = Appointments.seed();
    ((ObjectNode) a.at("/extension/0/valueReference")).put("reference", "http://organization.fut.trifork.com/fhir/CareTeam/1");
    assertViolates(a, "responsible-1");
    ObjectNode asActor = Appointments.seed();
    ((ObjectNode) asActor.at("/extension/0/valueReference")).put("reference", "http://organization.fut.trifork.com/fhir/Practitioner/35205");
    assertThat(put(asActor).statusCode()).isEqualTo(201);
  }

  @Test
  void singlePatientAppointmentAllowsOnePatientOnly() {
    ObjectNode a = Appointments.seed();
    ((ArrayNode) a.get("participant")).addObject().put("status", "accepted").putObject("actor").put("reference", "Patient/241");
    assertViolates(a.deepCopy(), "single-patient-appointment");
    a.putObject("meta").putArray("profile")
        .add("http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-group-appointment");
    assertThat(put(a.deepCopy()).statusCode()).as("a group appointment has many patients").isEqualTo(201);
    // and so has a group video appointment (its canonical URL is ehealth-group-videoappointment)
    a.put("id", a.get("id").asText() + "-video");
    ((ArrayNode) a.at("/meta/profile")).removeAll()
        .add("http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-group-videoappointment");
    assertThat(put(a).statusCode()).as("a group video appointment has many patients").isEqualTo(201);
  }

  @Test
  void governance1AndResponsible2HoldWhenALegalBasisIsGiven() {
    ObjectNode a = Appointments.seed();
    ((ArrayNode) a.get("extension")).addObject()
        .put("url", "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-legalBasis")
        .putObject("valueCodeableConcept").put("text", "SUL 140");
    assertViolates(a.deepCopy(), "governance-1");
    a.putArray("supportingInformation").addObject().put("reference", "http://x.example.org/fhir/EpisodeOfCare/9");
    assertViolates(a.deepCopy(), "responsible-2");
    for (String ext : new String[] {"ehealth-performing-organization", "ehealth-responsible-organization"}) {
      ((ArrayNode) a.get("extension")).addObject()
          .put("url", "http://ehealth.sundhed.dk/fhir/StructureDefinition/" + ext)
          .putObject("valueReference").put("reference", "http://x.example.org/fhir/Organization/1");
    }
    assertThat(put(a).statusCode()).isEqualTo(201);
  }

  @Test
  void app2AndApp3StartAndEnd() {
    ObjectNode a = Appointments.seed();
    a.remove("end");
    assertViolates(a, "app-2");
    ObjectNode b = Appointments.seed();
    b.remove("start");
    b.remove("end");
    assertViolates(b.deepCopy(), "app-3");
    b.put("status", "proposed");
    assertThat(put(b).statusCode()).isEqualTo(201);
  }

  @Test
  void anAppointmentEndingBeforeItStartsIsA422NotADatabaseError() {
    ObjectNode a = Appointments.seed();
    a.put("end", "2019-07-01T08:59:59.000+02:00");
    assertViolates(a, "ends (2019-07-01T08:59:59.000+02:00) before it starts");
    ObjectNode zero = Appointments.seed();
    zero.put("end", zero.get("start").asText());
    assertThat(put(zero).statusCode()).as("an appointment of no length").isEqualTo(201);
  }

  static final String IDENTIFIER = "http://ehealth.sundhed.dk/id/ehealth-identifier";

  @Test
  void onCreateTheServerAddsTheEhealthIdentifierThatNobodyMayChange() {
    ObjectNode a = Appointments.seed();
    a.remove("id");
    a.putArray("identifier").addObject().put("system", IDENTIFIER).put("value", "chosen-by-client");
    HttpResponse<String> created = Http.post(BASE + "/Appointment", a.toString());
    assertThat(created.statusCode()).isEqualTo(201);
    ObjectNode stored = Json.parse(created.body());
    assertThat(stored.at("/identifier/0/system").asText()).isEqualTo(IDENTIFIER);
    String value = stored.at("/identifier/0/value").asText();
    assertThat(value).isNotEqualTo("chosen-by-client").matches("[0-9a-f-]{36}");
    String url = BASE + "/Appointment/" + stored.get("id").asText();

    stored.put("comment", "kept the identifier");
    assertThat(Http.put(url, stored.toString()).statusCode()).isEqualTo(200);
    ObjectNode changed = stored.deepCopy();
    ((ObjectNode) changed.at("/identifier/0")).put("value", "another");
    HttpResponse<String> r = Http.put(url, changed.toString());
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(Json.parse(r.body()).at("/issue/0/diagnostics").asText()).contains(IDENTIFIER);
    ObjectNode removed = stored.deepCopy();
    removed.remove("identifier");
    assertThat(Http.put(url, removed.toString()).statusCode()).isEqualTo(422);
    assertThat(Http.send("PATCH", url, "[{\"op\":\"remove\",\"path\":\"/identifier\"}]",
        "Content-Type", "application/json-patch+json").statusCode()).isEqualTo(422);
  }

  /**
   * The identifier comes with a POST only. A PUT that creates (the client chose the id) stores the
   * identifiers as sent: the eHealth service's recorded answer to the seed PUT has none, and a
   * client that writes an appointment under its own id (a migration, the IG's exchanges replayed)
   * gets back what it wrote. An eHealth identifier given with such a PUT is kept, and from then on
   * nobody may change or remove it, as one the server gave.
   */
  @Test
  void aPutThatCreatesStoresTheIdentifiersAsSentAndAddsNoEhealthIdentifier() {
    ObjectNode a = Appointments.seed();
    assertThat(a.has("identifier")).isFalse();
    HttpResponse<String> created = put(a);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(Json.parse(created.body()).has("identifier")).as(created.body()).isFalse();
    assertThat(Json.parse(Http.get(BASE + "/Appointment/" + a.get("id").asText()).body()).has("identifier")).isFalse();

    ObjectNode given = Appointments.seed();
    given.putArray("identifier").addObject().put("system", IDENTIFIER).put("value", "given-by-client");
    HttpResponse<String> r = put(given);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(Json.parse(r.body()).get("identifier")).isEqualTo(given.get("identifier"));
    ((ObjectNode) given.at("/identifier/0")).put("value", "changed");
    HttpResponse<String> changed = put(given);
    assertThat(changed.statusCode()).as(changed.body()).isEqualTo(422);
    assertThat(Json.parse(changed.body()).at("/issue/0/diagnostics").asText()).contains("given-by-client");
  }

  @Test
  void aGroupAppointmentsCreatorIsTheCreatingTeamAndNeverChanges() {
    String team = "http://organization.fut.trifork.com/fhir/CareTeam/35102";
    String token = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", java.util.List.of("Appointment.*"),
        java.util.Map.of("care_team_id", team), null, 300);
    ObjectNode a = Appointments.seed();
    a.remove("id");
    a.putObject("meta").putArray("profile").add("http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-group-appointment");
    ObjectNode wrongCreator = a.deepCopy();
    ((ArrayNode) wrongCreator.get("extension")).addObject()
        .put("url", "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-creator")
        .putObject("valueReference").put("reference", "http://organization.fut.trifork.com/fhir/CareTeam/1");
    assertThat(Http.post(BASE + "/Appointment", wrongCreator.toString(), "Authorization", token).statusCode()).isEqualTo(422);

    HttpResponse<String> created = Http.post(BASE + "/Appointment", a.toString(), "Authorization", token);
    assertThat(created.statusCode()).isEqualTo(201);
    ObjectNode stored = Json.parse(created.body());
    assertThat(stored.toString()).contains("ehealth-creator").contains(team);
    String url = BASE + "/Appointment/" + stored.get("id").asText();
    stored.put("comment", "the creator team may change it");
    assertThat(Http.put(url, stored.toString(), "Authorization", token).statusCode()).isEqualTo(200);
    ObjectNode moved = stored.deepCopy();
    for (var ext : moved.get("extension")) {
      if (ext.get("url").asText().endsWith("ehealth-creator")) {
        ((ObjectNode) ext.get("valueReference")).put("reference", "http://organization.fut.trifork.com/fhir/CareTeam/2");
      }
    }
    assertThat(Http.put(url, moved.toString()).statusCode()).isEqualTo(422);
  }

  @Test
  void aCancelledAppointmentKeepsItsStatus() {
    ObjectNode a = Appointments.seed();
    assertThat(put(a).statusCode()).isEqualTo(201);
    a.put("status", "cancelled");
    assertThat(put(a).statusCode()).isEqualTo(200);
    a.put("comment", "still cancelled, other text");
    assertThat(put(a).statusCode()).isEqualTo(200);
    a.put("status", "booked");
    HttpResponse<String> r = put(a);
    assertThat(r.statusCode()).isEqualTo(422);
    assertThat(Json.parse(r.body()).at("/issue/0/diagnostics").asText())
        .startsWith("APPOINTMENT_NOT_ALLOWED_TO_UPDATE_STATUS_ONCE_THE_APPOINTMENT_HAS_ENTERED_CANCELLED_OR_ENTEREDINERROR");
    assertThat(Json.parse(Http.get(BASE + "/Appointment/" + a.get("id").asText()).body()).get("status").asText())
        .isEqualTo("cancelled");
    // and by patch, too
    HttpResponse<String> patched = Http.send("PATCH", BASE + "/Appointment/" + a.get("id").asText(),
        "[{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"arrived\"}]", "Content-Type", "application/json-patch+json");
    assertThat(patched.statusCode()).isEqualTo(422);

    ObjectNode e = Appointments.seed();
    e.put("status", "entered-in-error");
    assertThat(put(e).statusCode()).isEqualTo(201);
    e.put("status", "cancelled");
    assertThat(put(e).statusCode()).isEqualTo(422);
  }
}
