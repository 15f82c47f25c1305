package io.appointmentserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The authorization matrix: user types × privileges × contexts × interactions, each with the
 * status eHealth gives, and no resource outside the context in history.
 */
class AuthorizationTest {
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String BASE = TestServer.base();
  static final String T1 = "http://organization.example.org/fhir/CareTeam/t1-" + RUN;
  static final String T2 = "http://organization.example.org/fhir/CareTeam/t2-" + RUN;
  static final String P1 = "p1-" + RUN;
  static final String P2 = "p2-" + RUN;
  static final String A1 = "a1-" + RUN;
  static final String A2 = "a2-" + RUN;

  static String appointment(String id, String team, String patient) {
    return "{\"resourceType\":\"Appointment\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
        + ",\"extension\":[{\"url\":\"http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-responsible\","
        + "\"valueReference\":{\"reference\":\"" + team + "\"}}],\"status\":\"booked\",\"start\":\"2026-12-01T09:00:00+01:00\",\"end\":\"2026-12-01T09:30:00+01:00\",\"participant\":["
        + "{\"extension\":[{\"url\":\"http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-ext-careteam\","
        + "\"valueReference\":{\"reference\":\"" + team + "\"}}],\"status\":\"accepted\"},"
        + "{\"actor\":{\"reference\":\"Patient/" + patient + "\"},\"status\":\"accepted\"}]}";
  }

  static String observation(String id, String patient) {
    return "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"status\":\"final\","
        + "\"code\":{\"text\":\"weight\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
  }

  @BeforeAll
  static void data() {
    for (String p : List.of(P1, P2)) {
      assertThat(Http.put(BASE + "/Patient/" + p, "{\"resourceType\":\"Patient\",\"id\":\"" + p + "\"}").statusCode())
          .isEqualTo(201);
    }
    assertThat(Http.put(BASE + "/Appointment/" + A1, appointment(A1, T1, P1)).statusCode()).isEqualTo(201);
    assertThat(Http.put(BASE + "/Appointment/" + A2, appointment(A2, T2, P2)).statusCode()).isEqualTo(201);
    assertThat(Http.put(BASE + "/Observation/o1-" + RUN, observation("o1-" + RUN, P1)).statusCode()).isEqualTo(201);
    assertThat(Http.put(BASE + "/Observation/o2-" + RUN, observation("o2-" + RUN, P2)).statusCode()).isEqualTo(201);
    assertThat(Http.put(BASE + "/Organization/org-" + RUN, "{\"resourceType\":\"Organization\",\"id\":\"org-" + RUN
        + "\",\"name\":\"Clinic\"}").statusCode()).isEqualTo(201);
  }

  /** A user: type, privileges, context (care team, patient). */
  record User(String name, String type, List<String> roles, String team, String patient) {
    String token() {
      Map<String, String> ctx = new HashMap<>();
      ctx.put("organization_id", "http://organization.example.org/fhir/Organization/1");
      if (team != null) ctx.put("care_team_id", team);
      if (patient != null) ctx.put("patient_id", BASE + "/Patient/" + patient);
      String userId = type.equals("PATIENT") ? BASE + "/Patient/" + patient : "http://organization.example.org/fhir/Practitioner/9";
      Map<String, String> context = type.equals("PATIENT") || type.equals("SYSTEM") ? Map.of() : ctx;
      if (name.equals("practitioner without context")) context = Map.of();
      return Tokens.sign(TestServer.dataDir(), type, roles, context, userId, 300);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  static final User SYSTEM = new User("system", "SYSTEM", List.of("Appointment.*", "Observation.*", "Patient.*"), null, null);
  static final User SYSTEM_PATIENT_ONLY = new User("system with Patient.* only", "SYSTEM", List.of("Patient.*"), null, null);
  static final User T1_READER = new User("practitioner T1 reader", "PRACTITIONER", List.of("Appointment.read"), T1, null);
  static final User T1_ALL = new User("practitioner T1 Appointment.*", "PRACTITIONER",
      List.of("Appointment.*", "Observation.read", "Patient.read", "Organization.read"), T1, null);
  static final User T1_WRITER = new User("practitioner T1 Appointment.write", "PRACTITIONER", List.of("Appointment.write"), T1, null);
  static final User T1_P2 = new User("practitioner T1 with patient P2", "PRACTITIONER",
      List.of("Appointment.*", "Observation.read"), T1, P2);
  static final User NO_CONTEXT = new User("practitioner without context", "PRACTITIONER", List.of("Appointment.*"), null, null);
  static final User PATIENT1 = new User("patient P1", "PATIENT",
      List.of("Appointment.read", "Observation.read", "Patient.read", "Organization.read"), null, P1);

  static Stream<Arguments> matrix() {
    String a1 = "/Appointment/" + A1;
    String a2 = "/Appointment/" + A2;
    return Stream.of(
        // user, method, path, body, expected status, expected diagnostics prefix
        Arguments.of(SYSTEM, "GET", a1, null, 200, null),
        Arguments.of(SYSTEM, "GET", a2, null, 200, null),
        Arguments.of(SYSTEM_PATIENT_ONLY, "GET", a1, null, 403, "SECURITY_TOKEN_INSUFFICIENT_PERMISSION: Insufficient permission for read for Appointment"),
        Arguments.of(SYSTEM_PATIENT_ONLY, "GET", a1 + "?_format=xml", null, 403, null),
        Arguments.of(T1_READER, "GET", a1, null, 200, null),
        Arguments.of(T1_READER, "GET", a1 + "/_history/1", null, 200, null),
        Arguments.of(T1_READER, "GET", a1 + "/_history", null, 200, null),
        Arguments.of(T1_READER, "GET", a2, null, 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(T1_READER, "GET", a2 + "?_format=xml", null, 403, null),
        Arguments.of(T1_READER, "GET", a2 + "/_history/1", null, 403, null),
        Arguments.of(T1_READER, "GET", a2 + "/_history", null, 403, null),
        Arguments.of(T1_READER, "GET", "/Appointment/_history", null, 403, "SECURITY_TOKEN_INSUFFICIENT_PERMISSION: Insufficient permission for search for Appointment"),
        Arguments.of(T1_READER, "PUT", a1, appointment(A1, T1, P1), 403, "SECURITY_TOKEN_INSUFFICIENT_PERMISSION: Insufficient permission for update for Appointment"),
        Arguments.of(T1_WRITER, "GET", a1, null, 403, "SECURITY_TOKEN_INSUFFICIENT_PERMISSION"),
        Arguments.of(T1_WRITER, "POST", "/Appointment", appointment(null, T1, P1), 201, null),
        Arguments.of(T1_ALL, "POST", "/Appointment", appointment(null, T1, P1), 201, null),
        Arguments.of(T1_ALL, "POST", "/Appointment", appointment(null, T2, P1), 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(T1_ALL, "PUT", a2, appointment(A2, T1, P2), 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(T1_ALL, "PUT", a1, appointment(A1, T2, P1), 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(T1_ALL, "DELETE", a2, null, 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(T1_ALL, "GET", "/Observation/o1-" + RUN, null, 200, null),
        Arguments.of(T1_ALL, "GET", "/Organization/org-" + RUN, null, 200, null),
        Arguments.of(T1_ALL, "GET", "/Patient/" + P2, null, 200, null),
        Arguments.of(T1_P2, "GET", a1, null, 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(T1_P2, "GET", "/Observation/o1-" + RUN, null, 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(T1_P2, "GET", "/Observation/o2-" + RUN, null, 200, null),
        Arguments.of(NO_CONTEXT, "GET", a1, null, 403, "SECURITY_TOKEN_CONTEXT_MISSING"),
        Arguments.of(NO_CONTEXT, "POST", "/Appointment", appointment(null, T1, P1), 403, "SECURITY_TOKEN_CONTEXT_MISSING"),
        Arguments.of(PATIENT1, "GET", a1, null, 200, null),
        Arguments.of(PATIENT1, "GET", a2, null, 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(PATIENT1, "GET", "/Observation/o1-" + RUN, null, 200, null),
        Arguments.of(PATIENT1, "GET", "/Observation/o2-" + RUN, null, 403, null),
        Arguments.of(PATIENT1, "GET", "/Patient/" + P1, null, 200, null),
        Arguments.of(PATIENT1, "GET", "/Patient/" + P2, null, 403, null),
        Arguments.of(PATIENT1, "GET", "/Organization/org-" + RUN, null, 200, null),
        Arguments.of(PATIENT1, "PUT", a1, appointment(A1, T1, P1), 403, "SECURITY_TOKEN_INSUFFICIENT_PERMISSION"),
        Arguments.of(T1_ALL, "GET", "/_history", null, 403, "SECURITY_TOKEN_INSUFFICIENT_PERMISSION"));
  }

  @ParameterizedTest(name = "{0}: {1} {2} -> {4}")
  @MethodSource("matrix")
  void matrix(User user, String method, String path, String body, int status, String diagnostics) {
    HttpResponse<String> r = Http.send(method, BASE + path, body, "Authorization", "Bearer " + user.token(),
        "Content-Type", "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    if (diagnostics != null) {
      JsonNode issue = Json.parse(r.body()).get("issue").get(0);
      assertThat(issue.get("code").asText()).isEqualTo("forbidden");
      assertThat(issue.get("diagnostics").asText()).startsWith(diagnostics);
    }
  }

  @Test
  void historyShowsOnlyWhatTheContextAllows() {
    // a version of A2 that T1 once could see: moved from T1 to T2 by a system user
    String moved = "m-" + RUN;
    Http.put(BASE + "/Appointment/" + moved, appointment(moved, T1, P1));
    Http.put(BASE + "/Appointment/" + moved, appointment(moved, T2, P1));

    String token = "Bearer " + new User("t1 search", "PRACTITIONER", List.of("Appointment.search", "Appointment.read"),
        T1, null).token();
    List<String> seen = new ArrayList<>();
    String url = BASE + "/Appointment/_history?_count=50";
    int total = -1;
    while (url != null) {
      JsonNode page = Json.parse(Http.get(url, "Authorization", token).body());
      total = page.get("total").asInt();
      if (page.has("entry")) {
        // the full URL and the version of each entry
        page.get("entry").forEach(e -> seen.add(e.get("fullUrl").asText() + "|" + e.at("/resource/meta/versionId").asText()));
      }
      url = null;
      for (JsonNode link : page.get("link")) {
        if (link.get("relation").asText().equals("next")) {
          url = link.get("url").asText();
        }
      }
    }
    assertThat(seen).hasSize(total);
    assertThat(seen).anyMatch(s -> s.contains("/Appointment/" + A1 + "|"));
    assertThat(seen).noneMatch(s -> s.contains("/Appointment/" + A2 + "|"));
    // the version under T1 shows, the version under T2 does not
    assertThat(seen).anyMatch(s -> s.endsWith("Appointment/" + moved + "|1"));
    assertThat(seen).noneMatch(s -> s.endsWith("Appointment/" + moved + "|2"));
    // but the current version is T2's: the instance is out of reach
    assertThat(Http.get(BASE + "/Appointment/" + moved + "/_history", "Authorization", token).statusCode()).isEqualTo(403);
  }

  @Test
  void systemHistoryIsLimitedToTheTypesAUserMaySearch() {
    String token = "Bearer " + new User("system patients", "SYSTEM", List.of("Patient.search"), null, null).token();
    JsonNode page = Json.parse(Http.get(BASE + "/_history?_count=100", "Authorization", token).body());
    assertThat(page.get("total").asInt()).isGreaterThan(0);
    page.get("entry").forEach(e -> assertThat(e.get("fullUrl").asText()).contains("/Patient/"));
  }
}
