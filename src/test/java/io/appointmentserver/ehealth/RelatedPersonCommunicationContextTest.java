package io.appointmentserver.ehealth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.AuditTrail;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Who sees and changes eHealth Communications and RelatedPersons: a practitioner those of the care
 * team (sender or recipient care team) or the episode of care in their context, a citizen their
 * own; in the SQL of search and history (not found), 403 on read and write, every read audited
 * per patient.
 */
class RelatedPersonCommunicationContextTest {
  static final String BASE = TestServer.base();
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String SD = "http://ehealth.sundhed.dk/fhir/StructureDefinition/";
  static final String P1 = "https://patient.example.org/fhir/Patient/ctx1-" + RUN;
  static final String P2 = "https://patient.example.org/fhir/Patient/ctx2-" + RUN;
  static final String T1 = "https://organization.example.org/fhir/CareTeam/ctx1-" + RUN;
  static final String T2 = "https://organization.example.org/fhir/CareTeam/ctx2-" + RUN;
  static final String E1 = "https://careplan.example.org/fhir/EpisodeOfCare/ctx1-" + RUN;
  static final String E2 = "https://careplan.example.org/fhir/EpisodeOfCare/ctx2-" + RUN;
  static final String C1 = "ctx-c1-" + RUN;
  static final String C2 = "ctx-c2-" + RUN;
  static final String R1 = "ctx-r1-" + RUN;
  static final String R2 = "ctx-r2-" + RUN;
  static final List<String> ROLES = List.of("Communication.*", "RelatedPerson.*");

  /** A Communication (no profile: the general server takes its PUT) of {@code patient}, team and episode. */
  static String communication(String id, String patient, String team, String episode) {
    return "{\"resourceType\":\"Communication\",\"id\":\"" + id + "\",\"extension\":[{\"url\":\"" + SD
        + "ehealth-communication-senderCareTeam\",\"valueReference\":{\"reference\":\"" + team + "\"}}],"
        + "\"status\":\"completed\",\"subject\":{\"reference\":\"" + patient + "\"},\"context\":{\"reference\":\""
        + episode + "\"}}";
  }

  static String relatedPerson(String id, String patient) {
    return "{\"resourceType\":\"RelatedPerson\",\"id\":\"" + id + "\",\"patient\":{\"reference\":\"" + patient
        + "\"},\"name\":[{\"family\":\"Hansen\"}]}";
  }

  static String practitioner(Map<String, String> context) {
    return "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", ROLES, context,
        "https://organization.example.org/fhir/Practitioner/ctx-" + RUN, 300);
  }

  static String citizen(String patient) {
    return "Bearer " + Tokens.sign(TestServer.dataDir(), "PATIENT", ROLES, Map.of("patient_id", patient), patient, 300);
  }

  @BeforeAll
  static void data() {
    // C1 is part of C2: an include of it must not show C2 to whom C2 is out of reach
    for (String[] c : new String[][] {{C2, P2, T2, E2}, {C1, P1, T1, E1}}) {
      String json = communication(c[0], c[1], c[2], c[3]);
      if (c[0].equals(C1)) {
        json = json.replace("\"status\"", "\"partOf\":[{\"reference\":\"Communication/" + C2 + "\"}],\"status\"");
      }
      HttpResponse<String> r = Http.put(BASE + "/Communication/" + c[0], json);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }
    for (String[] p : new String[][] {{R1, P1}, {R2, P2}}) {
      HttpResponse<String> r = Http.put(BASE + "/RelatedPerson/" + p[0], relatedPerson(p[0], p[1]));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }
  }

  static List<String> ids(String query, String token) {
    HttpResponse<String> r = Http.get(BASE + "/" + query, "Authorization", token);
    assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(200);
    List<String> out = new ArrayList<>();
    JsonNode page = Json.parse(r.body());
    if (page.has("entry")) {
      page.get("entry").forEach(e -> out.add(e.at("/resource/id").asText()));
    }
    if (page.has("total") && page.has("entry")) { // the total counts what the context lets through
      long matches = 0;
      for (JsonNode e : page.get("entry")) {
        matches += e.at("/search/mode").asText("match").equals("match") ? 1 : 0;
      }
      assertThat(page.get("total").asLong()).isEqualTo(matches);
    }
    return out;
  }

  static int status(String method, String path, String body, String token) {
    HttpResponse<String> r = Http.send(method, BASE + path, body, "Authorization", token, "Content-Type",
        method.equals("PATCH") ? "application/json-patch+json" : "application/fhir+json");
    if (r.statusCode() == 403) {
      assertThat(r.body()).contains("SECURITY_");
    }
    return r.statusCode();
  }

  static final String ABORT = "[{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"aborted\"}]";

  @Test
  void aPractitionerSeesAndChangesTheCommunicationsOfTheCareTeamInContext() {
    String t1 = practitioner(Map.of("care_team_id", T1));
    assertThat(ids("Communication?_id=" + C1 + "," + C2, t1)).containsExactly(C1);
    assertThat(status("GET", "/Communication/" + C2 + "/_history", null, t1)).isEqualTo(403);
    assertThat(ids("Communication/_history?_since=2000-01-01", t1)).contains(C1).doesNotContain(C2);
    assertThat(ids("Communication?_id=" + C1 + "&_include=Communication:part-of", t1)).containsExactly(C1);
    assertThat(ids("Communication?_id=" + C1 + "&_include=Communication:part-of", practitioner(Map.of("care_team_id", T2))))
        .isEmpty();
    assertThat(status("GET", "/Communication/" + C1, null, t1)).isEqualTo(200);
    assertThat(status("GET", "/Communication/" + C2, null, t1)).isEqualTo(403);
    assertThat(status("PATCH", "/Communication/" + C2, ABORT, t1)).isEqualTo(403);
    assertThat(status("DELETE", "/Communication/" + C2, null, t1)).isEqualTo(403);
    assertThat(status("POST", "/Communication", communication("x", P2, T2, E2).replace("\"id\":\"x\",", ""), t1))
        .isEqualTo(403);
    // a search naming another team by the IG's care-team parameter is refused, not answered empty
    HttpResponse<String> other = Http.get(BASE + "/Communication?careTeamSender=" + T2, "Authorization", t1);
    assertThat(other.statusCode()).as(other.body()).isEqualTo(403);
    assertThat(other.body()).contains("SECURITY_SEARCH_PARAM_NOT_MATCHING_TOKEN_CONTEXT");
    assertThat(ids("Communication?careTeamSender=" + T1, t1)).containsExactly(C1);
  }

  @Test
  void aPractitionerSeesTheCommunicationsOfTheEpisodeOfCareInContext() {
    String e2 = practitioner(Map.of("episode_of_care_id", E2));
    assertThat(ids("Communication?_id=" + C1 + "," + C2, e2)).containsExactly(C2);
    assertThat(status("GET", "/Communication/" + C1, null, e2)).isEqualTo(403);
    assertThat(status("GET", "/Communication/" + C2, null, e2)).isEqualTo(200);
    // team or episode: either lets the practitioner in
    String both = practitioner(Map.of("care_team_id", T1, "episode_of_care_id", E2));
    assertThat(ids("Communication?_id=" + C1 + "," + C2 + "&_sort=_id", both)).containsExactlyInAnyOrder(C1, C2);
    // a patient in context narrows it to that patient
    String narrowed = practitioner(Map.of("care_team_id", T1, "episode_of_care_id", E2, "patient_id", P1));
    assertThat(ids("Communication?_id=" + C1 + "," + C2, narrowed)).containsExactly(C1);
  }

  @Test
  void aCitizenSeesTheirOwnCommunicationsAndRelatedPersonsOnly() {
    String p1 = citizen(P1);
    assertThat(ids("Communication?_id=" + C1 + "," + C2, p1)).containsExactly(C1);
    assertThat(ids("RelatedPerson?_id=" + R1 + "," + R2, p1)).containsExactly(R1);
    assertThat(status("GET", "/RelatedPerson/" + R2 + "/_history", null, p1)).isEqualTo(403);
    assertThat(ids("RelatedPerson/_history?_since=2000-01-01", p1)).contains(R1).doesNotContain(R2);
    assertThat(ids("Communication?_id=" + C1 + "&_include=Communication:part-of", p1)).containsExactly(C1);
    assertThat(status("GET", "/RelatedPerson/" + R1, null, p1)).isEqualTo(200);
    assertThat(status("GET", "/RelatedPerson/" + R2, null, p1)).isEqualTo(403);
    assertThat(status("GET", "/Communication/" + C2, null, p1)).isEqualTo(403);
    assertThat(status("GET", "/RelatedPerson?patient=" + P2, null, p1)).isEqualTo(403);
    assertThat(status("PUT", "/RelatedPerson/" + R2, relatedPerson(R2, P2), p1)).isEqualTo(403);
    assertThat(status("PATCH", "/RelatedPerson/" + R2, "[{\"op\":\"add\",\"path\":\"/gender\",\"value\":\"male\"}]", p1))
        .isEqualTo(403);
    assertThat(status("DELETE", "/RelatedPerson/" + R2, null, p1)).isEqualTo(403);
    // nor can a citizen move their related person to another patient
    assertThat(status("PUT", "/RelatedPerson/" + R1, relatedPerson(R1, P2), p1)).isEqualTo(403);
    assertThat(status("POST", "/RelatedPerson", relatedPerson("x", P2).replace("\"id\":\"x\",", ""), p1)).isEqualTo(403);
    assertThat(status("POST", "/RelatedPerson", relatedPerson("x", P1).replace("\"id\":\"x\",", ""), p1)).isEqualTo(201);
  }

  @Test
  void aPractitionerWithAPatientInContextSeesThatPatientsRelatedPersonsOnly() {
    String withP2 = practitioner(Map.of("care_team_id", T1, "patient_id", P2));
    assertThat(ids("RelatedPerson?_id=" + R1 + "," + R2, withP2)).containsExactly(R2);
    assertThat(status("GET", "/RelatedPerson/" + R1, null, withP2)).isEqualTo(403);
    assertThat(status("PATCH", "/RelatedPerson/" + R1, "[{\"op\":\"add\",\"path\":\"/gender\",\"value\":\"male\"}]",
        withP2)).isEqualTo(403);
    assertThat(status("GET", "/RelatedPerson/" + R2, null, withP2)).isEqualTo(200);
  }

  @Test
  void readsAreAuditedPerPatient() throws Exception {
    String trace = UUID.randomUUID().toString().replace("-", "");
    HttpResponse<String> r = Http.get(BASE + "/Communication?_id=" + C1 + "," + C2, "Authorization",
        practitioner(Map.of("care_team_id", T1, "episode_of_care_id", E2)), "x-b3-traceid", trace);
    assertThat(r.statusCode()).isEqualTo(200);
    List<JsonNode> events = AuditTrail.eventsOf(trace, 2);
    List<String> patients = new ArrayList<>();
    for (JsonNode e : events) {
      for (JsonNode entity : e.get("entity")) {
        if (entity.at("/role/code").asText().equals("1")) {
          patients.add(entity.at("/reference/reference").asText());
        }
      }
    }
    assertThat(patients).containsExactlyInAnyOrder(P1, P2);

    String rtrace = UUID.randomUUID().toString().replace("-", "");
    assertThat(Http.get(BASE + "/RelatedPerson/" + R1, "Authorization", citizen(P1), "x-b3-traceid", rtrace)
        .statusCode()).isEqualTo(200);
    JsonNode event = AuditTrail.eventsOf(rtrace, 1).get(0);
    assertThat(event.toString()).contains(P1).doesNotContain(P2);
  }
}
