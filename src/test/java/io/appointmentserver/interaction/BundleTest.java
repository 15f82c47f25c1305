package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** batch and transaction Bundles (DSTU3 http.html#transaction) over real HTTP. */
class BundleTest {
  static final String BASE = TestServer.base();
  static final String SYSTEM = "urn:bundle-test";

  static String uid() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  static String bundle(String type, String... entries) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + String.join(",", entries) + "]}";
  }

  static String entry(String fullUrl, String resource, String method, String url, String extra) {
    return "{" + (fullUrl == null ? "" : "\"fullUrl\":\"" + fullUrl + "\",")
        + (resource == null ? "" : "\"resource\":" + resource + ",")
        + "\"request\":{\"method\":\"" + method + "\",\"url\":\"" + url + "\"" + (extra == null ? "" : "," + extra) + "}}";
  }

  static String patient(String id, String identifier) {
    return "{\"resourceType\":\"Patient\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
        + ",\"identifier\":[{\"system\":\"" + SYSTEM + "\",\"value\":\"" + identifier + "\"}]}";
  }

  static String observation(String subject) {
    return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"weight\"},"
        + "\"subject\":{\"reference\":\"" + subject + "\"}}";
  }

  static HttpResponse<String> post(String bundle, String... headers) {
    return Http.post(BASE, bundle, headers);
  }

  static int count(String identifier) {
    return Json.parse(Http.get(BASE + "/Patient?identifier=" + SYSTEM + "%7C" + identifier).body()).get("total").asInt();
  }

  /** The id of a response entry's location {@code Type/id/_history/v}. */
  static String id(JsonNode entry) {
    return entry.at("/response/location").asText().split("/")[1];
  }

  @Test
  void aTransactionResolvesFullUrlsInAnyOrderAndAnswersEachEntry() {
    String identifier = uid();
    String patientUrl = "urn:uuid:" + UUID.randomUUID();
    String putId = "bt-" + identifier;
    // the Observation comes first and refers to the Patient created after it
    HttpResponse<String> r = post(bundle("transaction",
        entry(null, null, "GET", "Patient/" + putId, null),
        entry("urn:uuid:" + UUID.randomUUID(), observation(patientUrl), "POST", "Observation", null),
        entry(patientUrl, patient(null, identifier), "POST", "Patient", null),
        entry("http://elsewhere.example.org/fhir/Patient/" + putId, patient(putId, identifier + "-put"), "PUT",
            "Patient/" + putId, null)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode out = Json.parse(r.body());
    assertThat(out.get("type").asText()).isEqualTo("transaction-response");
    JsonNode entries = out.get("entry");
    assertThat(entries).hasSize(4);
    // the read runs last: it sees the PUT of the same transaction
    assertThat(entries.get(0).at("/response/status").asText()).isEqualTo("200 OK");
    assertThat(entries.get(0).at("/resource/id").asText()).isEqualTo(putId);
    assertThat(entries.get(1).at("/response/status").asText()).isEqualTo("201 Created");
    assertThat(entries.get(2).at("/response/status").asText()).isEqualTo("201 Created");
    assertThat(entries.get(3).at("/response/status").asText()).isEqualTo("201 Created");
    assertThat(entries.get(3).at("/response/location").asText()).isEqualTo("Patient/" + putId + "/_history/1");
    assertThat(entries.get(1).at("/response/etag").asText()).isEqualTo("W/\"1\"");

    String patientId = id(entries.get(2));
    JsonNode observation = Json.parse(Http.get(BASE + "/Observation/" + id(entries.get(1))).body());
    assertThat(observation.at("/subject/reference").asText()).isEqualTo("Patient/" + patientId);
    assertThat(count(identifier)).isEqualTo(1);
  }

  @Test
  void oneRefusedEntryFailsTheTransactionAndNothingIsWritten() {
    String identifier = uid();
    String wrongId = "bt-w-" + identifier;
    HttpResponse<String> r = post(bundle("transaction",
        entry("urn:uuid:" + UUID.randomUUID(), patient(null, identifier), "POST", "Patient", null),
        entry(null, patient("other-id", identifier), "PUT", "Patient/" + wrongId, null)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    JsonNode oo = Json.parse(r.body());
    assertThat(oo.get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(oo.at("/issue/0/diagnostics").asText()).startsWith("Bundle entry 1 (PUT Patient/" + wrongId + ")");
    assertThat(count(identifier)).isZero();
    assertThat(Http.get(BASE + "/Patient/" + wrongId).statusCode()).isEqualTo(404);

    // a reference to nothing fails it too, once all entries are written
    r = post(bundle("transaction",
        entry("urn:uuid:" + UUID.randomUUID(), patient(null, identifier), "POST", "Patient", null),
        entry(null, observation("Patient/does-not-exist-" + identifier), "POST", "Observation", null)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(count(identifier)).isZero();
  }

  /**
   * Two transactions writing the same two resources in opposite orders may deadlock in
   * PostgreSQL, which then rolls one back: that one is a 409 to send again, never a 500, and
   * nothing of it is written (each resource's version counts exactly the transactions that won).
   */
  @Test
  void transactionsCrossingEachOtherAreEachWhollyWrittenOrA409() throws Exception {
    String x = "bt-x-" + uid();
    String y = "bt-y-" + uid();
    assertThat(Http.put(BASE + "/Patient/" + x, patient(x, x)).statusCode()).isEqualTo(201);
    assertThat(Http.put(BASE + "/Patient/" + y, patient(y, y)).statusCode()).isEqualTo(201);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    int won = 0;
    try {
      for (int round = 0; round < 10; round++) {
        // content of its own each time: a PUT of the current content would keep the version
        String fw = "-f" + round;
        String bw = "-b" + round;
        String forward = bundle("transaction", entry(null, patient(x, x + fw), "PUT", "Patient/" + x, null),
            entry(null, patient(y, y + fw), "PUT", "Patient/" + y, null));
        String backward = bundle("transaction", entry(null, patient(y, y + bw), "PUT", "Patient/" + y, null),
            entry(null, patient(x, x + bw), "PUT", "Patient/" + x, null));
        var a = pool.submit(() -> post(forward));
        var b = pool.submit(() -> post(backward));
        for (HttpResponse<String> r : List.of(a.get(), b.get())) {
          assertThat(r.statusCode()).as(r.body()).isIn(200, 409);
          if (r.statusCode() == 200) {
            won++;
          } else {
            assertThat(Json.parse(r.body()).at("/issue/0/code").asText()).isEqualTo("conflict");
          }
        }
      }
    } finally {
      pool.shutdownNow();
    }
    for (String id : List.of(x, y)) {
      JsonNode stored = Json.parse(Http.get(BASE + "/Patient/" + id).body());
      assertThat(stored.at("/meta/versionId").asText()).isEqualTo(Integer.toString(1 + won));
    }
  }

  @Test
  void twoEntriesWritingOneResourceAre400() {
    String id = "bt-d-" + uid();
    HttpResponse<String> r = post(bundle("transaction",
        entry(null, patient(id, "a"), "PUT", "Patient/" + id, null),
        entry(null, null, "DELETE", "Patient/" + id, null)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(Http.get(BASE + "/Patient/" + id).statusCode()).isEqualTo(404);
  }

  @Test
  void conditionalEntriesAndConditionalReferencesAreResolvedBySearch() {
    String identifier = uid();
    String existing = "bt-c-" + identifier;
    assertThat(Http.put(BASE + "/Patient/" + existing, patient(existing, identifier)).statusCode()).isEqualTo(201);

    HttpResponse<String> r = post(bundle("transaction",
        entry("urn:uuid:" + UUID.randomUUID(), patient(null, identifier), "POST", "Patient",
            "\"ifNoneExist\":\"identifier=" + SYSTEM + "|" + identifier + "\""),
        entry(null, observation("Patient?identifier=" + SYSTEM + "|" + identifier), "POST", "Observation", null)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode entries = Json.parse(r.body()).get("entry");
    assertThat(entries.get(0).at("/response/status").asText()).isEqualTo("200 OK");
    assertThat(id(entries.get(0))).isEqualTo(existing);
    JsonNode observation = Json.parse(Http.get(BASE + "/Observation/" + id(entries.get(1))).body());
    assertThat(observation.at("/subject/reference").asText()).isEqualTo("Patient/" + existing);
    assertThat(count(identifier)).isEqualTo(1);

    // a conditional reference that matches nothing fails the transaction
    r = post(bundle("transaction",
        entry(null, observation("Patient?identifier=" + SYSTEM + "|none-" + identifier), "POST", "Observation", null)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);

    // a conditional update in a transaction updates the match
    r = post(bundle("transaction", entry(null, patient(null, identifier).replace("\"identifier\"",
        "\"active\":true,\"identifier\""), "PUT", "Patient?identifier=" + SYSTEM + "|" + identifier, null)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(Json.parse(r.body()).at("/entry/0/response/location").asText())
        .isEqualTo("Patient/" + existing + "/_history/2");
  }

  @Test
  void ifMatchAndIfNoneMatchOnEntries() {
    String id = "bt-m-" + uid();
    assertThat(Http.put(BASE + "/Patient/" + id, patient(id, "m")).statusCode()).isEqualTo(201);
    HttpResponse<String> r = post(bundle("transaction",
        entry(null, patient(id, "m2"), "PUT", "Patient/" + id, "\"ifMatch\":\"W/\\\"2\\\"\"")));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(412);
    assertThat(Http.get(BASE + "/Patient/" + id).headers().firstValue("ETag").orElseThrow()).isEqualTo("W/\"1\"");

    r = post(bundle("batch",
        entry(null, null, "GET", "Patient/" + id, "\"ifNoneMatch\":\"W/\\\"1\\\"\""),
        entry(null, null, "GET", "Patient/" + id, "\"ifNoneMatch\":\"W/\\\"0\\\"\""),
        entry(null, null, "GET", "Patient/" + id, "\"ifModifiedSince\":\"2001-01-01T00:00:00Z\"")));
    JsonNode entries = Json.parse(r.body()).get("entry");
    assertThat(entries.get(0).at("/response/status").asText()).isEqualTo("304 Not Modified");
    assertThat(entries.get(0).has("resource")).isFalse();
    assertThat(entries.get(1).at("/response/status").asText()).isEqualTo("200 OK");
    assertThat(entries.get(2).at("/response/status").asText()).isEqualTo("200 OK");
  }

  @Test
  void aBatchRunsEachEntryOnItsOwnAndReportsEachStatus() {
    String identifier = uid();
    String id = "bt-b-" + identifier;
    HttpResponse<String> r = post(bundle("batch",
        entry(null, patient(id, identifier), "PUT", "Patient/" + id, null),
        entry(null, null, "GET", "Patient/never-" + identifier, null),
        entry(null, patient("x", identifier), "PUT", "Patient/y-" + identifier, null),
        entry(null, null, "GET", "Patient?identifier=" + SYSTEM + "|" + identifier, null),
        entry(null, null, "GET", "Patient/$everything", null)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode out = Json.parse(r.body());
    assertThat(out.get("type").asText()).isEqualTo("batch-response");
    JsonNode entries = out.get("entry");
    assertThat(entries.get(0).at("/response/status").asText()).isEqualTo("201 Created");
    assertThat(entries.get(1).at("/response/status").asText()).isEqualTo("404 Not Found");
    assertThat(entries.get(1).at("/response/outcome/resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(entries.get(2).at("/response/status").asText()).isEqualTo("400 Bad Request");
    assertThat(entries.get(3).at("/resource/total").asInt()).isEqualTo(1);
    assertThat(entries.get(4).at("/response/status").asText()).isEqualTo("400 Bad Request");
    assertThat(Http.get(BASE + "/Patient/" + id).statusCode()).isEqualTo(200);
  }

  @Test
  void eachEntryNeedsItsOwnPrivilegeAndContext() {
    String identifier = uid();
    String readerToken = Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Patient.read", "Patient.search"), java.util.Map.of(),
        "http://organization.example.org/fhir/Practitioner/9", 300);
    HttpResponse<String> r = post(bundle("transaction",
        entry(null, null, "GET", "Patient?identifier=" + SYSTEM + "|" + identifier, null),
        entry(null, patient(null, identifier), "POST", "Patient", null)), "Authorization", "Bearer " + readerToken);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    assertThat(Json.parse(r.body()).at("/issue/0/diagnostics").asText()).contains("Bundle entry 1")
        .contains("SECURITY_TOKEN_INSUFFICIENT_PERMISSION");
    assertThat(count(identifier)).isZero();

    // in a batch the same entry is refused alone
    r = post(bundle("batch",
        entry(null, null, "GET", "Patient?identifier=" + SYSTEM + "|" + identifier, null),
        entry(null, patient(null, identifier), "POST", "Patient", null)), "Authorization", "Bearer " + readerToken);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode entries = Json.parse(r.body()).get("entry");
    assertThat(entries.get(0).at("/response/status").asText()).isEqualTo("200 OK");
    assertThat(entries.get(1).at("/response/status").asText()).isEqualTo("403 Forbidden");
  }

  /**
   * A 10,000-entry transaction (5,000 patients and an observation of each, every observation
   * referring to its patient's urn:uuid) is read entry by entry, written in one database
   * transaction and answered entry by entry, within the test JVM's heap.
   */
  @Test
  void aTenThousandEntryTransactionResolvesEveryUrnUuid() {
    String run = uid();
    int patients = 5000;
    StringBuilder b = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
    for (int i = 0; i < patients; i++) {
      b.append(i == 0 ? "" : ",").append(entry("urn:uuid:00000000-0000-4000-8000-" + String.format("%012d", i),
          patient(null, run + "-" + i).replace("\"identifier\"", "\"name\":[{\"family\":\"big" + run + "\"}],\"identifier\""),
          "POST", "Patient", null));
    }
    for (int i = 0; i < patients; i++) {
      b.append(',').append(entry(null, observation("urn:uuid:00000000-0000-4000-8000-" + String.format("%012d", i))
          .replace("\"weight\"", "\"big" + run + "\""), "POST", "Observation", null));
    }
    String body = b.append("]}").toString();
    HttpResponse<String> r = post(body, "Prefer", "return=minimal");
    assertThat(r.statusCode()).as(r.body().substring(0, Math.min(2000, r.body().length()))).isEqualTo(200);
    JsonNode entries = Json.parse(r.body()).get("entry");
    assertThat(entries).hasSize(2 * patients);
    for (JsonNode e : entries) {
      assertThat(e.at("/response/status").asText()).isEqualTo("201 Created");
      assertThat(e.has("resource")).isFalse();
    }
    for (int i : new int[] {0, 1, 2499, patients - 1}) {
      JsonNode observation = Json.parse(Http.get(BASE + "/Observation/" + id(entries.get(patients + i))).body());
      assertThat(observation.at("/subject/reference").asText()).isEqualTo("Patient/" + id(entries.get(i)));
      JsonNode patient = Json.parse(Http.get(BASE + "/Patient/" + id(entries.get(i))).body());
      assertThat(patient.at("/identifier/0/value").asText()).isEqualTo(run + "-" + i);
    }
    assertThat(Json.parse(Http.get(BASE + "/Patient?family=big" + run + "&_summary=count").body()).get("total").asInt())
        .isEqualTo(patients);
  }

  @Test
  void preferReturnChoosesWhatEachWrittenEntryCarries() {
    String id = "bt-p-" + uid();
    HttpResponse<String> r = post(bundle("transaction", entry(null, patient(id, "p"), "PUT", "Patient/" + id, null)),
        "Prefer", "return=representation");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode entry = Json.parse(r.body()).at("/entry/0");
    assertThat(entry.at("/resource/id").asText()).isEqualTo(id);
    assertThat(entry.at("/resource/meta/versionId").asText()).isEqualTo("1");
    assertThat(entry.at("/resource/identifier/0/value").asText()).isEqualTo("p");

    r = post(bundle("batch", entry(null, patient(id, "p2"), "PUT", "Patient/" + id, null),
        entry(null, null, "DELETE", "Patient/" + id, null)), "Prefer", "return=OperationOutcome");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode entries = Json.parse(r.body()).get("entry");
    assertThat(entries.get(0).has("resource")).isFalse();
    assertThat(entries.get(0).at("/response/outcome/resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(entries.get(0).at("/response/outcome/issue/0/diagnostics").asText()).contains("Patient/" + id);
    assertThat(entries.get(1).at("/response/status").asText()).isEqualTo("204 No Content");
    assertThat(entries.get(1).at("/response/outcome/issue/0/diagnostics").asText()).startsWith("Deleted");

    r = post(bundle("transaction", entry(null, patient(id, "p3"), "PUT", "Patient/" + id, null)),
        "Prefer", "return=minimal");
    entry = Json.parse(r.body()).at("/entry/0");
    assertThat(entry.has("resource")).isFalse();
    assertThat(entry.at("/response/outcome").isMissingNode()).isTrue();
    assertThat(entry.at("/response/location").asText()).isEqualTo("Patient/" + id + "/_history/4");
  }

  @Test
  void historyAndOperationsRunInsideBatchEntries() {
    String id = "bt-h-" + uid();
    assertThat(Http.put(BASE + "/Patient/" + id, patient(id, "h1")).statusCode()).isEqualTo(201);
    assertThat(Http.put(BASE + "/Patient/" + id, patient(id, "h2")).statusCode()).isEqualTo(200);
    com.fasterxml.jackson.databind.node.ObjectNode appointment = Appointments.seed();
    String appointmentId = appointment.get("id").asText();
    Http.put(BASE + "/Patient/240", "{\"resourceType\":\"Patient\",\"id\":\"240\"}");
    assertThat(Http.put(BASE + "/Appointment/" + appointmentId, appointment.toString()).statusCode()).isEqualTo(201);

    HttpResponse<String> r = post(bundle("batch",
        entry(null, null, "GET", "Patient/" + id + "/_history", null),
        entry(null, null, "GET", "Patient/_history?_count=1", null),
        entry(null, null, "GET", "Appointment/" + appointmentId + "/$exportAsiCal", null),
        entry(null, null, "GET", "Patient/" + id + "/$everything", null)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode entries = Json.parse(r.body()).get("entry");
    JsonNode history = entries.get(0).get("resource");
    assertThat(entries.get(0).at("/response/status").asText()).isEqualTo("200 OK");
    assertThat(history.get("type").asText()).isEqualTo("history");
    assertThat(history.get("total").asInt()).isEqualTo(2);
    assertThat(history.at("/entry/0/resource/meta/versionId").asText()).isEqualTo("2");
    assertThat(history.at("/entry/0/resource/identifier/0/value").asText()).isEqualTo("h2");
    assertThat(history.at("/entry/1/resource/identifier/0/value").asText()).isEqualTo("h1");
    assertThat(history.at("/entry/1/request/method").asText()).isEqualTo("PUT");
    assertThat(entries.get(1).at("/resource/entry")).hasSize(1);
    assertThat(entries.get(2).at("/response/status").asText()).isEqualTo("200 OK");
    assertThat(entries.get(2).at("/resource/resourceType").asText()).isEqualTo("Binary");
    assertThat(entries.get(2).at("/resource/contentType").asText()).isEqualTo("text/calendar");
    String ics = new String(java.util.Base64.getDecoder().decode(entries.get(2).at("/resource/content").asText()),
        java.nio.charset.StandardCharsets.UTF_8);
    assertThat(ics).contains("BEGIN:VCALENDAR").contains("Room 43b");
    assertThat(entries.get(3).at("/response/status").asText()).isEqualTo("400 Bad Request");

    // each needs its own privilege: the history of a resource is a read
    String searcher = Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Patient.search"), java.util.Map.of(),
        "http://organization.example.org/fhir/Practitioner/9", 300);
    r = post(bundle("batch", entry(null, null, "GET", "Patient/" + id + "/_history", null),
        entry(null, null, "GET", "Appointment/" + appointmentId + "/$exportAsiCal", null)),
        "Authorization", "Bearer " + searcher);
    entries = Json.parse(r.body()).get("entry");
    assertThat(entries.get(0).at("/response/status").asText()).isEqualTo("403 Forbidden");
    assertThat(entries.get(1).at("/response/status").asText()).isEqualTo("403 Forbidden");
  }

  /** A resource that does not parse is its entry's 400, named, in a transaction and alone in a batch. */
  @Test
  void anEntryWhoseResourceDoesNotParseIsItsOwn400() {
    String identifier = uid();
    String broken = "{\"resourceType\":\"Patient\",\"birthDate\":\"not a date\",\"gender\":17}";
    HttpResponse<String> r = post(bundle("transaction",
        entry(null, patient(null, identifier), "POST", "Patient", null),
        entry(null, broken, "POST", "Patient", null)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(Json.parse(r.body()).at("/issue/0/diagnostics").asText()).startsWith("Bundle entry 1 (POST Patient)");
    assertThat(count(identifier)).isZero();

    r = post(bundle("batch", entry(null, patient(null, identifier), "POST", "Patient", null),
        entry(null, "{\"resourceType\":\"NoSuchType\"}", "POST", "Patient", null)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode entries = Json.parse(r.body()).get("entry");
    assertThat(entries.get(0).at("/response/status").asText()).isEqualTo("201 Created");
    assertThat(entries.get(1).at("/response/status").asText()).isEqualTo("400 Bad Request");
    assertThat(count(identifier)).isEqualTo(1);
  }

  @Test
  void aBundleOfAnotherTypeIs400() {
    HttpResponse<String> r = post(bundle("collection", "{\"resource\":" + patient(null, "c") + "}"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    r = post(bundle("transaction", "{\"resource\":" + patient(null, "c") + "}"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
  }
}
