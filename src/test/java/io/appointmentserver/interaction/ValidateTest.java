package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.AuditTrail;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.IgExchange;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code $validate} over HTTP: the eHealth IG's recorded exchanges answer as recorded, invalid
 * content is a 412 naming what is wrong, the modes run the rules of their write, nothing is stored,
 * and the privileges, context and audit of the operation.
 */
class ValidateTest {
  static final String BASE = TestServer.base();
  static final String JSON = "application/fhir+json";
  static final String TEAM = "http://organization.fut.trifork.com/fhir/CareTeam/35102";

  static String parameters(String resource, String... more) {
    StringBuilder b = new StringBuilder("{\"resourceType\":\"Parameters\",\"parameter\":[");
    String sep = "";
    if (resource != null) {
      b.append("{\"name\":\"resource\",\"resource\":").append(resource).append('}');
      sep = ",";
    }
    for (int i = 0; i < more.length; i += 2) {
      b.append(sep).append("{\"name\":\"").append(more[i]).append("\",\"valueString\":\"").append(more[i + 1])
          .append("\"}");
      sep = ",";
    }
    return b.append("]}").toString();
  }

  static HttpResponse<String> validate(String path, String body, String... headers) {
    String[] all = Stream.concat(Stream.of("Content-Type", JSON), Stream.of(headers)).toArray(String[]::new);
    return Http.post(BASE + path, body, all);
  }

  /** The distinct (severity, code) pairs of an OperationOutcome. */
  static Set<String> issues(String outcome) {
    Set<String> out = new TreeSet<>();
    for (JsonNode i : Json.parse(outcome).get("issue")) {
      out.add(i.get("severity").asText() + "/" + i.get("code").asText());
    }
    return out;
  }

  /**
   * Where this server's validator (HAPI 8.8's instance validator, without LOINC or the Danish
   * ministries' code systems) judges a recorded body otherwise than the eHealth service's (HAPI
   * 5.0.2's) did: the status and issues it gives instead, each for the reason said.
   */
  static final Map<String, String> DIFFERENT = Map.of(
      // an extensible binding: the newer validator warns where the older one said nothing
      "POST_Device_validate", "200 [warning/code-invalid]",
      // LOINC is not loaded: its codes cannot be checked against a required binding
      "POST_DocumentReference_validate", "412 [error/not-found]",
      // http://www.justitsministeriet.dk/ is unknown, so ehealth-provenance-policies cannot be expanded
      "POST_Provenance_validate", "412 [error/code-invalid, error/not-found]",
      // the Questionnaire the response answers is on another server
      "POST_QuestionnaireResponse_validate", "200 [warning/required]",
      // a test StructureDefinition with a relative url, no base and a UUID for a type
      "POST_StructureDefinition_validate", "412 [error/invalid, error/invariant, warning/code-invalid, warning/not-found]");

  @Test
  void theRecordedExchangesAnswerAsRecorded() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(IgExchange.folder())) {
      files = s.filter(p -> p.getFileName().toString().matches("POST_.*_validate\\.md")).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThanOrEqualTo(21);
    for (Path f : files) {
      String name = f.getFileName().toString().replaceFirst("\\.md$", "");
      IgExchange x = IgExchange.load(name);
      String token = Tokens.resign(TestServer.dataDir(), x.header("Authorization").substring("Bearer ".length()));
      HttpResponse<String> r = Http.post(BASE + x.path(), x.body(), "Content-Type", JSON,
          "Authorization", "Bearer " + token);
      String expected = DIFFERENT.getOrDefault(name, "200 " + issues(x.response()));
      assertThat(r.statusCode() + " " + issues(r.body())).as(name + ": " + r.body()).isEqualTo(expected);
    }
  }

  @Test
  void invalidContentIsA412NamingTheProblemAndNothingIsStored() {
    String marker = UUID.randomUUID().toString();
    int before = total("Appointment");
    // app-2: start without end
    String appointment = "{\"resourceType\":\"Appointment\",\"status\":\"booked\",\"comment\":\"" + marker
        + "\",\"start\":\"2026-01-01T10:00:00Z\",\"participant\":[{\"status\":\"accepted\"}]}";
    for (String body : List.of(parameters(appointment), appointment)) { // Parameters, or the resource itself
      HttpResponse<String> r = validate("/Appointment/$validate", body);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(412);
      assertThat(issues(r.body())).contains("error/invariant");
      assertThat(r.body()).contains("app-2");
    }
    assertThat(total("Appointment")).isEqualTo(before);
  }

  static int total(String type) {
    HttpResponse<String> r = Http.get(BASE + "/" + type + "?_total=accurate&_count=1");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Json.parse(r.body()).get("total").asInt();
  }

  @Test
  void validContentWithoutProfilesHasNoIssues() {
    String appointment = "{\"resourceType\":\"Appointment\",\"status\":\"proposed\",\"participant\":[{\"status\":\"accepted\"}]}";
    HttpResponse<String> r = validate("/Appointment/$validate", parameters(appointment));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(issues(r.body())).containsExactly("information/informational");
  }

  @Test
  void theProfileParameterValidatesAgainstThatProfileToo() {
    String appointment = "{\"resourceType\":\"Appointment\",\"status\":\"proposed\",\"participant\":[{\"status\":\"accepted\"}]}";
    HttpResponse<String> r = validate("/Appointment/$validate", parameters(appointment, "profile",
        "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-appointment"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(412);
    assertThat(issues(r.body()).stream().anyMatch(i -> i.startsWith("error/"))).isTrue();
  }

  @Test
  void modeUpdateRunsTheChangeRuleAgainstTheStoredVersion() {
    ObjectNode a = Appointments.seed();
    String id = "validate-" + UUID.randomUUID().toString().substring(0, 8);
    a.put("id", id).put("status", "cancelled");
    Http.put(BASE + "/Patient/240", "{\"resourceType\":\"Patient\",\"id\":\"240\"}");
    assertThat(Http.put(BASE + "/Appointment/" + id, a.toString()).statusCode()).isEqualTo(201);

    a.put("status", "booked");
    HttpResponse<String> refused = validate("/Appointment/" + id + "/$validate", parameters(a.toString(), "mode", "update"));
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(412);
    assertThat(refused.body()).contains("APPOINTMENT_NOT_ALLOWED_TO_UPDATE_STATUS");
    // without a mode the content alone is judged: a booked appointment is fine
    assertThat(validate("/Appointment/" + id + "/$validate", parameters(a.toString())).statusCode()).isEqualTo(200);
    a.put("status", "cancelled").put("comment", "still cancelled");
    HttpResponse<String> ok = validate("/Appointment/" + id + "/$validate", parameters(a.toString(), "mode", "update"));
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(validate("/Appointment/" + id + "/$validate", parameters(null, "mode", "delete")).statusCode()).isEqualTo(200);
    // nothing was written
    JsonNode stored = Json.parse(Http.get(BASE + "/Appointment/" + id).body());
    assertThat(stored.get("meta").get("versionId").asText()).isEqualTo("1");
    assertThat(stored.path("comment").asText()).isNotEqualTo("still cancelled");
  }

  @Test
  void badRequestsAreRefusedWithAnOutcome() {
    String appointment = "{\"resourceType\":\"Appointment\",\"status\":\"proposed\",\"participant\":[{\"status\":\"accepted\"}]}";
    HttpResponse<String> noId = validate("/Appointment/$validate", parameters(appointment, "mode", "update"));
    assertThat(noId.statusCode()).as(noId.body()).isEqualTo(400);
    assertThat(noId.body()).contains("OperationOutcome");
    HttpResponse<String> badMode = validate("/Appointment/$validate", parameters(appointment, "mode", "sideways"));
    assertThat(badMode.statusCode()).as(badMode.body()).isEqualTo(400);
    HttpResponse<String> wrongType = validate("/Patient/$validate", parameters(appointment));
    assertThat(wrongType.statusCode()).as(wrongType.body()).isEqualTo(400);
    HttpResponse<String> noResource = validate("/Appointment/$validate", parameters(null));
    assertThat(noResource.statusCode()).as(noResource.body()).isEqualTo(400);
    HttpResponse<String> missing = validate("/Appointment/no-such-one/$validate", parameters(appointment, "mode", "update"));
    assertThat(missing.statusCode()).as(missing.body()).isEqualTo(404);
    // without a mode the content is validated whether or not the resource exists, as the eHealth service does
    assertThat(validate("/Appointment/no-such-one/$validate", parameters(appointment)).statusCode()).isEqualTo(200);
    HttpResponse<String> notJson = validate("/Appointment/$validate", "{\"resourceType\":");
    assertThat(notJson.statusCode()).as(notJson.body()).isEqualTo(400);
  }

  @Test
  void anyUserMayValidateContentButAStoredResourceNeedsItsReaderAndIsAudited() throws Exception {
    String appointment = "{\"resourceType\":\"Appointment\",\"status\":\"proposed\",\"participant\":[{\"status\":\"accepted\"}]}";
    String noRoles = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of(), Map.of(), null, 300);
    assertThat(validate("/Appointment/$validate", parameters(appointment), "Authorization", noRoles).statusCode())
        .isEqualTo(200);
    assertThat(validate("/Appointment/$validate", parameters(appointment), "Authorization", Http.NO_AUTH).statusCode())
        .isEqualTo(401);

    ObjectNode a = Appointments.seed();
    String id = "validate-" + UUID.randomUUID().toString().substring(0, 8);
    a.put("id", id);
    Http.put(BASE + "/Patient/240", "{\"resourceType\":\"Patient\",\"id\":\"240\"}");
    assertThat(Http.put(BASE + "/Appointment/" + id, a.toString()).statusCode()).isEqualTo(201);
    assertThat(validate("/Appointment/" + id + "/$validate", parameters(a.toString()), "Authorization", noRoles)
        .statusCode()).isEqualTo(403); // the instance level needs the type's read privilege

    String trace = UUID.randomUUID().toString().replace("-", "");
    String practitioner = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Appointment.read"),
        Map.of("care_team_id", TEAM), null, 300);
    HttpResponse<String> r = validate("/Appointment/" + id + "/$validate", parameters(a.toString(), "mode", "update"),
        "Authorization", practitioner, "X-B3-TraceId", trace);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<JsonNode> events = AuditTrail.eventsOf(trace, 1);
    assertThat(events).isNotEmpty();
    assertThat(events.get(0).toString()).contains("$validate").contains("Appointment/" + id);

    String otherTeam = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Appointment.read"),
        Map.of("care_team_id", "http://organization.fut.trifork.com/fhir/CareTeam/1"), null, 300);
    assertThat(validate("/Appointment/" + id + "/$validate", parameters(a.toString(), "mode", "update"),
        "Authorization", otherTeam).statusCode()).isEqualTo(403);
  }
}
