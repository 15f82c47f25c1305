package io.appointmentserver.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.ChildServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** DSTU3 Subscriptions over real HTTP: a receiver on 127.0.0.1 gets the rest-hook notifications. */
class SubscriptionTest {
  static final String BASE = TestServer.base();
  static final String JSON = "application/fhir+json";
  static final String TEAM = "http://organization.fut.trifork.com/fhir/CareTeam/35102";
  static final String OTHER_TEAM = "http://organization.fut.trifork.com/fhir/CareTeam/35103";

  static String tag() {
    return "t" + UUID.randomUUID().toString().substring(0, 8);
  }

  static String subscription(String criteria, String endpoint, String payload, String extra) {
    return "{\"resourceType\":\"Subscription\",\"status\":\"requested\",\"reason\":\"test\",\"criteria\":\""
        + criteria + "\",\"channel\":{\"type\":\"rest-hook\",\"endpoint\":\"" + endpoint + "\""
        + (payload == null ? "" : ",\"payload\":\"" + payload + "\"")
        + ",\"header\":[\"Authorization: Bearer secret-" + criteria.length() + "\"]}" + extra + "}";
  }

  /** Creates a Subscription as {@code auth} (null: SYSTEM), returns its id. */
  static String create(String body, String... auth) {
    List<String> h = new ArrayList<>(List.of("Content-Type", JSON));
    h.addAll(List.of(auth));
    HttpResponse<String> r = Http.post(BASE + "/Subscription", body, h.toArray(String[]::new));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    JsonNode s = Json.parse(r.body());
    assertThat(s.get("status").asText()).isEqualTo("active");
    return s.get("id").asText();
  }

  static String basic(String base, String id, String tag) {
    String body = "{\"resourceType\":\"Basic\",\"id\":\"" + id + "\",\"code\":{\"coding\":[{\"system\":\"urn:sub\","
        + "\"code\":\"" + tag + "\"}],\"text\":\"" + UUID.randomUUID() + "\"}}"; // each PUT a new version
    HttpResponse<String> r = Http.put(base + "/Basic/" + id, body);
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
    return Json.parse(r.body()).get("meta").get("versionId").asText();
  }

  @Test
  void matchingWritesAreDeliveredWithHeadersAndPayloadForms() throws Exception {
    try (Receiver rx = new Receiver()) {
      String t = tag();
      String criteria = "Basic?code=urn:sub%7C" + t;
      String json = create(subscription(criteria, rx.url("/json"), JSON, ""));
      create(subscription(criteria, rx.url("/xml"), "application/fhir+xml", ""));
      create(subscription(criteria, rx.url("/empty"), null, ""));
      assertThat(Json.parse(Http.get(BASE + "/Subscription/" + json).body()).toString()).contains(Owner.URL);

      basic(BASE, "nomatch-" + t, tag()); // another code: no one hears of it
      basic(BASE, "match-" + t, t);
      Map<String, Receiver.Received> byPath = new java.util.HashMap<>();
      for (int i = 0; i < 3; i++) {
        Receiver.Received r = rx.next(10_000);
        assertThat(r).as("notification " + i).isNotNull();
        byPath.put(r.path(), r);
      }
      assertThat(byPath.get("/json").body()).contains("\"id\":\"match-" + t + "\"");
      assertThat(byPath.get("/json").contentType()).isEqualTo(JSON);
      assertThat(byPath.get("/json").authorization()).isEqualTo("Bearer secret-" + criteria.length());
      assertThat(byPath.get("/xml").body()).startsWith("<Basic").contains("match-" + t);
      assertThat(byPath.get("/empty").body()).isEmpty();
      assertThat(rx.drain(500)).isEmpty();
    }
  }

  @Test
  void criteriaMeanWhatTheSameSearchMeans() throws Exception {
    try (Receiver rx = new Receiver()) {
      String patient = "crit-" + tag();
      assertThat(Http.put(BASE + "/Patient/" + patient, "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}")
          .statusCode()).isEqualTo(201);
      String id = "crit-" + tag();
      String p = "patient=Patient/" + patient;
      String[] criteria = {p + "&date=ge2026-12-01", p + "&date=lt2026-12-01", p + "&date=2026-12", p + "&date=ap2026-12-01",
          p + "&status:not=cancelled", p + "&status=cancelled,booked", p + "&status:not=booked",
          p + "&_lastUpdated=gt2020-01-01", p + "&_lastUpdated=lt2020-01-01", p + "&_id=" + id, p + "&_id:not=" + id,
          p + "&actor:missing=false", p + "&actor:missing=true", p + "&part-status=accepted",
          p + "&appointment-type:missing=true", "Appointment?patient=Patient/someone-else"};
      for (int i = 0; i < criteria.length; i++) {
        create(subscription("Appointment?" + criteria[i].replace("Appointment?", "").replace("|", "%7C"),
            rx.url("/" + i), null, ""));
      }
      assertThat(Http.put(BASE + "/Appointment/" + id, Appointments.ofCareTeam(id, TEAM, patient)).statusCode())
          .isEqualTo(201);
      Set<String> expected = new HashSet<>();
      for (int i = 0; i < criteria.length; i++) {
        String q = criteria[i].startsWith("Appointment?") ? criteria[i].substring(12) : criteria[i];
        HttpResponse<String> r = Http.get(BASE + "/Appointment?" + q + "&_id=" + id);
        assertThat(r.statusCode()).as(q + " " + r.body()).isEqualTo(200);
        if (Json.parse(r.body()).get("total").asInt() == 1) {
          expected.add("/" + i);
        }
      }
      assertThat(expected).hasSizeBetween(5, criteria.length - 5); // some match, some do not
      Set<String> got = new HashSet<>();
      rx.drain(1500).forEach(r -> got.add(r.path()));
      assertThat(got).isEqualTo(expected);
    }
  }

  @Test
  void notificationsOfOneResourceComeInOrderAndAfterTheReceiverIsBack() throws Exception {
    try (Receiver rx = new Receiver()) {
      String t = tag();
      create(subscription("Basic?code=urn:sub%7C" + t, rx.url("/"), JSON, ""));
      rx.status.set(503); // down: the first attempts fail
      for (int v = 0; v < 4; v++) {
        basic(BASE, "order-" + t, t);
      }
      while (rx.attempts.get() < 2) {
        Thread.sleep(50);
      }
      rx.status.set(200);
      List<String> versions = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        Receiver.Received r = rx.next(10_000);
        assertThat(r).as("notification " + i).isNotNull();
        versions.add(Json.parse(r.body()).get("meta").get("versionId").asText());
      }
      assertThat(versions).containsExactly("1", "2", "3", "4");
    }
  }

  @Test
  void repeatedFailurePutsTheSubscriptionInError() throws Exception {
    try (Receiver rx = new Receiver()) {
      rx.status.set(500);
      String t = tag();
      String id = create(subscription("Basic?code=urn:sub%7C" + t, rx.url("/"), JSON, ""));
      basic(BASE, "err-" + t, t);
      JsonNode s = null;
      for (int i = 0; i < 200; i++) {
        s = Json.parse(Http.get(BASE + "/Subscription/" + id).body());
        if (s.get("status").asText().equals("error")) {
          break;
        }
        Thread.sleep(50);
      }
      assertThat(s.get("status").asText()).isEqualTo("error");
      assertThat(s.get("error").asText()).contains("500");
      assertThat(rx.attempts.get()).isEqualTo(6);
    }
  }

  @Test
  void offAndEndStopDelivery() throws Exception {
    try (Receiver rx = new Receiver()) {
      String t = tag();
      String id = create(subscription("Basic?code=urn:sub%7C" + t, rx.url("/off"), JSON, ""));
      create(subscription("Basic?code=urn:sub%7C" + t, rx.url("/ended"), JSON, ",\"end\":\"2020-01-01T00:00:00Z\""));
      JsonNode s = Json.parse(Http.get(BASE + "/Subscription/" + id).body());
      ((com.fasterxml.jackson.databind.node.ObjectNode) s).put("status", "off");
      HttpResponse<String> off = Http.put(BASE + "/Subscription/" + id, s.toString());
      assertThat(off.statusCode()).as(off.body()).isEqualTo(200);
      assertThat(Json.parse(off.body()).get("status").asText()).isEqualTo("off");
      basic(BASE, "off-" + t, t);
      assertThat(rx.drain(800)).isEmpty();
    }
  }

  @Test
  void whatTheServerCannotServeIsRefusedAtCreate() {
    String[] refused = {
        subscription("Basic?code=urn:sub%7Cx", "http://10.0.0.1/hook", JSON, ""), // not an allowed endpoint
        subscription("Basic?no-such-parameter=1", "http://127.0.0.1:1/hook", JSON, ""),
        subscription("Appointment?patient.name=x", "http://127.0.0.1:1/hook", JSON, ""), // a chain
        subscription("NoSuchType?x=1", "http://127.0.0.1:1/hook", JSON, ""),
        subscription("Basic?code=urn:sub%7Cx", "http://127.0.0.1:1/hook", "text/plain", "")};
    for (String body : refused) {
      HttpResponse<String> r = Http.post(BASE + "/Subscription", body, "Content-Type", JSON);
      assertThat(r.statusCode()).as(body + " -> " + r.body()).isEqualTo(422);
      assertThat(r.body()).contains("OperationOutcome");
    }
    String noPrivilege = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Basic.*"), Map.of(), null, 300);
    assertThat(Http.post(BASE + "/Subscription", subscription("Basic?code=x", "http://127.0.0.1:1/", JSON, ""),
        "Content-Type", JSON, "Authorization", noPrivilege).statusCode()).isEqualTo(403);
  }

  @Test
  void aPractitionersSubscriptionHearsNothingOfAnotherCareTeam() throws Exception {
    try (Receiver rx = new Receiver()) {
      String patient = "sub-" + tag();
      assertThat(Http.put(BASE + "/Patient/" + patient, "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}")
          .statusCode()).isEqualTo(201);
      String practitioner = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER",
          List.of("Subscription.*", "Appointment.read", "Appointment.search"), Map.of("care_team_id", TEAM), null, 300);
      create(subscription("Appointment?patient=Patient/" + patient, rx.url("/"), JSON, ""),
          "Authorization", practitioner);
      String other = "other-" + tag();
      String own = "own-" + tag();
      assertThat(Http.put(BASE + "/Appointment/" + other, Appointments.ofCareTeam(other, OTHER_TEAM, patient))
          .statusCode()).isEqualTo(201);
      assertThat(Http.put(BASE + "/Appointment/" + own, Appointments.ofCareTeam(own, TEAM, patient))
          .statusCode()).isEqualTo(201);
      List<Receiver.Received> got = rx.drain(1500);
      assertThat(got).hasSize(1);
      assertThat(got.get(0).body()).contains("\"id\":\"" + own + "\"");
    }
  }

  @Test
  void aRolledBackTransactionNotifiesNoOneAndTriggerSends() throws Exception {
    try (Receiver rx = new Receiver()) {
      String t = tag();
      String id = create(subscription("Basic?code=urn:sub%7C" + t, rx.url("/"), JSON, ""));
      String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
          + "{\"resource\":{\"resourceType\":\"Basic\",\"code\":{\"coding\":[{\"system\":\"urn:sub\",\"code\":\"" + t
          + "\"}]}},\"request\":{\"method\":\"POST\",\"url\":\"Basic\"}},"
          + "{\"resource\":{\"resourceType\":\"Basic\",\"id\":\"x\",\"code\":{\"text\":\"x\"}},"
          + "\"request\":{\"method\":\"PUT\",\"url\":\"Basic/rollback-" + t + "\",\"ifMatch\":\"W/\\\"7\\\"\"}}]}";
      HttpResponse<String> r = Http.post(BASE, bundle, "Content-Type", JSON);
      assertThat(r.statusCode()).as(r.body()).isBetween(400, 499);
      assertThat(rx.drain(800)).isEmpty();

      String other = tag();
      basic(BASE, "trig-" + other, other); // not matching: sent only when triggered
      HttpResponse<String> trig = Http.post(BASE + "/Subscription/" + id + "/$trigger-subscription",
          "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"resourceId\",\"valueUri\":\"Basic/trig-" + other
              + "\"}]}", "Content-Type", JSON);
      assertThat(trig.statusCode()).as(trig.body()).isEqualTo(200);
      Receiver.Received got = rx.next(10_000);
      assertThat(got).isNotNull();
      assertThat(got.body()).contains("trig-" + other);
      assertThat(Http.post(BASE + "/Subscription/" + id + "/$trigger-subscription",
          "{\"resourceType\":\"Parameters\"}", "Content-Type", JSON).statusCode()).isEqualTo(400);
      String readOnly = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Subscription.read", "Basic.*"),
          Map.of(), null, 300);
      assertThat(Http.post(BASE + "/Subscription/" + id + "/$trigger-subscription",
          "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"resourceId\",\"valueUri\":\"Basic/trig-"
              + other + "\"}]}", "Content-Type", JSON, "Authorization", readOnly).statusCode()).isEqualTo(403);
    }
  }

  @Test
  void twoProcessesDeliverEachNotificationOnce() throws Exception {
    try (Receiver rx = new Receiver(); AppointmentServer second = TestServer.another(c -> c)) {
      String t = tag();
      create(subscription("Basic?code=urn:sub%7C" + t, rx.url("/"), JSON, ""));
      String secondBase = second.baseUrl();
      int n = 30;
      for (int i = 0; i < n; i++) {
        basic(i % 2 == 0 ? BASE : secondBase, "two-" + i + "-" + t, t);
      }
      List<Receiver.Received> got = new ArrayList<>();
      for (int i = 0; i < 100 && got.size() < n; i++) {
        got.addAll(rx.drain(100));
      }
      got.addAll(rx.drain(700));
      Set<String> ids = new HashSet<>();
      got.forEach(r -> ids.add(Json.parse(r.body()).get("id").asText()));
      assertThat(ids).hasSize(n);
      assertThat(got).hasSize(n);
    }
  }

  @Test
  void aKilledProcesssUndeliveredNotificationsAreAllDeliveredAfterRestart() throws Exception {
    try (Receiver rx = new Receiver()) {
      rx.status.set(503);
      String t = tag();
      // a database of their own: the restarted process is the only one that can deliver
      TestServer.withFreshDatabase(TestServer.config(), "subscription_restart");
      Map<String, String> env = Map.of("FHIR_SUBSCRIPTION_ENDPOINTS", "http://127.0.0.1:",
          "FHIR_SUBSCRIPTION_RETRY_MS", "200", "FHIR_SUBSCRIPTION_RETRY_MAX_MS", "300",
          "FHIR_SUBSCRIPTION_ATTEMPTS", "1000", "FHIR_SUBSCRIPTION_LEASE_SECONDS", "3",
          "FHIR_DB_URL", TestServer.postgres().getJdbcUrl("postgres", "subscription_restart"));
      ChildServer child = ChildServer.start(256, env);
      String id;
      try {
        HttpResponse<String> s = Http.post(child.base + "/Subscription",
            subscription("Basic?code=urn:sub%7C" + t, rx.url("/"), JSON, ""), "Content-Type", JSON);
        assertThat(s.statusCode()).as(s.body()).isEqualTo(201);
        id = Json.parse(s.body()).get("id").asText();
        for (int i = 0; i < 5; i++) {
          basic(child.base, "kill-" + i + "-" + t, t);
        }
        while (rx.attempts.get() < 1) {
          Thread.sleep(20);
        }
      } finally {
        child.process.destroyForcibly().waitFor(); // SIGKILL: no shutdown of any kind
      }
      assertThat(rx.drain(0)).isEmpty(); // nothing was delivered before the kill
      rx.status.set(200);
      try (ChildServer restarted = ChildServer.start(256, env)) {
        Set<String> got = new HashSet<>();
        for (int i = 0; i < 150 && got.size() < 5; i++) {
          rx.drain(100).forEach(r -> got.add(Json.parse(r.body()).get("id").asText()));
        }
        assertThat(got).hasSize(5);
        assertThat(Json.parse(Http.get(restarted.base + "/Subscription/" + id).body()).get("status").asText())
            .isEqualTo("active");
      }
    }
  }
}
