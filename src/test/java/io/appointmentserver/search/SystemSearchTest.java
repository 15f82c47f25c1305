package io.appointmentserver.search;

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
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** System search, {@code GET [base]?_type=...} and {@code POST [base]/_search}: one search across types. */
class SystemSearchTest {
  static final String BASE = TestServer.base();
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String SYS = "urn:system-search:" + RUN;
  static final String T1 = "http://organization.example.org/fhir/CareTeam/ss1-" + RUN;
  static final String T2 = "http://organization.example.org/fhir/CareTeam/ss2-" + RUN;
  static String lastUpdatedOfLast;

  @BeforeAll
  static void data() {
    for (String p : List.of("s1", "s2")) {
      put("Patient", p, "{\"resourceType\":\"Patient\",\"id\":\"" + p + "-" + RUN + "\",\"identifier\":[{\"system\":\""
          + SYS + "\",\"value\":\"" + p + "\"}]}");
    }
    put("Appointment", "sa1", withIdentifier(Appointments.ofCareTeam("sa1-" + RUN, T1, "s1-" + RUN), "sa1")
        .replace("\"status\":\"booked\"", "\"status\":\"booked\",\"comment\":\"kontrol w" + RUN + "\""));
    String last = put("Appointment", "sa2", withIdentifier(Appointments.ofCareTeam("sa2-" + RUN, T2, "s2-" + RUN),
        "sa2"));
    lastUpdatedOfLast = Json.parse(last).get("meta").get("lastUpdated").asText();
  }

  static String withIdentifier(String json, String value) {
    return json.replaceFirst("\\{\"resourceType\":\"Appointment\",", "{\"resourceType\":\"Appointment\","
        + "\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\"" + value + "\"}],");
  }

  static String put(String type, String id, String json) {
    HttpResponse<String> r = Http.put(BASE + "/" + type + "/" + id + "-" + RUN, json);
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
    return r.body();
  }

  static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static JsonNode bundle(String url, String... headers) {
    HttpResponse<String> r = Http.get(url, headers);
    assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(200);
    JsonNode b = Json.parse(r.body());
    assertThat(b.get("type").asText()).isEqualTo("searchset");
    return b;
  }

  /** The entries as "mode:Type/id" without the run suffix, in order. */
  static List<String> entries(JsonNode bundle) {
    List<String> out = new ArrayList<>();
    if (bundle.has("entry")) {
      for (JsonNode e : bundle.get("entry")) {
        JsonNode res = e.get("resource");
        out.add(e.get("search").get("mode").asText() + ":" + res.get("resourceType").asText() + "/"
            + res.get("id").asText().replace("-" + RUN, ""));
      }
    }
    return out;
  }

  static String link(JsonNode bundle, String relation) {
    for (JsonNode l : bundle.get("link")) {
      if (l.get("relation").asText().equals(relation)) {
        return l.get("url").asText();
      }
    }
    return null;
  }

  static final String BY_SYSTEM = "identifier=" + q(SYS + "|");

  @Test
  void twoTypesOneSearch() {
    JsonNode b = bundle(BASE + "?_type=Appointment,Patient&" + BY_SYSTEM);
    assertThat(b.get("total").asInt()).isEqualTo(4);
    assertThat(entries(b)).containsExactlyInAnyOrder("match:Patient/s1", "match:Patient/s2", "match:Appointment/sa1",
        "match:Appointment/sa2");
    assertThat(link(b, "self")).startsWith(BASE + "?_type=Appointment,Patient&");
    assertThat(entries(bundle(BASE + "?_type=Appointment,Patient&_id=s1-" + RUN + ",sa2-" + RUN)))
        .containsExactlyInAnyOrder("match:Patient/s1", "match:Appointment/sa2");
    // without _type: every type the user may search
    assertThat(entries(bundle(BASE + "?_id=s1-" + RUN))).containsExactly("match:Patient/s1");
    // the form of POST [base]/_search
    HttpResponse<String> post = Http.post(BASE + "/_search", "_type=Patient&" + BY_SYSTEM, "Content-Type",
        "application/x-www-form-urlencoded");
    assertThat(post.statusCode()).as(post.body()).isEqualTo(200);
    assertThat(entries(Json.parse(post.body()))).containsExactlyInAnyOrder("match:Patient/s1", "match:Patient/s2");
  }

  @Test
  void fullTextAcrossTypes() {
    assertThat(entries(bundle(BASE + "?_type=Appointment,Patient&_content=w" + RUN)))
        .containsExactly("match:Appointment/sa1");
  }

  @Test
  void lastUpdatedSortIncludeAndTotal() {
    assertThat(entries(bundle(BASE + "?_type=Appointment,Patient&" + BY_SYSTEM + "&_lastUpdated=ge"
        + q(lastUpdatedOfLast)))).containsExactly("match:Appointment/sa2");
    List<String> newestFirst = entries(bundle(BASE + "?_type=Appointment,Patient&" + BY_SYSTEM
        + "&_sort=-_lastUpdated"));
    assertThat(newestFirst).containsExactly("match:Appointment/sa2", "match:Appointment/sa1", "match:Patient/s2",
        "match:Patient/s1");
    JsonNode included = bundle(BASE + "?_type=Appointment&" + BY_SYSTEM + "&_include=Appointment:patient&_total=none");
    assertThat(included.has("total")).isFalse();
    assertThat(entries(included)).containsExactlyInAnyOrder("match:Appointment/sa1", "match:Appointment/sa2",
        "include:Patient/s1", "include:Patient/s2");
  }

  @Test
  void pagesFollowNextLinks() {
    List<String> seen = new ArrayList<>();
    String url = BASE + "?_type=Patient,Appointment&" + BY_SYSTEM + "&_count=1&_sort=_lastUpdated";
    JsonNode last = null;
    while (url != null) {
      last = bundle(url);
      assertThat(last.get("total").asInt()).isEqualTo(4);
      seen.addAll(entries(last));
      url = link(last, "next");
    }
    assertThat(seen).containsExactly("match:Patient/s1", "match:Patient/s2", "match:Appointment/sa1",
        "match:Appointment/sa2");
    assertThat(entries(bundle(link(last, "previous")))).containsExactly("match:Appointment/sa1");
  }

  @Test
  void badParametersAre400() {
    for (String bad : List.of("_type=Patient,Appointment&birthdate=2000", "_type=Patient&nonsense=1",
        "_type=Nothing&_id=x", "_type=AuditEvent&_id=x", "_type=Patient,Appointment&_sort=birthdate",
        "_type=Patient&_cursor=bm9uc2Vuc2U", "_count=5")) {
      HttpResponse<String> r = Http.get(BASE + "?" + bad);
      assertThat(r.statusCode()).as(bad + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).as(bad).contains("OperationOutcome");
    }
  }

  @Test
  void leniently_aParameterOneTypeDoesNotTakeIsIgnoredForAll() {
    JsonNode b = bundle(BASE + "?_type=Patient,Appointment&" + BY_SYSTEM + "&birthdate=1900", "Prefer",
        "handling=lenient");
    assertThat(entries(b)).hasSize(4);
    assertThat(link(b, "self")).doesNotContain("birthdate");
  }

  @Test
  void inABatchASearchAcrossTypesIsA400Entry() {
    HttpResponse<String> r = Http.post(BASE, "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":"
        + "{\"method\":\"GET\",\"url\":\"?_type=Patient&_id=s1-" + RUN + "\"}}]}", "Content-Type", "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(Json.parse(r.body()).get("entry").get(0).get("response").get("status").asText()).startsWith("400");
  }

  @Test
  void theBaseAloneIsNoSearch() {
    HttpResponse<String> r = Http.get(BASE);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome");
  }

  @Test
  void theContextOfEachTypeIsPartOfTheQuery() throws InterruptedException {
    String practitioner = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Appointment.search",
        "Patient.search"), Map.of("care_team_id", T1), null, 300);
    String trace = UUID.randomUUID().toString().replace("-", "");
    JsonNode b = bundle(BASE + "?_type=Appointment,Patient&" + BY_SYSTEM, "Authorization", practitioner,
        "X-B3-TraceId", trace);
    // sa2 is another care team's
    assertThat(b.get("total").asInt()).isEqualTo(3);
    assertThat(entries(b)).containsExactlyInAnyOrder("match:Patient/s1", "match:Patient/s2", "match:Appointment/sa1");
    // without _type: the types the user may search, Appointment and Patient
    assertThat(entries(bundle(BASE + "?" + BY_SYSTEM, "Authorization", practitioner))).hasSize(3);
    HttpResponse<String> noPrivilege = Http.get(BASE + "?_type=Observation&_id=x", "Authorization", practitioner);
    assertThat(noPrivilege.statusCode()).isEqualTo(403);
    List<JsonNode> events = AuditTrail.eventsOf(trace, 1);
    assertThat(events).isNotEmpty();
    assertThat(events.toString()).contains("search-system").contains("Appointment,Patient");
    String trace2 = UUID.randomUUID().toString().replace("-", "");
    bundle(BASE + "?" + BY_SYSTEM, "Authorization", practitioner, "X-B3-TraceId", trace2);
    assertThat(AuditTrail.eventsOf(trace2, 1)).isNotEmpty();
  }
}
