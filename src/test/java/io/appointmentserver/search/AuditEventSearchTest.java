package io.appointmentserver.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jwt.SignedJWT;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * AuditEvent search over the audit trail. A practitioner of one care team reads appointment A1
 * (patient P1), reads A2 (patient P2), updates A1 and searches {@code Appointment?_id=A1}: P1 has
 * three events (R read, U update, R search-type), P2 one (R read); the expectations below follow
 * from that and from the event's content as {@link io.appointmentserver.security.AuditLog} writes it.
 */
class AuditEventSearchTest {
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String BASE = TestServer.base();
  static final String TEAM = "http://organization.example.org/fhir/CareTeam/aes-" + RUN;
  static final String PRACTITIONER = "http://organization.example.org/fhir/Practitioner/aes-" + RUN;
  static final String P1 = "aes-p1-" + RUN;
  static final String P2 = "aes-p2-" + RUN;
  static final String A1 = "aes-a1-" + RUN;
  static final String A2 = "aes-a2-" + RUN;
  static String since;
  static String subject;

  @BeforeAll
  static void data() throws Exception {
    since = Instant.now().minusSeconds(1).truncatedTo(ChronoUnit.SECONDS).toString();
    for (String p : List.of(P1, P2)) {
      assertThat(Http.put(BASE + "/Patient/" + p, "{\"resourceType\":\"Patient\",\"id\":\"" + p + "\"}").statusCode())
          .isEqualTo(201);
    }
    assertThat(Http.put(BASE + "/Appointment/" + A1, Appointments.ofCareTeam(A1, TEAM, P1)).statusCode()).isEqualTo(201);
    assertThat(Http.put(BASE + "/Appointment/" + A2, Appointments.ofCareTeam(A2, TEAM, P2)).statusCode()).isEqualTo(201);
    String token = Tokens.sign(TestServer.dataDir(), "PRACTITIONER",
        List.of("Appointment.read", "Appointment.search", "Appointment.update"),
        Map.of("care_team_id", TEAM, "organization_id", "http://organization.example.org/fhir/Organization/1"),
        PRACTITIONER, 300);
    subject = SignedJWT.parse(token).getJWTClaimsSet().getSubject();
    String auth = "Bearer " + token;
    assertThat(Http.get(BASE + "/Appointment/" + A1, "Authorization", auth).statusCode()).isEqualTo(200);
    assertThat(Http.get(BASE + "/Appointment/" + A2, "Authorization", auth).statusCode()).isEqualTo(200);
    assertThat(Http.put(BASE + "/Appointment/" + A1, Appointments.ofCareTeam(A1, TEAM, P1), "Authorization", auth)
        .statusCode()).isEqualTo(200);
    assertThat(Http.get(BASE + "/Appointment?_id=" + A1, "Authorization", auth).statusCode()).isEqualTo(200);
    // reads are stored within a second
    for (int i = 0; i < 50 && events("patient=Patient/" + P1).size() < 3; i++) {
      Thread.sleep(100);
    }
  }

  static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** The events a search finds, over all its pages, as "action subtype patient". */
  static List<String> events(String query, String... headers) {
    List<String> out = new ArrayList<>();
    String url = BASE + "/AuditEvent?" + query;
    while (url != null) {
      HttpResponse<String> r = Http.get(url, headers);
      assertThat(r.statusCode()).as(url + " -> " + r.body()).isEqualTo(200);
      JsonNode page = Json.parse(r.body());
      if (page.has("entry")) {
        for (JsonNode e : page.get("entry")) {
          JsonNode ev = e.get("resource");
          String patient = "-";
          for (JsonNode entity : ev.get("entity")) {
            if (entity.has("role") && entity.get("role").get("code").asText().equals("1")) {
              patient = entity.get("reference").get("reference").asText().replace("-" + RUN, "");
            }
          }
          out.add(ev.get("action").asText() + " " + ev.get("subtype").get(0).get("code").asText() + " " + patient);
        }
      }
      url = null;
      for (JsonNode link : page.get("link")) {
        if (link.get("relation").asText().equals("next")) {
          url = link.get("url").asText();
        }
      }
    }
    return out;
  }

  @Test
  void searchesByPatientActionSubtypeAndDate() {
    assertThat(events("patient=Patient/" + P1)).containsExactlyInAnyOrder(
        "R read Patient/aes-p1", "U update Patient/aes-p1", "R search-type Patient/aes-p1");
    assertThat(events("patient=" + q(BASE + "/Patient/" + P2))).containsExactly("R read Patient/aes-p2");
    assertThat(events("patient=" + P1 + "," + P2 + "&action=U")).containsExactly("U update Patient/aes-p1");
    assertThat(events("patient=" + P1 + "&action:not=U")).containsExactlyInAnyOrder(
        "R read Patient/aes-p1", "R search-type Patient/aes-p1");
    assertThat(events("entity=Patient/" + P1 + "&subtype=" + q("http://hl7.org/fhir/restful-interaction|read")))
        .containsExactly("R read Patient/aes-p1");
    assertThat(events("patient=" + P1 + "&subtype=read,search-type")).hasSize(2);
    assertThat(events("patient=" + P1 + "&subtype=" + q("http://example.org|read"))).isEmpty();
    assertThat(events("patient=" + P1 + "&type=" + q("http://hl7.org/fhir/audit-event-type|rest"))).hasSize(3);
    assertThat(events("patient=" + P1 + "&type=" + q("|rest"))).isEmpty();
    assertThat(events("patient=" + P1 + "&outcome=0")).hasSize(3);
    assertThat(events("patient=" + P1 + "&outcome=8")).isEmpty();
    assertThat(events("patient=" + P1 + "&date=ge" + since)).hasSize(3);
    assertThat(events("patient=" + P1 + "&date=lt" + since)).isEmpty();
    assertThat(events("patient=" + P1 + "&entity-role=1")).hasSize(3);
  }

  @Test
  void searchesByTheUserAndTheEntity() {
    assertThat(events("agent=" + q(PRACTITIONER) + "&date=ge" + since)).containsExactlyInAnyOrder(
        "R read Patient/aes-p1", "R read Patient/aes-p2", "U update Patient/aes-p1", "R search-type Patient/aes-p1");
    assertThat(events("user=" + subject + "&action=R&date=ge" + since)).hasSize(3);
    assertThat(events("user=" + UUID.randomUUID() + "&date=ge" + since)).isEmpty();
    assertThat(events("entity=Appointment/" + A2 + "&date=ge" + since)).containsExactly("R read Patient/aes-p2");
  }

  @Test
  void newestFirstInPagesThatDoNotRepeat() {
    List<String> ids = new ArrayList<>();
    List<Instant> recorded = new ArrayList<>();
    String url = BASE + "/AuditEvent?patient=" + P1 + "&_sort=-date&_count=1";
    int total = -1;
    while (url != null) {
      JsonNode page = Json.parse(Http.get(url).body());
      total = page.get("total").asInt();
      JsonNode ev = page.get("entry").get(0).get("resource");
      ids.add(ev.get("id").asText());
      recorded.add(Instant.parse(ev.get("recorded").asText()));
      url = null;
      for (JsonNode link : page.get("link")) {
        if (link.get("relation").asText().equals("next")) {
          url = link.get("url").asText();
        }
      }
    }
    assertThat(total).isEqualTo(3);
    assertThat(ids).hasSize(3).doesNotHaveDuplicates();
    assertThat(recorded).isSortedAccordingTo(java.util.Comparator.reverseOrder());
  }

  /** The ids of the events a search finds (one page). */
  static List<String> ids(String query) {
    List<String> out = new ArrayList<>();
    JsonNode page = Json.parse(Http.get(BASE + "/AuditEvent?" + query).body());
    if (page.has("entry")) {
      page.get("entry").forEach(e -> out.add(e.get("resource").get("id").asText()));
    }
    return out;
  }

  @Test
  void searchesById() {
    List<String> all = ids("patient=" + P1);
    assertThat(all).hasSize(3);
    assertThat(ids("_id=" + all.get(0) + "," + all.get(2) + ",not-an-event," + UUID.randomUUID()))
        .containsExactlyInAnyOrder(all.get(0), all.get(2));
    assertThat(ids("_id:not=" + all.get(0) + "&patient=" + P1)).containsExactlyInAnyOrder(all.get(1), all.get(2));
  }

  @Test
  void usersSeeTheEventsOfTheirContextOnly() {
    String patient1 = "Bearer " + Tokens.sign(TestServer.dataDir(), "PATIENT", List.of("AuditEvent.read", "AuditEvent.search"),
        Map.of(), BASE + "/Patient/" + P1, 300);
    // P1 sees their own events only, whatever else the search would find
    assertThat(events("agent=" + q(PRACTITIONER) + "&action=U,R&subtype=read,update&date=ge" + since,
        "Authorization", patient1)).containsExactlyInAnyOrder("R read Patient/aes-p1", "U update Patient/aes-p1");
    HttpResponse<String> r = Http.get(BASE + "/AuditEvent?patient=Patient/" + P2, "Authorization", patient1);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    assertThat(r.body()).contains("SECURITY_SEARCH_PARAM_NOT_MATCHING_TOKEN_CONTEXT");
    String noSearch = "Bearer " + Tokens.sign(TestServer.dataDir(), "PATIENT", List.of("AuditEvent.read"),
        Map.of(), BASE + "/Patient/" + P1, 300);
    r = Http.get(BASE + "/AuditEvent?patient=Patient/" + P1, "Authorization", noSearch);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("SECURITY_TOKEN_INSUFFICIENT_PERMISSION");
  }

  @Test
  void unsupportedOrBadParametersAre400() {
    for (String query : List.of("colour=blue", "date=yesterday", "_sort=type", "_include=AuditEvent:patient",
        "agent=5", "patient.name=x", "action:exact=R", "type=a%7Cb%7Cc")) {
      HttpResponse<String> r = Http.get(BASE + "/AuditEvent?" + query);
      assertThat(r.statusCode()).as(query + " -> " + r.body()).isEqualTo(400);
      assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    }
  }
}
