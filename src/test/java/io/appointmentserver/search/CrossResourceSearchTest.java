package io.appointmentserver.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.AppointmentServer;
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
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Searches that read across resources: {@code _include}, {@code _revinclude} (with
 * {@code :iterate}), chained parameters and {@code _has}, for a SYSTEM user and under care-team
 * and patient contexts; and a search parameter that contradicts the token's context. The data:
 *
 * <pre>
 * Organization ORG;  Patient P1 (Alpha, managed by ORG), P2 (Beta);  Practitioner PR
 * Appointment A1: team T1, P1, PR, booked
 * Appointment A2: team T2, P2, PR, booked
 * Appointment A3: team T1, P2,     cancelled
 * Observation O1: P1;  O2: P2
 * </pre>
 *
 * Each expectation is worked out by hand from that table.
 */
class CrossResourceSearchTest {
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String BASE = TestServer.base();
  static final String SYS = "urn:cross:" + RUN;
  static final String T1 = "http://organization.example.org/fhir/CareTeam/xt1-" + RUN;
  static final String T2 = "http://organization.example.org/fhir/CareTeam/xt2-" + RUN;
  static final String ORG = "org-" + RUN;
  static final String P1 = "p1-" + RUN;
  static final String P2 = "p2-" + RUN;
  static final String PR = "pr-" + RUN;

  static String appointment(String id, String team, String patient, String practitioner, String status) {
    return "{\"resourceType\":\"Appointment\",\"id\":\"" + id + "\",\"extension\":["
        + "{\"url\":\"http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-responsible\","
        + "\"valueReference\":{\"reference\":\"" + team + "\"}}],"
        + "\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\"" + id + "\"}],"
        + "\"status\":\"" + status + "\",\"start\":\"2026-12-01T09:00:00+01:00\",\"end\":\"2026-12-01T09:30:00+01:00\","
        + "\"participant\":[{\"extension\":[{\"url\":\"http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-ext-careteam\","
        + "\"valueReference\":{\"reference\":\"" + team + "\"}}],\"status\":\"accepted\"},"
        + "{\"actor\":{\"reference\":\"Patient/" + patient + "\"},\"status\":\"accepted\"}"
        + (practitioner == null ? "" : ",{\"actor\":{\"reference\":\"Practitioner/" + practitioner
            + "\"},\"status\":\"accepted\"}") + "]}";
  }

  @BeforeAll
  static void data() {
    put("Organization", ORG, "{\"resourceType\":\"Organization\",\"id\":\"" + ORG + "\",\"name\":\"Clinic " + RUN + "\"}");
    put("Patient", P1, "{\"resourceType\":\"Patient\",\"id\":\"" + P1 + "\",\"name\":[{\"family\":\"Alpha" + RUN
        + "\"}],\"managingOrganization\":{\"reference\":\"Organization/" + ORG + "\"}}");
    put("Patient", P2, "{\"resourceType\":\"Patient\",\"id\":\"" + P2 + "\",\"name\":[{\"family\":\"Beta" + RUN + "\"}]}");
    put("Practitioner", PR, "{\"resourceType\":\"Practitioner\",\"id\":\"" + PR + "\",\"identifier\":[{\"system\":\""
        + SYS + "\",\"value\":\"pr\"}]}");
    put("Appointment", "a1-" + RUN, appointment("a1-" + RUN, T1, P1, PR, "booked"));
    put("Appointment", "a2-" + RUN, appointment("a2-" + RUN, T2, P2, PR, "booked"));
    put("Appointment", "a3-" + RUN, appointment("a3-" + RUN, T1, P2, null, "cancelled"));
    for (String[] o : new String[][] {{"o1", P1}, {"o2", P2}}) {
      put("Observation", o[0] + "-" + RUN, "{\"resourceType\":\"Observation\",\"id\":\"" + o[0] + "-" + RUN
          + "\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"" + SYS + "\",\"code\":\"weight\"}]},"
          + "\"subject\":{\"reference\":\"Patient/" + o[1] + "\"}}");
    }
  }

  static void put(String type, String id, String json) {
    HttpResponse<String> r = Http.put(BASE + "/" + type + "/" + id, json);
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
  }

  static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String token(String userType, List<String> roles, String team, String patient) {
    Map<String, String> ctx = new HashMap<>();
    if (!userType.equals("PATIENT")) {
      ctx.put("organization_id", "http://organization.example.org/fhir/Organization/1");
      if (team != null) ctx.put("care_team_id", team);
      if (patient != null) ctx.put("patient_id", BASE + "/Patient/" + patient);
    }
    String userId = userType.equals("PATIENT") ? BASE + "/Patient/" + patient : "http://organization.example.org/fhir/Practitioner/9";
    return "Bearer " + Tokens.sign(TestServer.dataDir(), userType, roles, ctx, userId, 300);
  }

  static final List<String> READER = List.of("Appointment.read", "Appointment.search", "Patient.read",
      "Patient.search", "Observation.read", "Observation.search", "Practitioner.read", "Practitioner.search",
      "Organization.read");

  /** One page as "mode:id" strings without the run suffix, sorted; with its total. */
  record Page(TreeSet<String> entries, int total, String next) {}

  static Page page(String pathAndQuery, String... headers) {
    HttpResponse<String> r = Http.get(pathAndQuery.startsWith("http") ? pathAndQuery : BASE + "/" + pathAndQuery, headers);
    assertThat(r.statusCode()).as(pathAndQuery + " -> " + r.body()).isEqualTo(200);
    JsonNode b = Json.parse(r.body());
    TreeSet<String> entries = new TreeSet<>();
    if (b.has("entry")) {
      for (JsonNode e : b.get("entry")) {
        entries.add(e.get("search").get("mode").asText() + ":" + e.get("resource").get("id").asText().replace("-" + RUN, ""));
        if (!e.get("search").get("mode").asText().equals("outcome")) {
          assertThat(e.get("fullUrl").asText()).isEqualTo(BASE + "/" + e.get("resource").get("resourceType").asText()
              + "/" + e.get("resource").get("id").asText());
        }
      }
    }
    String next = null;
    for (JsonNode link : b.get("link")) {
      if (link.get("relation").asText().equals("next")) {
        next = link.get("url").asText();
      }
    }
    return new Page(entries, b.has("total") ? b.get("total").asInt() : -1, next);
  }

  static String appointments(String query) {
    return "Appointment?identifier=" + q(SYS + "|") + "&" + query;
  }

  // ---------------------------------------------------------------- _include, _revinclude

  @Test
  void includeAddsTheReferencedResourcesUncounted() {
    Page p = page(appointments("_include=Appointment:patient"));
    assertThat(p.entries()).containsExactly("include:p1", "include:p2", "match:a1", "match:a2", "match:a3");
    assertThat(p.total()).isEqualTo(3);
    assertThat(page(appointments("_include=Appointment:actor:Practitioner")).entries())
        .containsExactly("include:pr", "match:a1", "match:a2", "match:a3");
    // every reference parameter; the care teams are another server's (absolute) and not included
    assertThat(page(appointments("_include=*")).entries())
        .containsExactly("include:p1", "include:p2", "include:pr", "match:a1", "match:a2", "match:a3");
    assertThat(page(appointments("_include=Appointment:*")).entries())
        .containsExactly("include:p1", "include:p2", "include:pr", "match:a1", "match:a2", "match:a3");
  }

  @Test
  void revincludeAddsTheResourcesThatReferToTheMatches() {
    assertThat(page("Patient?_id=" + P2 + "&_revinclude=Appointment:patient").entries())
        .containsExactly("include:a2", "include:a3", "match:p2");
    assertThat(page("Patient?_id=" + P1 + "," + P2 + "&_revinclude=Observation:subject&_revinclude=Appointment:patient")
        .entries()).containsExactly("include:a1", "include:a2", "include:a3", "include:o1", "include:o2", "match:p1", "match:p2");
    assertThat(page("Practitioner?_id=" + PR + "&_revinclude=Appointment:actor:Practitioner").entries())
        .containsExactly("include:a1", "include:a2", "match:pr");
  }

  @Test
  void iterateFollowsTheIncludedResourcesToo() {
    // without :iterate only the matches' references are followed
    assertThat(page("Observation?_id=o1-" + RUN + "&_include=Observation:subject&_include=Patient:organization").entries())
        .containsExactly("include:p1", "match:o1");
    assertThat(page("Observation?_id=o1-" + RUN + "&_include=Observation:subject&_include:iterate=Patient:organization")
        .entries()).containsExactly("include:org", "include:p1", "match:o1");
    // :recurse, the DSTU3 name, and a revinclude iterating from an included resource
    assertThat(page("Observation?_id=o2-" + RUN + "&_include=Observation:subject&_revinclude:recurse=Appointment:patient")
        .entries()).containsExactly("include:a2", "include:a3", "include:p2", "match:o2");
    assertThat(page("Observation?_id=o1-" + RUN + "&_include:iterate=*").entries())
        .containsExactly("include:org", "include:p1", "match:o1");
  }

  @Test
  void includesComeWithEachPageAndTheNextLinkKeepsThem() {
    Page first = page(appointments("_count=2&_sort=_id&_include=Appointment:patient"));
    assertThat(first.entries()).containsExactly("include:p1", "include:p2", "match:a1", "match:a2");
    assertThat(first.total()).isEqualTo(3);
    Page second = page(first.next());
    assertThat(second.entries()).containsExactly("include:p2", "match:a3");
    assertThat(second.next()).isNull();
  }

  @Test
  void includedResourcesStayWithinTheUsersContextAndPrivileges() {
    String t1 = token("PRACTITIONER", READER, T1, null);
    assertThat(page(appointments("_include=Appointment:patient"), "Authorization", t1).entries())
        .containsExactly("include:p1", "include:p2", "match:a1", "match:a3");
    // P2's appointment of team T2 does not come along
    assertThat(page("Patient?_id=" + P2 + "&_revinclude=Appointment:patient", "Authorization", t1).entries())
        .containsExactly("include:a3", "match:p2");
    // with patient P2 in context: P2's resources only, whatever the references lead to
    String t1p2 = token("PRACTITIONER", READER, T1, P2);
    assertThat(page(appointments("_include=Appointment:patient"), "Authorization", t1p2).entries())
        .containsExactly("include:p2", "match:a3");
    assertThat(page("Observation?code=" + q(SYS + "|weight") + "&_include=Observation:subject&_revinclude:iterate=Appointment:patient",
        "Authorization", t1p2).entries()).containsExactly("include:a3", "include:p2", "match:o2");
    // the patient P1: their own appointment, not the other patient it shares a practitioner with
    String patient1 = token("PATIENT", READER, null, P1);
    assertThat(page(appointments("_include=Appointment:actor&_include:iterate=Patient:organization"
        + "&_revinclude:iterate=Appointment:actor:Practitioner"), "Authorization", patient1).entries())
        .containsExactly("include:org", "include:p1", "include:pr", "match:a1");
    // no Patient privilege: no patients included, and no error
    String noPatients = token("PRACTITIONER", List.of("Appointment.read", "Appointment.search"), T1, null);
    assertThat(page(appointments("_include=Appointment:patient"), "Authorization", noPatients).entries())
        .containsExactly("match:a1", "match:a3");
  }

  @Test
  void tooManyIncludedResourcesEndWithAWarning() throws Exception {
    try (AppointmentServer other = TestServer.another(c -> c.withSearchMaxIncludes(2))) {
      String base = other.baseUrl();
      HttpResponse<String> r = Http.get(base + "/" + appointments("_include=*"));
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode b = Json.parse(r.body());
      List<String> modes = new ArrayList<>();
      b.get("entry").forEach(e -> modes.add(e.get("search").get("mode").asText()));
      assertThat(modes).containsExactly("match", "match", "match", "include", "include", "outcome");
      JsonNode outcome = b.get("entry").get(5).get("resource");
      assertThat(outcome.get("resourceType").asText()).isEqualTo("OperationOutcome");
      assertThat(outcome.get("issue").get(0).get("severity").asText()).isEqualTo("warning");
      assertThat(b.get("total").asInt()).isEqualTo(3);
    }
  }

  // ---------------------------------------------------------------- chains, _has

  @Test
  void chainedParametersSelectByTheReferencedResource() {
    assertThat(page(appointments("patient.name=beta" + RUN)).entries()).containsExactly("match:a2", "match:a3");
    assertThat(page(appointments("patient:Patient.family:exact=Alpha" + RUN)).entries()).containsExactly("match:a1");
    assertThat(page(appointments("actor:Practitioner.identifier=" + q(SYS + "|pr"))).entries())
        .containsExactly("match:a1", "match:a2");
    assertThat(page("Observation?subject:Patient.name=alpha" + RUN).entries()).containsExactly("match:o1");
    assertThat(page("Patient?organization.name=" + q("Clinic " + RUN)).entries()).containsExactly("match:p1");
    assertThat(page(appointments("patient.organization=Organization/" + ORG)).entries()).containsExactly("match:a1");
    assertThat(page(appointments("patient.name=nobody" + RUN)).entries()).isEmpty();
  }

  @Test
  void hasSelectsByTheResourcesThatReferToTheMatch() {
    assertThat(page("Patient?_id=" + P1 + "," + P2 + "&_has:Appointment:patient:status=booked").entries())
        .containsExactly("match:p1", "match:p2");
    assertThat(page("Patient?_id=" + P1 + "," + P2 + "&_has:Appointment:patient:status=cancelled").entries())
        .containsExactly("match:p2");
    assertThat(page("Practitioner?_has:Appointment:actor:identifier=" + q(SYS + "|a2-" + RUN)).entries())
        .containsExactly("match:pr");
    assertThat(page("Patient?_id=" + P1 + "," + P2 + "&_has:Observation:subject:code=" + q(SYS + "|weight")).total())
        .isEqualTo(2);
  }

  @Test
  void chainsAndHasSeeNothingOutsideTheContext() {
    String t1 = token("PRACTITIONER", READER, T1, null);
    // P2's booked appointment is team T2's: for a T1 practitioner it does not exist
    assertThat(page("Patient?_id=" + P1 + "," + P2 + "&_has:Appointment:patient:status=booked", "Authorization", t1)
        .entries()).containsExactly("match:p1");
    assertThat(page("Practitioner?_has:Appointment:actor:identifier=" + q(SYS + "|a2-" + RUN), "Authorization", t1)
        .entries()).isEmpty();
    assertThat(page(appointments("patient.name=beta" + RUN), "Authorization", t1).entries()).containsExactly("match:a3");
    // with patient P1 in context, P2 is not there to chain to
    String t1p1 = token("PRACTITIONER", READER, T1, P1);
    assertThat(page("Practitioner?_id=" + PR + "&_has:Appointment:actor:patient.name=beta" + RUN, "Authorization", t1p1)
        .entries()).isEmpty();
    // a chain or _has into a type the user may not search is refused
    String appointmentsOnly = token("PRACTITIONER", List.of("Appointment.read", "Appointment.search"), T1, null);
    HttpResponse<String> r = Http.get(BASE + "/" + appointments("patient.name=beta" + RUN), "Authorization", appointmentsOnly);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    assertThat(r.body()).contains("SECURITY_TOKEN_INSUFFICIENT_PERMISSION");
    // among several possible targets, the ones the user may not see match nothing
    String practitionersOnly = token("PRACTITIONER", List.of("Appointment.read", "Appointment.search",
        "Practitioner.read"), T1, null);
    assertThat(page(appointments("actor.identifier=" + q(SYS + "|pr")), "Authorization", practitionersOnly).entries())
        .containsExactly("match:a1");
    r = Http.get(BASE + "/" + appointments("actor:Patient.name=beta" + RUN), "Authorization", practitionersOnly);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    r = Http.get(BASE + "/Appointment?_has:Observation:patient:code=x", "Authorization", appointmentsOnly);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400); // Observation's patient cannot point at an Appointment
  }

  @Test
  void malformedIncludesChainsAndHasAre400() {
    for (String query : List.of("Appointment?_include=", "Appointment?_include=:", "Appointment?_include=Appointment:",
        "Appointment?_include=Foo:bar", "Appointment?_include:iterate=Appointment:patient:Foo",
        "Appointment?_revinclude=Appointment:patient:Organization", "Appointment?_include:deep=*",
        "Patient?_has:::=x", "Patient?_has:Appointment:patient:=x", "Patient?_has:Appointment::status=x",
        "Patient?_has:Appointment:patient:colour=x", "Patient?_has:Appointment:patient:_has:Observation:subject:code=x",
        "Appointment?patient.=x", "Appointment?.name=x", "Appointment?patient:.name=x", "Appointment?patient:Foo.name=x",
        "Appointment?status.name=x", "Appointment?patient.name:colour=x", "Observation?subject.organization.name=x")) {
      HttpResponse<String> r = Http.get(BASE + "/" + query);
      assertThat(r.statusCode()).as(query + " -> " + r.body()).isEqualTo(400);
      assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    }
  }

  // ---------------------------------------------------------------- parameters against the context

  @Test
  void searchingForAnotherPatientThanTheContextsIs403() {
    String patient1 = token("PATIENT", READER, null, P1);
    String t1p2 = token("PRACTITIONER", READER, T1, P2);
    for (String[] c : new String[][] {
        {patient1, "Appointment?patient=Patient/" + P2},
        {patient1, "Appointment?actor=" + q(BASE + "/Patient/" + P2)},
        {patient1, "Appointment?patient=" + P1 + "," + P2},
        {patient1, "Observation?subject:Patient=" + P2},
        {patient1, "Patient?_id=" + P2},
        {t1p2, "Appointment?patient=Patient/" + P1},
        {t1p2, "Observation?patient=" + P1}}) {
      HttpResponse<String> r = Http.get(BASE + "/" + c[1], "Authorization", c[0]);
      assertThat(r.statusCode()).as(c[1] + " -> " + r.body()).isEqualTo(403);
      JsonNode issue = Json.parse(r.body()).get("issue").get(0);
      assertThat(issue.get("code").asText()).isEqualTo("forbidden");
      assertThat(issue.get("diagnostics").asText()).startsWith("SECURITY_SEARCH_PARAM_NOT_MATCHING_TOKEN_CONTEXT");
    }
    // the own patient, and references that are no patient, are searched
    assertThat(page("Appointment?patient=Patient/" + P1, "Authorization", patient1).entries()).containsExactly("match:a1");
    assertThat(page("Appointment?actor=Practitioner/" + PR, "Authorization", patient1).entries()).containsExactly("match:a1");
    assertThat(page("Appointment?patient=" + P2, "Authorization", t1p2).entries()).containsExactly("match:a3");
  }

  @Test
  void searchingForAnotherCareTeamThanTheContextsIs403() {
    String t1 = token("PRACTITIONER", READER, T1, null);
    for (String query : List.of("Appointment?responsible=" + q(T2), "Appointment?careteamParticipant=" + q(T2),
        "Appointment?actor=" + q(T2), "Appointment?actor:CareTeam=" + q(T2),
        "Appointment?responsible=" + q(T1) + "," + q(T2), "Appointment?status=booked&responsible=" + q(T2))) {
      HttpResponse<String> r = Http.get(BASE + "/" + query, "Authorization", t1);
      assertThat(r.statusCode()).as(query + " -> " + r.body()).isEqualTo(403);
      JsonNode issue = Json.parse(r.body()).get("issue").get(0);
      assertThat(issue.get("code").asText()).isEqualTo("forbidden");
      assertThat(issue.get("diagnostics").asText()).startsWith("SECURITY_SEARCH_PARAM_NOT_MATCHING_TOKEN_CONTEXT");
    }
    // the context's own team, and references that are no care team, are searched
    assertThat(page("Appointment?responsible=" + q(T1), "Authorization", t1).entries()).containsExactly("match:a1", "match:a3");
    assertThat(page("Appointment?careteamParticipant=" + q(T1) + "&status=cancelled", "Authorization", t1).entries())
        .containsExactly("match:a3");
    assertThat(page("Appointment?actor=Practitioner/" + PR, "Authorization", t1).entries()).containsExactly("match:a1");
    // a SYSTEM user has no context to contradict
    assertThat(page("Appointment?responsible=" + q(T2)).entries()).containsExactly("match:a2");
  }
}
