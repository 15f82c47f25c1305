package io.appointmentserver.search;

import static io.appointmentserver.search.SearchData.BASE;
import static io.appointmentserver.search.SearchData.PA;
import static io.appointmentserver.search.SearchData.RUN;
import static io.appointmentserver.search.SearchData.SYS;
import static io.appointmentserver.search.SearchData.T1;
import static io.appointmentserver.search.SearchData.ids;
import static io.appointmentserver.search.SearchData.practitioner;
import static io.appointmentserver.search.SearchData.q;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.AuditTrail;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Search by a practitioner: the token's context is part of the query, the search privilege is
 * needed, and the search is audited with its query masked.
 */
class SearchSecurityTest {
  @BeforeAll
  static void data() {
    SearchData.write();
  }

  @Test
  void theContextIsPartOfTheQuery() {
    String t1 = practitioner(T1, List.of("Appointment.search", "Appointment.read"));
    assertThat(ids("Appointment?identifier=" + q(SYS + "|"), "Authorization", t1)).containsExactly("a1", "a3");
    assertThat(ids("Appointment?identifier=" + q(SYS + "|") + "&patient=" + PA, "Authorization", t1))
        .containsExactly("a1");
    String other = practitioner("http://organization.example.org/fhir/CareTeam/other-" + RUN,
        List.of("Appointment.search", "Appointment.read"));
    JsonNode page = Json.parse(Http.get(BASE + "/Appointment?identifier=" + q(SYS + "|"), "Authorization", other).body());
    assertThat(page.get("total").asInt()).isZero();
    assertThat(page.has("entry")).isFalse();
    JsonNode all = Json.parse(Http.get(BASE + "/Appointment?status=booked,cancelled&_count=1", "Authorization", other).body());
    assertThat(all.get("total").asInt()).isZero();
  }

  @Test
  void searchNeedsTheSearchPrivilege() {
    String reader = practitioner(T1, List.of("Appointment.read"));
    HttpResponse<String> r = Http.get(BASE + "/Appointment?identifier=" + q(SYS + "|"), "Authorization", reader);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("SECURITY_TOKEN_INSUFFICIENT_PERMISSION");
  }

  @Test
  void aSearchIsAuditedWithItsQueryMasked() throws InterruptedException {
    String t1 = practitioner(T1, List.of("Appointment.search", "Appointment.read"));
    String trace = "search-" + RUN;
    String query = "identifier=" + q(SYS + "|") + "&patient=" + PA + "&description=0101801234";
    HttpResponse<String> r = Http.get(BASE + "/Appointment?" + query, "Authorization", t1, "x-b3-traceid", trace,
        "Prefer", "handling=lenient");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<JsonNode> events = AuditTrail.eventsOf(trace, 1);
    assertThat(events).hasSize(1); // one patient shown: PA
    JsonNode event = events.get(0);
    assertThat(event.get("action").asText()).isEqualTo("R");
    assertThat(event.get("subtype").get(0).get("code").asText()).isEqualTo("search-type");
    String stored = null;
    for (JsonNode entity : event.get("entity")) {
      if (entity.has("query")) {
        stored = new String(Base64.getDecoder().decode(entity.get("query").asText()), StandardCharsets.UTF_8);
      }
    }
    assertThat(stored).contains("patient=" + PA).contains("xxxxxx-xxxx").doesNotContain("0101801234");
  }
}
