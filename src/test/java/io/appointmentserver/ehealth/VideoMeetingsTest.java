package io.appointmentserver.ehealth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.IgExchange;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the server adds to the video appointments it creates (the eHealth service's behaviour
 * recorded in {@code POST_Appointment_Video}, replayed by {@code IgExchangesTest}): the base
 * profile, and a meeting of the configured video meeting service ({@code FHIR_VIDEO_MEETING_BASE_URL}).
 * On servers with the eHealth IG loaded, so that what the server adds is validated too: the shared
 * one (no meeting service) and one with a meeting service.
 */
class VideoMeetingsTest {
  private static final String SD = "http://ehealth.sundhed.dk/fhir/StructureDefinition/";
  private static final String SERVICE = "https://meet.example.org/rooms";

  private static AppointmentServer withMeetings;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    // with a trailing slash, which the meeting URLs do not double
    withMeetings = TestServer.another(c -> c.withVideoMeetingBaseUrl(SERVICE + "/"));
    base = withMeetings.baseUrl();
  }

  @AfterAll
  static void stop() throws Exception {
    if (withMeetings != null) {
      withMeetings.close();
    }
  }

  /** The video appointment the IG's POST_Appointment_Video sends (a SYSTEM user's token here). */
  private static ObjectNode videoAppointment() throws IOException {
    return Json.parse(IgExchange.load("POST_Appointment_Video").body());
  }

  private static ObjectNode created(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return Json.parse(r.body());
  }

  @Test
  void withoutAMeetingServiceAVideoAppointmentGetsTheBaseProfileButNoMeeting() throws IOException {
    ObjectNode a = created(Http.post(TestServer.base() + "/Appointment", videoAppointment().toString()));

    assertThat(profiles(a)).containsExactly(SD + "ehealth-videoappointment", SD + "ehealth-appointment");
    assertThat(extensionUrls(a)).doesNotContain(SD + "ehealth-meeting-url", SD + "ehealth-pin-code");
  }

  @Test
  void aVideoAppointmentGetsANewMeetingOfTheConfiguredServiceWhichUpdatesKeep() throws IOException {
    ObjectNode a = created(Http.post(base + "/Appointment", videoAppointment().toString()));
    ObjectNode b = created(Http.post(base + "/Appointment", videoAppointment().toString()));

    assertThat(profiles(a)).containsExactly(SD + "ehealth-videoappointment", SD + "ehealth-appointment");
    String meeting = extension(a, "ehealth-meeting-url").get("valueUri").asText();
    assertThat(meeting).matches(java.util.regex.Pattern.quote(SERVICE) + "/[0-9a-f-]{36}");
    assertThat(extension(b, "ehealth-meeting-url").get("valueUri").asText()).isNotEqualTo(meeting);
    assertThat(extension(a, "ehealth-pin-code").get("valueString").asText()).matches("[0-9]{4}");
    // after what the client sent, in the recorded order
    assertThat(extensionUrls(a)).endsWith(SD + "ehealth-meeting-url", SD + "ehealth-pin-code");

    String url = base + "/Appointment/" + a.get("id").asText();
    ObjectNode stored = Json.parse(Http.get(url).body());
    assertThat(Json.withoutServerMeta(stored, false)).isEqualTo(Json.withoutServerMeta(a, false));
    stored.put("comment", "another comment");
    HttpResponse<String> updated = Http.put(url, stored.toString());
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
    assertThat(extension(Json.parse(updated.body()), "ehealth-meeting-url").get("valueUri").asText()).isEqualTo(meeting);
  }

  @Test
  void aMeetingTheClientGivesIsKept() throws IOException {
    ObjectNode sent = videoAppointment();
    ((ArrayNode) sent.get("extension")).addObject().put("url", SD + "ehealth-meeting-url")
        .put("valueUri", "https://video.example.org/m/42");

    ObjectNode a = created(Http.post(base + "/Appointment", sent.toString()));

    assertThat(extension(a, "ehealth-meeting-url").get("valueUri").asText()).isEqualTo("https://video.example.org/m/42");
    assertThat(extensionUrls(a)).doesNotContain(SD + "ehealth-pin-code");
  }

  @Test
  void aGroupVideoAppointmentGetsAMeetingButNotTheSinglePatientProfile() throws IOException {
    ObjectNode sent = videoAppointment();
    ((ArrayNode) sent.at("/meta/profile")).removeAll().add(SD + "ehealth-group-videoappointment");
    // the group profile wants on every participant the care team that assigned it
    for (JsonNode p : sent.get("participant")) {
      if (!p.has("extension")) {
        ((ObjectNode) p).putArray("extension");
      }
      ((ArrayNode) p.get("extension")).addObject().put("url", SD + "ehealth-assigning-careteam")
          .putObject("valueReference").put("reference", "http://organization.fut.trifork.com/fhir/CareTeam/35102");
    }

    ObjectNode a = created(Http.post(base + "/Appointment", sent.toString()));

    assertThat(profiles(a)).containsExactly(SD + "ehealth-group-videoappointment");
    assertThat(extension(a, "ehealth-meeting-url").get("valueUri").asText()).startsWith(SERVICE + "/");
    assertThat(extension(a, "ehealth-pin-code").get("valueString").asText()).matches("[0-9]{4}");
  }

  /** Like the eHealth identifier, the meeting comes with a POST only: a PUT that creates stores what was sent. */
  @Test
  void aVideoAppointmentCreatedByPutIsStoredAsSent() throws IOException {
    ObjectNode sent = videoAppointment();
    String id = "video-" + UUID.randomUUID().toString().substring(0, 8);
    sent.put("id", id);

    HttpResponse<String> r = Http.put(base + "/Appointment/" + id, sent.toString());

    ObjectNode a = created(r);
    assertThat(profiles(a)).containsExactly(SD + "ehealth-videoappointment");
    assertThat(extensionUrls(a)).doesNotContain(SD + "ehealth-meeting-url", SD + "ehealth-pin-code");
  }

  private static List<String> profiles(ObjectNode a) {
    List<String> out = new ArrayList<>();
    a.at("/meta/profile").forEach(p -> out.add(p.asText()));
    return out;
  }

  private static List<String> extensionUrls(ObjectNode a) {
    List<String> out = new ArrayList<>();
    a.path("extension").forEach(e -> out.add(e.path("url").asText()));
    return out;
  }

  private static JsonNode extension(ObjectNode a, String name) {
    for (JsonNode e : a.path("extension")) {
      if (e.path("url").asText().equals(SD + name)) {
        return e;
      }
    }
    throw new AssertionError("no " + name + " extension in " + a);
  }
}
