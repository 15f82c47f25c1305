package io.appointmentserver.ehealth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The eHealth message invariants in code (each refusal names its rule) and the Communication's
 * missing update, on the shared server (the built-in IG loaded: a message claiming
 * {@code ehealth-message} is validated against it once the rules let it through).
 */
class CommunicationRulesTest {
  static final String BASE = TestServer.base();
  static final String SD = "http://ehealth.sundhed.dk/fhir/StructureDefinition/";
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String PATIENT = "https://patient.example.org/fhir/Patient/rules-" + RUN;
  static final String PRACTITIONER = "https://organization.example.org/fhir/Practitioner/rules-" + RUN;
  static final String TEAM = "https://organization.example.org/fhir/CareTeam/rules-" + RUN;

  /** A valid ehealth-message: a message from a patient to a care team. */
  static ObjectNode message(String category) {
    ObjectNode m = Json.parse("{\"resourceType\":\"Communication\",\"status\":\"completed\"}");
    m.putObject("meta").putArray("profile").add(SD + "ehealth-message");
    ArrayNode ext = m.putArray("extension");
    ext.addObject().put("url", SD + "ehealth-administrative-status").putObject("valueCoding")
        .put("system", "http://ehealth.sundhed.dk/cs/administrative-status").put("code", "activate");
    m.putArray("category").addObject().putArray("coding").addObject()
        .put("system", CommunicationRules.MESSAGE_CATEGORY).put("code", category);
    m.putArray("payload").addObject().put("contentString", "Hello");
    return m;
  }

  static ObjectNode withTeam(ObjectNode m, String which) {
    ((ArrayNode) m.get("extension")).addObject().put("url", SD + "ehealth-communication-" + which + "CareTeam")
        .putObject("valueReference").put("reference", TEAM);
    return m;
  }

  static ObjectNode from(ObjectNode m, String sender) {
    m.putObject("sender").put("reference", sender);
    return m;
  }

  static ObjectNode to(ObjectNode m, String recipient) {
    m.putArray("recipient").addObject().put("reference", recipient);
    return m;
  }

  static HttpResponse<String> post(JsonNode c) {
    return Http.post(BASE + "/Communication", c.toString());
  }

  static void assertAccepted(ObjectNode c) {
    HttpResponse<String> r = post(c);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  static void assertViolates(ObjectNode c, String rule) {
    HttpResponse<String> r = post(c);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    JsonNode issue = Json.parse(r.body()).at("/issue/0");
    assertThat(issue.get("code").asText()).isEqualTo("invariant");
    assertThat(issue.get("diagnostics").asText()).startsWith("Rule " + rule + " violated");
  }

  @Test
  void messageInvariantAMessageGoesBetweenAPatientOrDeviceAndACareTeam() {
    assertAccepted(from(withTeam(message("message"), "recipient"), PATIENT));
    assertAccepted(to(withTeam(message("message"), "sender"), PATIENT));
    assertAccepted(withTeam(withTeam(message("message"), "sender"), "recipient"));
    assertAccepted(to(from(message("message"), "https://device.example.org/fhir/Device/1"), PATIENT));
    // the profile takes referenced senders only (aggregation): the invariant's contained Device is for others
    ObjectNode contained = to(from(message("message"), "#dev"), PATIENT);
    contained.remove("meta");
    contained.putArray("contained").addObject().put("resourceType", "Device").put("id", "dev");
    assertAccepted(contained);

    assertViolates(to(from(message("message"), PATIENT), PRACTITIONER), "message-invariant");
    assertViolates(to(from(message("message"), PRACTITIONER), PATIENT), "message-invariant");
    assertViolates(from(withTeam(message("message"), "recipient"), PRACTITIONER), "message-invariant");
  }

  @Test
  void notificationInvariantANotificationGoesToAPatientFromStaff() {
    assertAccepted(to(from(message("notification"), PRACTITIONER), PATIENT));
    assertAccepted(to(withTeam(message("notification"), "sender"), PATIENT));

    assertViolates(to(from(message("notification"), PRACTITIONER), PRACTITIONER), "notification-invariant");
    assertViolates(to(from(message("notification"), PATIENT), PATIENT), "notification-invariant");
    assertViolates(from(message("notification"), PRACTITIONER), "notification-invariant");
  }

  @Test
  void noteInvariantANoteIsTheSendersOwnOrTheRecipientTeams() {
    assertAccepted(to(from(message("note"), PRACTITIONER), PRACTITIONER));
    assertAccepted(from(withTeam(message("note"), "recipient"), PRACTITIONER));

    assertViolates(to(from(message("note"), PRACTITIONER), PATIENT), "note-invariant");
    assertViolates(to(withTeam(message("note"), "recipient"), PATIENT), "note-invariant");
    assertViolates(from(message("note"), PRACTITIONER), "note-invariant");
  }

  @Test
  void nemsms1ANemSmsHasATextOfAtMost160Characters() {
    ObjectNode sms = to(withTeam(message("message"), "sender"), PATIENT);
    sms.putArray("medium").addObject().putArray("coding").addObject()
        .put("system", "http://ehealth.sundhed.dk/cs/message-medium").put("code", "nemsms");
    ((ObjectNode) sms.at("/payload/0")).put("contentString", "æ".repeat(160));
    assertAccepted(sms);

    ((ObjectNode) sms.at("/payload/0")).put("contentString", "æ".repeat(161));
    assertViolates(sms, "nemsms-1");
    sms.remove("payload");
    assertViolates(sms, "nemsms-1");
  }

  /**
   * The invariants are the message's: they hold for a Communication coded in the message
   * categories whether or not it claims the profile, and not for other Communications.
   */
  @Test
  void theInvariantsHoldForMessagesOnly() {
    ObjectNode unclaimed = to(from(message("note"), PRACTITIONER), PATIENT);
    unclaimed.remove("meta");
    assertViolates(unclaimed, "note-invariant");

    ObjectNode other = unclaimed.deepCopy();
    ((ObjectNode) other.at("/category/0/coding/0")).put("system", "http://example.org/other-categories");
    assertAccepted(other);
  }

  /**
   * The patient service declares no update of Communication: a PUT of one claiming an eHealth
   * profile, or of one replacing a version that claims it, is a 405 (in a batch too); PATCH is
   * the way to change it. Other Communications take every interaction.
   */
  @Test
  void aCommunicationWithAnEhealthProfileTakesNoPutButAPatch() {
    String id = "rules-put-" + RUN;
    ObjectNode m = from(withTeam(message("message"), "recipient"), PATIENT).put("id", id);
    HttpResponse<String> put = Http.put(BASE + "/Communication/" + id, m.toString());
    assertNotAllowed(put);
    assertThat(Http.get(BASE + "/Communication/" + id).statusCode()).isEqualTo(404);

    ObjectNode plain = m.deepCopy();
    plain.remove("meta");
    assertThat(Http.put(BASE + "/Communication/" + id, plain.toString()).statusCode()).isEqualTo(201);
    assertNotAllowed(Http.put(BASE + "/Communication/" + id, m.toString()));

    HttpResponse<String> created = post(m);
    String posted = Json.parse(created.body()).get("id").asText();
    ObjectNode unclaimed = plain.deepCopy().put("id", posted);
    assertNotAllowed(Http.put(BASE + "/Communication/" + posted, unclaimed.toString()));
    HttpResponse<String> patched = Http.send("PATCH", BASE + "/Communication/" + posted,
        "[{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"aborted\"}]", "Content-Type", "application/json-patch+json");
    assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
    assertThat(Json.parse(patched.body()).get("status").asText()).isEqualTo("aborted");

    String batch = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":" + m.deepCopy().put("id", posted)
        + ",\"request\":{\"method\":\"PUT\",\"url\":\"Communication/" + posted + "\"}}]}";
    HttpResponse<String> b = Http.post(BASE, batch);
    assertThat(b.statusCode()).as(b.body()).isEqualTo(200);
    assertThat(Json.parse(b.body()).at("/entry/0/response/status").asText()).startsWith("405");
    assertThat(Json.parse(Http.get(BASE + "/Communication/" + posted).body()).at("/meta/versionId").asText())
        .isEqualTo("2");
  }

  private static void assertNotAllowed(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(405);
    JsonNode issue = Json.parse(r.body()).at("/issue/0");
    assertThat(issue.get("code").asText()).isEqualTo("not-supported");
    assertThat(issue.get("diagnostics").asText()).contains("Update is not supported for Communication");
  }
}
