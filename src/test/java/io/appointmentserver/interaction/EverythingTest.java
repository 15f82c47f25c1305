package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.AuditTrail;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code Patient/[id]/$everything} and {@code Patient/$everything}: the patient's compartment and
 * what it refers to, paged, filtered, within the user's context, audited.
 */
class EverythingTest {
  static final String BASE = TestServer.base();
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String P = "ev-p-" + RUN;
  static final String Q = "ev-q-" + RUN;
  static final String PR = "ev-pr-" + RUN;
  static final String ORG = "ev-org-" + RUN;
  static final String T1 = "http://organization.example.org/fhir/CareTeam/ev1-" + RUN;
  static final String T2 = "http://organization.example.org/fhir/CareTeam/ev2-" + RUN;
  static final List<String> ROLES = List.of("Patient$everything", "Patient.read", "Appointment.read",
      "Encounter.read", "Observation.read", "Practitioner.read");
  static String encounterUpdated;

  @BeforeAll
  static void data() {
    put("Organization", ORG, "{\"resourceType\":\"Organization\",\"id\":\"" + ORG + "\"}");
    put("Practitioner", PR, "{\"resourceType\":\"Practitioner\",\"id\":\"" + PR + "\"}");
    for (String p : List.of(P, Q)) {
      put("Patient", p, "{\"resourceType\":\"Patient\",\"id\":\"" + p + "\",\"managingOrganization\":{\"reference\":"
          + "\"Organization/" + ORG + "\"}}");
      put("Observation", "ev-o-" + p, "{\"resourceType\":\"Observation\",\"id\":\"ev-o-" + p + "\",\"status\":\"final\","
          + "\"code\":{\"text\":\"pulse\"},\"subject\":{\"reference\":\"Patient/" + p + "\"},\"effectiveDateTime\":"
          + "\"2025-01-10T10:00:00+01:00\",\"performer\":[{\"reference\":\"Practitioner/" + PR + "\"}]}");
    }
    put("Appointment", "ev-a1-" + RUN, Appointments.ofCareTeam("ev-a1-" + RUN, T1, P));
    put("Appointment", "ev-a2-" + RUN, Appointments.ofCareTeam("ev-a2-" + RUN, T2, P));
    put("Appointment", "ev-a3-" + RUN, Appointments.ofCareTeam("ev-a3-" + RUN, T1, Q));
    encounterUpdated = Json.parse(put("Encounter", "ev-e-" + RUN, "{\"resourceType\":\"Encounter\",\"id\":\"ev-e-" + RUN
        + "\",\"status\":\"finished\",\"subject\":{\"reference\":\"Patient/" + P + "\"},\"period\":{\"start\":"
        + "\"2025-01-10T09:00:00+01:00\",\"end\":\"2025-01-10T11:00:00+01:00\"},\"participant\":[{\"individual\":"
        + "{\"reference\":\"Practitioner/" + PR + "\"}}]}")).get("meta").get("lastUpdated").asText();
  }

  static String put(String type, String id, String json) {
    HttpResponse<String> r = Http.put(BASE + "/" + type + "/" + id, json);
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
    return r.body();
  }

  static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** A page's entries as "mode:Type/id" with the run suffix cut off, and its next link. */
  record Page(List<String> entries, String next) {}

  static Page page(String url, String... headers) {
    HttpResponse<String> r = Http.get(url, headers);
    assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(200);
    JsonNode b = Json.parse(r.body());
    assertThat(b.get("type").asText()).isEqualTo("searchset");
    List<String> entries = new ArrayList<>();
    if (b.has("entry")) {
      for (JsonNode e : b.get("entry")) {
        JsonNode res = e.get("resource");
        entries.add(e.get("search").get("mode").asText() + ":" + res.get("resourceType").asText() + "/"
            + res.get("id").asText().replace("-" + RUN, ""));
        assertThat(e.get("fullUrl").asText()).endsWith(res.get("resourceType").asText() + "/" + res.get("id").asText());
      }
    }
    String next = null;
    for (JsonNode l : b.get("link")) {
      if (l.get("relation").asText().equals("next")) {
        next = l.get("url").asText();
      }
    }
    return new Page(entries, next);
  }

  static Set<String> everything(String query, String... headers) {
    Page p = page(BASE + "/Patient/" + P + "/$everything" + query, headers);
    assertThat(p.next()).isNull();
    return new TreeSet<>(p.entries());
  }

  static String token(String userType, List<String> roles, Map<String, String> context, String userId) {
    return "Bearer " + Tokens.sign(TestServer.dataDir(), userType, roles, context, userId, 300);
  }

  @Test
  void thePatientItsCompartmentAndWhatItRefersTo() {
    assertThat(everything("?_count=100")).containsExactlyInAnyOrder(
        "match:Patient/ev-p", "match:Appointment/ev-a1", "match:Appointment/ev-a2", "match:Encounter/ev-e",
        "match:Observation/ev-o-ev-p", "include:Practitioner/ev-pr", "include:Organization/ev-org");
    // the same by POST with a Parameters body
    HttpResponse<String> post = Http.post(BASE + "/Patient/" + P + "/$everything", "{\"resourceType\":\"Parameters\","
        + "\"parameter\":[{\"name\":\"_type\",\"valueString\":\"Observation\"}]}", "Content-Type", "application/fhir+json");
    assertThat(post.statusCode()).as(post.body()).isEqualTo(200);
    assertThat(post.body()).contains("ev-o-" + P).doesNotContain("Appointment/ev-a1");
  }

  @Test
  void pagesFollowNextLinksAndShowEachResourceOnce() {
    List<String> matches = new ArrayList<>();
    String url = BASE + "/Patient/" + P + "/$everything?_count=2";
    int pages = 0;
    while (url != null) {
      Page p = page(url);
      assertThat(p.entries().stream().filter(e -> e.startsWith("match:"))).hasSizeLessThanOrEqualTo(2);
      p.entries().stream().filter(e -> e.startsWith("match:")).forEach(matches::add);
      url = p.next();
      pages++;
    }
    assertThat(pages).isEqualTo(3);
    assertThat(matches).containsExactlyInAnyOrder("match:Patient/ev-p", "match:Appointment/ev-a1",
        "match:Appointment/ev-a2", "match:Encounter/ev-e", "match:Observation/ev-o-ev-p");
  }

  @Test
  void typeSinceAndClinicalDatesNarrowIt() {
    assertThat(everything("?_type=Observation,Practitioner"))
        .containsExactlyInAnyOrder("match:Observation/ev-o-ev-p", "include:Practitioner/ev-pr");
    assertThat(everything("?_type=Observation")).containsExactly("match:Observation/ev-o-ev-p");
    // the answer's form is HAPI's to take: XML is the same Bundle
    HttpResponse<String> xml = Http.get(BASE + "/Patient/" + P + "/$everything?_type=Observation&_format=xml");
    assertThat(xml.statusCode()).as(xml.body()).isEqualTo(200);
    assertThat(xml.body()).startsWith("<Bundle").contains("ev-o-" + P);
    assertThat(everything("?_since=" + q(encounterUpdated)))
        .containsExactlyInAnyOrder("match:Encounter/ev-e", "include:Practitioner/ev-pr");
    // the appointments are in December 2026, the encounter and observation in January 2025
    assertThat(everything("?start=2026-01-01")).containsExactlyInAnyOrder("match:Patient/ev-p",
        "match:Appointment/ev-a1", "match:Appointment/ev-a2", "include:Organization/ev-org");
    assertThat(everything("?start=2025-01-10&end=2025-01-10&_type=Encounter,Observation,Appointment"))
        .containsExactlyInAnyOrder("match:Encounter/ev-e", "match:Observation/ev-o-ev-p");
  }

  @Test
  void aPractitionerSeesWhatTheContextAndPrivilegesAllow() throws InterruptedException {
    Map<String, String> team = Map.of("care_team_id", T1);
    String practitioner = token("PRACTITIONER", ROLES, team, null);
    String trace = UUID.randomUUID().toString().replace("-", "");
    // a2 is another team's; Organization is not among the privileges
    assertThat(everything("", "Authorization", practitioner, "X-B3-TraceId", trace)).containsExactlyInAnyOrder(
        "match:Patient/ev-p", "match:Appointment/ev-a1", "match:Encounter/ev-e", "match:Observation/ev-o-ev-p",
        "include:Practitioner/ev-pr");
    List<JsonNode> events = AuditTrail.eventsOf(trace, 1);
    assertThat(events).isNotEmpty();
    assertThat(events.toString()).contains("$everything").contains("Patient/" + P).doesNotContain("Patient/" + Q);

    Map<String, String> withPatient = new HashMap<>(team);
    withPatient.put("patient_id", BASE + "/Patient/" + Q);
    String forQ = token("PRACTITIONER", ROLES, withPatient, null);
    HttpResponse<String> other = Http.get(BASE + "/Patient/" + P + "/$everything", "Authorization", forQ);
    assertThat(other.statusCode()).as(other.body()).isEqualTo(403);

    String reader = token("PRACTITIONER", List.of("Patient.read", "Observation.read"), team, null);
    HttpResponse<String> noPrivilege = Http.get(BASE + "/Patient/" + P + "/$everything", "Authorization", reader);
    assertThat(noPrivilege.statusCode()).isEqualTo(403);
    assertThat(noPrivilege.body()).contains("SECURITY_TOKEN_INSUFFICIENT_PERMISSION");
  }

  @Test
  void aPatientUserGetsTheirOwnAndNoOneElses() {
    String patient = token("PATIENT", ROLES, Map.of(), BASE + "/Patient/" + P);
    assertThat(everything("", "Authorization", patient)).contains("match:Patient/ev-p", "match:Appointment/ev-a1",
        "match:Appointment/ev-a2", "match:Observation/ev-o-ev-p");
    HttpResponse<String> other = Http.get(BASE + "/Patient/" + Q + "/$everything", "Authorization", patient);
    assertThat(other.statusCode()).as(other.body()).isEqualTo(403);
    assertThat(other.body()).contains("OperationOutcome");
    HttpResponse<String> unknown = Http.get(BASE + "/Patient/none-" + RUN + "/$everything", "Authorization", patient);
    assertThat(unknown.statusCode()).isEqualTo(403);
    // the type level: every compartment the user may see, here their own only
    Set<String> all = new TreeSet<>();
    String url = BASE + "/Patient/$everything?_count=50";
    while (url != null) {
      Page p = page(url, "Authorization", patient);
      all.addAll(p.entries());
      url = p.next();
    }
    assertThat(all).contains("match:Patient/ev-p", "match:Observation/ev-o-ev-p")
        .noneMatch(e -> e.contains("ev-q") || e.contains("ev-a3"));
  }

  @Test
  void unknownDeletedAndBadInputAre4xxWithAnOutcome() {
    HttpResponse<String> unknown = Http.get(BASE + "/Patient/none-" + RUN + "/$everything");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).contains("OperationOutcome");
    String gone = "ev-gone-" + RUN;
    put("Patient", gone, "{\"resourceType\":\"Patient\",\"id\":\"" + gone + "\"}");
    assertThat(Http.send("DELETE", BASE + "/Patient/" + gone, null).statusCode()).isIn(200, 204);
    assertThat(Http.get(BASE + "/Patient/" + gone + "/$everything").statusCode()).isEqualTo(410);
    for (String bad : List.of("_count=many", "_count=-1", "start=soon", "end=2025-13-45", "_since=yesterday",
        "_type=Nothing", "_cursor=bm9uc2Vuc2U", "foo=bar")) {
      HttpResponse<String> r = Http.get(BASE + "/Patient/" + P + "/$everything?" + bad);
      assertThat(r.statusCode()).as(bad + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).as(bad).contains("OperationOutcome");
    }
  }
}
