package io.appointmentserver.ehealth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.io.StringReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import net.fortuna.ical4j.data.CalendarBuilder;
import net.fortuna.ical4j.model.Calendar;
import net.fortuna.ical4j.model.component.VEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code Appointment/[id]/$exportAsiCal}: an RFC 5545 calendar that ical4j reads back. */
class ExportAsICalTest {
  static final String BASE = TestServer.base();
  static final String TEAM = "http://organization.fut.trifork.com/fhir/CareTeam/35102";
  static String id;

  @BeforeAll
  static void appointment() {
    ObjectNode a = Appointments.seed();
    id = a.get("id").asText();
    Http.put(BASE + "/Patient/240", "{\"resourceType\":\"Patient\",\"id\":\"240\"}");
    assertThat(Http.put(BASE + "/Appointment/" + id, a.toString()).statusCode()).isEqualTo(201);
  }

  static String token(String userType, Map<String, String> context) {
    return "Bearer " + Tokens.sign(TestServer.dataDir(), userType, List.of("Appointment.read", "Appointment$exportAsiCal"),
        context, userType.equals("PATIENT") ? BASE + "/Patient/240" : null, 300);
  }

  static Calendar parse(String ics) throws Exception {
    return new CalendarBuilder().build(new StringReader(ics));
  }

  @Test
  void withAcceptTextCalendarTheCalendarItselfComesBack() throws Exception {
    HttpResponse<String> r = Http.get(BASE + "/Appointment/" + id + "/$exportAsiCal", "Accept", "text/calendar",
        "Authorization", token("PRACTITIONER", Map.of("care_team_id", TEAM)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/calendar");
    Calendar cal = parse(r.body());
    VEvent event = (VEvent) cal.getComponent("VEVENT").orElseThrow();
    assertThat(event.getSummary().orElseThrow().getValue()).isEqualTo("Forundersøgelse");
    assertThat(event.getDateTimeStart().orElseThrow().getValue()).isEqualTo("20190701T070000Z");
    assertThat(event.getDateTimeEnd().orElseThrow().getValue()).isEqualTo("20190701T090000Z");
    assertThat(event.getLocation().orElseThrow().getValue()).isEqualTo("Room 43b");
    assertThat(r.body()).contains("CN=actor1 display text").contains("Patient/240");
  }

  @Test
  void asFhirItIsABinaryAndPatientsDoNotSeePractitionerNames() throws Exception {
    HttpResponse<String> r = Http.get(BASE + "/Appointment/" + id + "/$exportAsiCal", "Accept", "application/fhir+json",
        "Authorization", token("PATIENT", Map.of()));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode binary = Json.parse(r.body());
    assertThat(binary.get("resourceType").asText()).isEqualTo("Binary");
    assertThat(binary.get("contentType").asText()).isEqualTo("text/calendar");
    String ics = new String(Base64.getDecoder().decode(binary.get("content").asText()), StandardCharsets.UTF_8);
    assertThat(parse(ics).getComponent("VEVENT")).isPresent();
    assertThat(ics).doesNotContain("actor1 display text").contains("Patient/240");
  }

  @Test
  void theReadRulesApply() {
    assertThat(Http.get(BASE + "/Appointment/" + id + "/$exportAsiCal", "Accept", "text/calendar",
        "Authorization", token("PRACTITIONER", Map.of("care_team_id", "CareTeam/other"))).statusCode()).isEqualTo(403);
    String noPrivilege = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Patient.read"),
        Map.of("care_team_id", TEAM), null, 300);
    assertThat(Http.get(BASE + "/Appointment/" + id + "/$exportAsiCal", "Authorization", noPrivilege).statusCode())
        .isEqualTo(403);
    assertThat(Http.get(BASE + "/Appointment/nope-404/$exportAsiCal").statusCode()).isEqualTo(404);
  }
}
