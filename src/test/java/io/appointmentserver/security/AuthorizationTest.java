package io.appointmentserver.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
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
    assertThat(Http.put(BASE + "/Appointment/" + A1, Appointments.ofCareTeam(A1, T1, P1)).statusCode()).isEqualTo(201);
    assertThat(Http.put(BASE + "/Appointment/" + A2, Appointments.ofCareTeam(A2, T2, P2)).statusCode()).isEqualTo(201);
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
        Arguments.of(T1_READER, "PUT", a1, Appointments.ofCareTeam(A1, T1, P1), 403, "SECURITY_TOKEN_INSUFFICIENT_PERMISSION: Insufficient permission for update for Appointment"),
        Arguments.of(T1_WRITER, "GET", a1, null, 403, "SECURITY_TOKEN_INSUFFICIENT_PERMISSION"),
        Arguments.of(T1_WRITER, "POST", "/Appointment", Appointments.ofCareTeam(null, T1, P1), 201, null),
        Arguments.of(T1_ALL, "POST", "/Appointment", Appointments.ofCareTeam(null, T1, P1), 201, null),
        Arguments.of(T1_ALL, "POST", "/Appointment", Appointments.ofCareTeam(null, T2, P1), 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(T1_ALL, "PUT", a2, Appointments.ofCareTeam(A2, T1, P2), 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(T1_ALL, "PUT", a1, Appointments.ofCareTeam(A1, T2, P1), 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(T1_ALL, "DELETE", a2, null, 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(T1_ALL, "GET", "/Observation/o1-" + RUN, null, 200, null),
        Arguments.of(T1_ALL, "GET", "/Organization/org-" + RUN, null, 200, null),
        Arguments.of(T1_ALL, "GET", "/Patient/" + P2, null, 200, null),
        Arguments.of(T1_P2, "GET", a1, null, 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(T1_P2, "GET", "/Observation/o1-" + RUN, null, 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(T1_P2, "GET", "/Observation/o2-" + RUN, null, 200, null),
        Arguments.of(NO_CONTEXT, "GET", a1, null, 403, "SECURITY_TOKEN_CONTEXT_MISSING"),
        Arguments.of(NO_CONTEXT, "POST", "/Appointment", Appointments.ofCareTeam(null, T1, P1), 403, "SECURITY_TOKEN_CONTEXT_MISSING"),
        Arguments.of(PATIENT1, "GET", a1, null, 200, null),
        Arguments.of(PATIENT1, "GET", a2, null, 403, "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT"),
        Arguments.of(PATIENT1, "GET", "/Observation/o1-" + RUN, null, 200, null),
        Arguments.of(PATIENT1, "GET", "/Observation/o2-" + RUN, null, 403, null),
        Arguments.of(PATIENT1, "GET", "/Patient/" + P1, null, 200, null),
        Arguments.of(PATIENT1, "GET", "/Patient/" + P2, null, 403, null),
        Arguments.of(PATIENT1, "GET", "/Organization/org-" + RUN, null, 200, null),
        Arguments.of(PATIENT1, "PUT", a1, Appointments.ofCareTeam(A1, T1, P1), 403, "SECURITY_TOKEN_INSUFFICIENT_PERMISSION"),
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

  /**
   * A history listing followed through all its pages: its total and "fullUrl|type/id/_history/version"
   * per entry ("fullUrl|type/id/_history/deleted" for a deletion).
   */
  record Listing(int total, List<String> entries) {
    boolean lists(String typeAndId) {
      return entries.stream().anyMatch(s -> s.contains("/" + typeAndId + "|"));
    }
  }

  static Listing history(String url, String token) {
    List<String> seen = new ArrayList<>();
    int total = -1;
    while (url != null) {
      HttpResponse<String> r = Http.get(url, "Authorization", token);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode page = Json.parse(r.body());
      total = page.get("total").asInt();
      if (page.has("entry")) {
        page.get("entry").forEach(e -> {
          String fullUrl = e.get("fullUrl").asText();
          String typeAndId = fullUrl.substring(fullUrl.lastIndexOf('/', fullUrl.lastIndexOf('/') - 1) + 1);
          JsonNode version = e.path("resource").path("meta").path("versionId");
          seen.add(fullUrl + "|" + typeAndId + "/_history/" + (version.isMissingNode() ? "deleted" : version.asText()));
        });
      }
      url = null;
      for (JsonNode link : page.get("link")) {
        if (link.get("relation").asText().equals("next")) {
          url = link.get("url").asText();
        }
      }
    }
    // totals count only what the user may see
    assertThat(seen).hasSize(total);
    return new Listing(total, seen);
  }

  @Test
  void historyShowsOnlyWhatTheContextAllows() {
    // a version of A2 that T1 once could see: moved from T1 to T2 by a system user
    String moved = "m-" + RUN;
    Http.put(BASE + "/Appointment/" + moved, Appointments.ofCareTeam(moved, T1, P1));
    Http.put(BASE + "/Appointment/" + moved, Appointments.ofCareTeam(moved, T2, P1));

    String token = "Bearer " + new User("t1 search", "PRACTITIONER", List.of("Appointment.search", "Appointment.read"),
        T1, null).token();
    Listing seen = history(BASE + "/Appointment/_history?_count=50", token);
    assertThat(seen.lists("Appointment/" + A1)).isTrue();
    assertThat(seen.lists("Appointment/" + A2)).isFalse();
    // the version under T1 shows, the version under T2 does not
    assertThat(seen.entries()).anyMatch(s -> s.endsWith("Appointment/" + moved + "/_history/1"));
    assertThat(seen.entries()).noneMatch(s -> s.endsWith("Appointment/" + moved + "/_history/2"));
    // but the current version is T2's: the instance is out of reach
    assertThat(Http.get(BASE + "/Appointment/" + moved + "/_history", "Authorization", token).statusCode()).isEqualTo(403);
  }

  /**
   * Type, instance and system history for a patient user, a practitioner with a patient in
   * context and a practitioner of a care team: page by page (one entry per page, so that paging
   * carries the filter too), nothing of another patient or team, totals that count only the rest.
   */
  @Test
  void historyOfEveryKindHonoursPatientAndCareTeamContexts() {
    // an appointment that moves from P2 to P1 (and from T2 to T1), and a deleted one of P2
    String moving = "mv-" + RUN;
    String gone = "gone-" + RUN;
    assertThat(Http.put(BASE + "/Appointment/" + moving, Appointments.ofCareTeam(moving, T2, P2)).statusCode()).isEqualTo(201);
    assertThat(Http.put(BASE + "/Appointment/" + moving, Appointments.ofCareTeam(moving, T1, P1)).statusCode()).isEqualTo(200);
    assertThat(Http.put(BASE + "/Appointment/" + gone, Appointments.ofCareTeam(gone, T2, P2)).statusCode()).isEqualTo(201);
    assertThat(Http.send("DELETE", BASE + "/Appointment/" + gone, null).statusCode()).isEqualTo(200);
    List<String> roles = List.of("Appointment.read", "Appointment.search", "Observation.read", "Observation.search");
    String patient1 = "Bearer " + new User("patient P1 searching", "PATIENT", roles, null, P1).token();
    String teamWithP2 = "Bearer " + new User("T1 with P2 searching", "PRACTITIONER", roles, T1, P2).token();
    String team1 = "Bearer " + new User("T1 searching", "PRACTITIONER", roles, T1, null).token();
    String team2 = "Bearer " + new User("T2 searching", "PRACTITIONER", roles, T2, null).token();

    // type history
    Listing p1 = history(BASE + "/Appointment/_history?_count=1", patient1);
    assertThat(p1.lists("Appointment/" + A1)).isTrue();
    assertThat(p1.lists("Appointment/" + A2)).isFalse();
    assertThat(p1.lists("Appointment/" + gone)).isFalse();
    assertThat(p1.entries()).anyMatch(s -> s.endsWith("Appointment/" + moving + "/_history/2"))
        .noneMatch(s -> s.endsWith("Appointment/" + moving + "/_history/1"));
    Listing p1Observations = history(BASE + "/Observation/_history?_count=1", patient1);
    assertThat(p1Observations.lists("Observation/o1-" + RUN)).isTrue();
    assertThat(p1Observations.lists("Observation/o2-" + RUN)).isFalse();
    // T1 and P2 together: an appointment must be both, and none is
    Listing t1p2 = history(BASE + "/Appointment/_history?_count=1", teamWithP2);
    assertThat(t1p2.lists("Appointment/" + A1)).isFalse();
    assertThat(t1p2.lists("Appointment/" + A2)).isFalse();
    assertThat(t1p2.lists("Appointment/" + moving)).isFalse();
    Listing t2 = history(BASE + "/Appointment/_history?_count=1", team2);
    assertThat(t2.lists("Appointment/" + A2)).isTrue();
    assertThat(t2.lists("Appointment/" + A1)).isFalse();
    assertThat(t2.lists("Appointment/" + gone)).isTrue();
    assertThat(t2.entries()).anyMatch(s -> s.endsWith("Appointment/" + moving + "/_history/1"))
        .noneMatch(s -> s.endsWith("Appointment/" + moving + "/_history/2"));

    // instance history: the versions within the context only
    Listing p1Moving = history(BASE + "/Appointment/" + moving + "/_history?_count=1", patient1);
    assertThat(p1Moving.total()).isEqualTo(1);
    assertThat(p1Moving.entries().get(0)).endsWith("/_history/2");
    assertThat(history(BASE + "/Appointment/" + moving + "/_history", team1).total()).isEqualTo(1);
    for (String token : List.of(patient1, teamWithP2)) {
      assertThat(Http.get(BASE + "/Appointment/" + A2 + "/_history", "Authorization", token).statusCode()).isEqualTo(403);
    }
    assertThat(Http.get(BASE + "/Appointment/" + gone + "/_history", "Authorization", patient1).statusCode()).isEqualTo(403);
    // the old version out of reach is refused when read directly too
    assertThat(Http.get(BASE + "/Appointment/" + moving + "/_history/1", "Authorization", patient1).statusCode())
        .isEqualTo(403);

    // system history is for SYSTEM users only
    for (String token : List.of(patient1, teamWithP2, team1)) {
      HttpResponse<String> r = Http.get(BASE + "/_history", "Authorization", token);
      assertThat(r.statusCode()).isEqualTo(403);
      assertThat(r.body()).contains("SECURITY_TOKEN_INSUFFICIENT_PERMISSION");
    }
  }

  @Test
  void systemHistoryIsLimitedToTheTypesAUserMaySearch() {
    String token = "Bearer " + new User("system patients", "SYSTEM", List.of("Patient.search"), null, null).token();
    JsonNode page = Json.parse(Http.get(BASE + "/_history?_count=100", "Authorization", token).body());
    assertThat(page.get("total").asInt()).isGreaterThan(0);
    page.get("entry").forEach(e -> assertThat(e.get("fullUrl").asText()).contains("/Patient/"));
  }

  /**
   * A conditional interaction without criteria, or with criteria the search does not know, is a
   * 400 OperationOutcome; nothing is written.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("conditionalRequests")
  void conditionalInteractionsWithoutUsableCriteriaAreRefusedCleanly(String method, String path, String body,
      String header) {
    String before = Http.get(BASE + "/Appointment/" + A1).headers().firstValue("ETag").orElseThrow();
    HttpResponse<String> r = header == null
        ? Http.send(method, BASE + path, body, "Content-Type", "application/fhir+json")
        : Http.send(method, BASE + path, body, "Content-Type", "application/fhir+json", "If-None-Exist", header);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(Http.get(BASE + "/Appointment/" + A1).headers().firstValue("ETag").orElseThrow()).isEqualTo(before);
  }

  static Stream<Arguments> conditionalRequests() {
    return Stream.of(
        Arguments.of("PUT", "/Appointment?no-such-parameter=" + A1, Appointments.ofCareTeam(A1, T1, P1), null),
        Arguments.of("DELETE", "/Appointment?no-such-parameter=" + A1, null, null),
        Arguments.of("PATCH", "/Appointment?no-such-parameter=" + A1, "[]", null),
        Arguments.of("DELETE", "/Appointment", null, null),
        Arguments.of("PUT", "/Appointment", Appointments.ofCareTeam(A1, T1, P1), null),
        Arguments.of("DELETE", "/Appointment?_count=5", null, null),
        Arguments.of("POST", "/Appointment", Appointments.ofCareTeam(null, T1, P1), "no-such-parameter=" + RUN),
        Arguments.of("POST", "/Appointment", Appointments.ofCareTeam(null, T1, P1), "_count=1"));
  }

  /** A conditional interaction searches: without the search privilege it is refused before anything else. */
  @Test
  void conditionalInteractionsNeedTheSearchPrivilege() {
    String writer = "Bearer " + T1_WRITER.token();
    HttpResponse<String> r = Http.send("DELETE", BASE + "/Appointment?_id=" + A1, null, "Authorization", writer);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    assertThat(r.body()).contains("SECURITY_TOKEN_INSUFFICIENT_PERMISSION: Insufficient permission for search for Appointment");
    r = Http.send("POST", BASE + "/Appointment", Appointments.ofCareTeam(null, T1, P1), "Authorization", writer,
        "Content-Type", "application/fhir+json", "If-None-Exist", "identifier=urn:x%7C" + RUN);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    assertThat(Http.get(BASE + "/Appointment/" + A1).statusCode()).isEqualTo(200);
  }

  /**
   * The criteria are searched within the user's context: a match outside it is neither revealed
   * nor touched. Care team T1 does not find T2's appointment: deleting it is a 404, patching it a
   * 404, a conditional create or update makes a new appointment of T1's.
   */
  @Test
  void conditionalInteractionsDoNotSeeOrTouchMatchesOutsideTheContext() {
    String t1 = "Bearer " + T1_ALL.token();
    String before = Http.get(BASE + "/Appointment/" + A2).headers().firstValue("ETag").orElseThrow();
    HttpResponse<String> r = Http.send("DELETE", BASE + "/Appointment?_id=" + A2, null, "Authorization", t1);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(404);
    r = Http.send("PATCH", BASE + "/Appointment?_id=" + A2, "[]", "Authorization", t1,
        "Content-Type", "application/json-patch+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(404);
    r = conditionalCreate(t1, T1, A2);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(Json.parse(r.body()).get("id").asText()).isNotEqualTo(A2);
    r = conditionalUpdate(t1, T1, A2);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(Json.parse(r.body()).get("id").asText()).isNotEqualTo(A2);
    assertThat(Http.get(BASE + "/Appointment/" + A2).headers().firstValue("ETag").orElseThrow()).isEqualTo(before);

    // within the context the same criteria find A1: a conditional create returns it
    r = conditionalCreate(t1, T1, A1);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(Json.parse(r.body()).get("id").asText()).isEqualTo(A1);
    // and a conditional write of T1 cannot move its match into T2's care
    r = conditionalUpdate(t1, T2, A1);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
  }

  /** POST of an appointment of {@code team} with {@code If-None-Exist: _id=<id>}. */
  private static HttpResponse<String> conditionalCreate(String auth, String team, String id) {
    return Http.send("POST", BASE + "/Appointment", Appointments.ofCareTeam(null, team, P1), "Authorization", auth,
        "Content-Type", "application/fhir+json", "If-None-Exist", "_id=" + id);
  }

  /** PUT of an appointment of {@code team} to {@code Appointment?_id=<id>}. */
  private static HttpResponse<String> conditionalUpdate(String auth, String team, String id) {
    return Http.send("PUT", BASE + "/Appointment?_id=" + id, Appointments.ofCareTeam(null, team, P1), "Authorization", auth,
        "Content-Type", "application/fhir+json");
  }

  /**
   * A client's missing privilege or context is no server error: refused requests leave no
   * warning or error in the server's log, and their OperationOutcome stays as the matrix wants it.
   */
  @Test
  void refusedRequestsAreNotLoggedAsServerErrors() {
    ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
        org.slf4j.Logger.ROOT_LOGGER_NAME);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> events =
        new ch.qos.logback.core.read.ListAppender<>();
    events.start();
    root.addAppender(events);
    try {
      String reader = "Bearer " + T1_READER.token();
      assertThat(Http.get(BASE + "/Appointment/_history", "Authorization", reader).statusCode()).isEqualTo(403);
      assertThat(Http.get(BASE + "/Appointment/" + A1 + "?_format=xml", "Authorization",
          "Bearer " + SYSTEM_PATIENT_ONLY.token()).statusCode()).isEqualTo(403);
      assertThat(Http.put(BASE + "/Appointment/" + A1, Appointments.ofCareTeam(A1, T1, P1), "Authorization", reader).statusCode())
          .isEqualTo(403);
      assertThat(Http.get(BASE + "/Appointment/" + A1, "Authorization", "Bearer " + NO_CONTEXT.token()).statusCode())
          .isEqualTo(403);
      assertThat(Http.get(BASE + "/Appointment/" + A2 + "/_history", "Authorization", reader).statusCode())
          .isEqualTo(403);
      assertThat(Http.get(BASE + "/Appointment/" + A1, "Authorization", "Bearer not-a-token").statusCode())
          .isEqualTo(401);
    } finally {
      root.detachAppender(events);
    }
    assertThat(events.list).noneMatch(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN));
  }
}
