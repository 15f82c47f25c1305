package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Gzip;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/** The RESTful interactions of DSTU3 http.html over HTTP, on a resource type other than the seed's. */
class RestInteractionsTest {
  private final String base = TestServer.base();

  private static String patient(String id, String family) {
    return "{\"resourceType\":\"Patient\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
        + ",\"name\":[{\"family\":\"" + family + "\"}]}";
  }

  private static String newId() {
    return "p-" + UUID.randomUUID().toString().substring(0, 18);
  }

  @Test
  void createAssignsIdVersionAndLastUpdatedReplacingWhatTheClientSent() {
    String body = "{\"resourceType\":\"Patient\",\"id\":\"mine\",\"meta\":{\"versionId\":\"9\","
        + "\"lastUpdated\":\"2000-01-01T00:00:00Z\"},\"name\":[{\"family\":\"Ærø\"}]}";
    HttpResponse<String> r = Http.post(base + "/Patient", body);
    assertThat(r.statusCode()).isEqualTo(201);
    JsonNode json = Json.parse(r.body());
    String id = json.get("id").asText();
    assertThat(id).isNotEqualTo("mine").matches("[0-9]+");
    assertThat(json.get("meta").get("versionId").asText()).isEqualTo("1");
    assertThat(json.get("meta").get("lastUpdated").asText())
        .doesNotStartWith("2000").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\+0[12]:00");
    assertThat(r.headers().firstValue("Location").orElseThrow()).endsWith("/Patient/" + id + "/_history/1");
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(json.get("name").get(0).get("family").asText()).isEqualTo("Ærø");
  }

  @Test
  void readServesTheStoredVersionWithETagLastModifiedAndUtf8() {
    String id = newId();
    Http.put(base + "/Patient/" + id, patient(id, "Søndergård"));
    HttpResponse<String> r = Http.get(base + "/Patient/" + id);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+json");
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(r.headers().firstValue("Last-Modified")).isPresent();
    assertThat(r.headers().firstValue("Content-Location")).hasValue(base + "/Patient/" + id + "/_history/1");
    assertThat(Json.parse(r.body()).get("name").get(0).get("family").asText()).isEqualTo("Søndergård");
  }

  @Test
  void updateWithClientChosenIdCreatesThenUpdates() {
    String id = newId();
    HttpResponse<String> created = Http.put(base + "/Patient/" + id, patient(id, "A"));
    assertThat(created.statusCode()).isEqualTo(201);
    HttpResponse<String> updated = Http.put(base + "/Patient/" + id, patient(id, "B"));
    assertThat(updated.statusCode()).isEqualTo(200);
    assertThat(updated.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertThat(updated.headers().firstValue("Content-Location").orElseThrow())
        .endsWith("/Patient/" + id + "/_history/2");
    HttpResponse<String> v1 = Http.get(base + "/Patient/" + id + "/_history/1");
    assertThat(v1.statusCode()).isEqualTo(200);
    assertThat(Json.parse(v1.body()).get("name").get(0).get("family").asText()).isEqualTo("A");
    assertThat(Http.get(base + "/Patient/" + id + "/_history/3").statusCode()).isEqualTo(404);
  }

  @Test
  void ifMatchInBothFormsAndStaleIfMatchIsRefusedWith412NamingTheCurrentVersion() {
    String id = newId();
    Http.put(base + "/Patient/" + id, patient(id, "A"));
    assertThat(Http.put(base + "/Patient/" + id, patient(id, "B"), "If-Match", "W/\"1\"").statusCode()).isEqualTo(200);
    assertThat(Http.put(base + "/Patient/" + id, patient(id, "C"), "If-Match", "\"2\"").statusCode()).isEqualTo(200);
    HttpResponse<String> stale = Http.put(base + "/Patient/" + id, patient(id, "D"), "If-Match", "\"2\"");
    assertThat(stale.statusCode()).isEqualTo(412);
    JsonNode oo = Json.parse(stale.body());
    assertThat(oo.get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(oo.get("issue").get(0).get("diagnostics").asText()).contains("current version is 3");
    // nothing was written
    assertThat(Json.parse(Http.get(base + "/Patient/" + id).body()).get("name").get(0).get("family").asText())
        .isEqualTo("C");
    assertThat(Http.put(base + "/Patient/" + id, patient(id, "E"), "If-Match", "\"x\"").statusCode()).isEqualTo(400);
  }

  @Test
  void concurrentUpdatesOfOneVersionLetExactlyOneWin() throws Exception {
    String id = newId();
    Http.put(base + "/Patient/" + id, patient(id, "A"));
    try (AppointmentServer second = TestServer.another(c -> c)) {
      List<Thread> threads = new ArrayList<>();
      List<Integer> statuses = java.util.Collections.synchronizedList(new ArrayList<>());
      for (int i = 0; i < 8; i++) {
        String target = (i % 2 == 0 ? base : second.baseUrl()) + "/Patient/" + id;
        String family = "T" + i;
        Thread t = new Thread(() -> statuses.add(Http.put(target, patient(id, family), "If-Match", "W/\"1\"").statusCode()));
        threads.add(t);
      }
      threads.forEach(Thread::start);
      for (Thread t : threads) {
        t.join();
      }
      assertThat(statuses).containsOnly(200, 412);
      assertThat(statuses.stream().filter(s -> s == 200).count()).isEqualTo(1);
    }
    JsonNode history = Json.parse(Http.get(base + "/Patient/" + id + "/_history").body());
    assertThat(history.get("total").asInt()).isEqualTo(2);
  }

  @Test
  void conditionalReadAnswers304() {
    String id = newId();
    Http.put(base + "/Patient/" + id, patient(id, "A"));
    assertThat(Http.get(base + "/Patient/" + id, "If-None-Match", "W/\"1\"").statusCode()).isEqualTo(304);
    assertThat(Http.get(base + "/Patient/" + id, "If-None-Match", "W/\"0\"").statusCode()).isEqualTo(200);
    String lastModified = Http.get(base + "/Patient/" + id).headers().firstValue("Last-Modified").orElseThrow();
    assertThat(Http.get(base + "/Patient/" + id, "If-Modified-Since", lastModified).statusCode()).isEqualTo(304);
    assertThat(Http.get(base + "/Patient/" + id, "If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT").statusCode())
        .isEqualTo(200);
  }

  @Test
  void preferDecidesWhatAWriteReturns() {
    String id = newId();
    HttpResponse<String> minimal = Http.put(base + "/Patient/" + id, patient(id, "A"), "Prefer", "return=minimal");
    assertThat(minimal.statusCode()).isEqualTo(201);
    assertThat(minimal.body()).isEmpty();
    HttpResponse<String> oo = Http.put(base + "/Patient/" + id, patient(id, "B"), "Prefer", "return=OperationOutcome");
    assertThat(oo.statusCode()).isEqualTo(200);
    assertThat(Json.parse(oo.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    HttpResponse<String> full = Http.put(base + "/Patient/" + id, patient(id, "C"), "Prefer", "return=representation");
    assertThat(Json.parse(full.body()).get("meta").get("versionId").asText()).isEqualTo("3");
  }

  @Test
  void deleteLeavesATombstoneThatReadsAs410AndHistoryKeeps() {
    String id = newId();
    Http.put(base + "/Patient/" + id, patient(id, "A"));
    assertThat(Http.send("DELETE", base + "/Patient/" + id, null).statusCode()).isIn(200, 204);
    HttpResponse<String> gone = Http.get(base + "/Patient/" + id);
    assertThat(gone.statusCode()).isEqualTo(410);
    assertThat(Json.parse(gone.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    // deleting again changes nothing
    assertThat(Http.send("DELETE", base + "/Patient/" + id, null).statusCode()).isIn(200, 204);
    JsonNode history = Json.parse(Http.get(base + "/Patient/" + id + "/_history").body());
    assertThat(history.get("total").asInt()).isEqualTo(2);
    assertThat(history.get("entry").get(0).get("request").get("method").asText()).isEqualTo("DELETE");
    assertThat(history.get("entry").get(1).get("resource").get("name").get(0).get("family").asText()).isEqualTo("A");
    assertThat(Http.get(base + "/Patient/" + id + "/_history/1").statusCode()).isEqualTo(200);
    assertThat(Http.get(base + "/Patient/" + id + "/_history/2").statusCode()).isEqualTo(410);
    // a deleted resource can be brought back
    HttpResponse<String> again = Http.put(base + "/Patient/" + id, patient(id, "B"));
    assertThat(again.statusCode()).isEqualTo(201);
    assertThat(again.headers().firstValue("ETag")).hasValue("W/\"3\"");
    assertThat(Http.send("DELETE", base + "/Patient/never-" + id, null).statusCode()).isEqualTo(404);
  }

  @Test
  void historyBundleIsStampedInTheServersZoneLikeItsVersions() {
    String id = newId();
    Http.put(base + "/Patient/" + id, patient(id, "Zone"));
    JsonNode page = Json.parse(Http.get(base + "/Patient/" + id + "/_history").body());
    String bundle = page.get("meta").get("lastUpdated").asText();
    String version = page.get("entry").get(0).get("resource").get("meta").get("lastUpdated").asText();
    // both carry the offset of FHIR_TIMEZONE (HAPI would stamp the bundle in the JVM's zone)
    assertThat(bundle.substring(bundle.length() - 6)).isEqualTo(version.substring(version.length() - 6));
  }

  @Test
  void historyPagesNewestFirstWithSinceAndCount() {
    String id = newId();
    for (int i = 1; i <= 5; i++) {
      Http.put(base + "/Patient/" + id, patient(id, "V" + i));
    }
    List<String> versions = new ArrayList<>();
    String url = base + "/Patient/" + id + "/_history?_count=2";
    int pages = 0;
    while (url != null) {
      JsonNode page = Json.parse(Http.get(url).body());
      assertThat(page.get("type").asText()).isEqualTo("history");
      assertThat(page.get("total").asInt()).isEqualTo(5);
      page.get("entry").forEach(e -> versions.add(e.get("resource").get("meta").get("versionId").asText()));
      url = null;
      for (JsonNode link : page.get("link")) {
        if (link.get("relation").asText().equals("next")) {
          url = link.get("url").asText();
        }
      }
      pages++;
    }
    assertThat(pages).isEqualTo(3);
    assertThat(versions).containsExactly("5", "4", "3", "2", "1");

    String v3 = Json.parse(Http.get(base + "/Patient/" + id + "/_history/3").body()).get("meta").get("lastUpdated").asText();
    JsonNode since = Json.parse(Http.get(base + "/Patient/" + id + "/_history?_since=" + v3.replace("+", "%2B")).body());
    assertThat(since.get("total").asInt()).isEqualTo(3);

    JsonNode typeHistory = Json.parse(Http.get(base + "/Patient/_history?_count=3").body());
    assertThat(typeHistory.get("entry")).hasSize(3);
    assertThat(typeHistory.get("total").asInt()).isGreaterThanOrEqualTo(5);
    JsonNode systemHistory = Json.parse(Http.get(base + "/_history?_count=1").body());
    assertThat(systemHistory.get("entry")).hasSize(1);
  }

  @Test
  void referencesToThisServerAreStoredRelativeAndMissingTargetsAreRefused() {
    String id = newId();
    Http.put(base + "/Patient/" + id, patient(id, "A"));
    String appt = "{\"resourceType\":\"Appointment\",\"status\":\"booked\",\"start\":\"2026-12-01T09:00:00+01:00\",\"end\":\"2026-12-01T09:30:00+01:00\",\"participant\":["
        + "{\"actor\":{\"reference\":\"" + base + "/Patient/" + id + "\"},\"status\":\"accepted\"},"
        + "{\"actor\":{\"reference\":\"http://other.example.org/fhir/Practitioner/1\"},\"status\":\"accepted\"}]}";
    HttpResponse<String> r = Http.post(base + "/Appointment", appt);
    assertThat(r.statusCode()).isEqualTo(201);
    JsonNode participants = Json.parse(r.body()).get("participant");
    assertThat(participants.get(0).get("actor").get("reference").asText()).isEqualTo("Patient/" + id);
    assertThat(participants.get(1).get("actor").get("reference").asText())
        .isEqualTo("http://other.example.org/fhir/Practitioner/1");

    String missing = appt.replace(base + "/Patient/" + id, "Patient/does-not-exist");
    HttpResponse<String> refused = Http.post(base + "/Appointment", missing);
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(Json.parse(refused.body()).get("issue").get(0).get("diagnostics").asText())
        .contains("Patient/does-not-exist");
  }

  /** An update checks its references in the statement that checks the version: a missing one comes first. */
  @Test
  void anUpdateWithAMissingReferenceIsRefusedBeforeItsVersionIsCheckedAndWritesNothing() {
    String patientId = newId();
    Http.put(base + "/Patient/" + patientId, patient(patientId, "A"));
    String id = "a-" + UUID.randomUUID();
    String appt = "{\"resourceType\":\"Appointment\",\"id\":\"" + id + "\",\"status\":\"booked\","
        + "\"start\":\"2026-12-01T09:00:00+01:00\",\"end\":\"2026-12-01T09:30:00+01:00\",\"participant\":["
        + "{\"actor\":{\"reference\":\"Patient/" + patientId + "\"},\"status\":\"accepted\"}]}";
    assertThat(Http.put(base + "/Appointment/" + id, appt).statusCode()).isEqualTo(201);
    String missing = appt.replace("Patient/" + patientId, "Patient/not-" + patientId);

    for (String ifMatch : new String[] {"W/\"1\"", "W/\"7\"", null}) {
      HttpResponse<String> refused = ifMatch == null
          ? Http.put(base + "/Appointment/" + id, missing)
          : Http.put(base + "/Appointment/" + id, missing, "If-Match", ifMatch);
      assertThat(refused.statusCode()).as("If-Match %s", ifMatch).isEqualTo(400);
      JsonNode issue = Json.parse(refused.body()).get("issue").get(0);
      assertThat(issue.get("code").asText()).isEqualTo("not-found");
      assertThat(issue.get("diagnostics").asText()).contains("Patient/not-" + patientId);
    }
    HttpResponse<String> current = Http.get(base + "/Appointment/" + id);
    assertThat(current.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(current.body()).contains("Patient/" + patientId).doesNotContain("Patient/not-");
    assertThat(Json.parse(Http.get(base + "/Appointment/" + id + "/_history").body()).get("total").asInt()).isEqualTo(1);

    // with its references present, a stale If-Match is a 412 and the right one writes
    assertThat(Http.put(base + "/Appointment/" + id, appt, "If-Match", "W/\"7\"").statusCode()).isEqualTo(412);
    String changed = appt.replace("\"status\":\"booked\",", "\"status\":\"booked\",\"comment\":\"moved\",");
    assertThat(Http.put(base + "/Appointment/" + id, changed, "If-Match", "W/\"1\"").statusCode()).isEqualTo(200);
    // a deleted target is missing too
    assertThat(Http.send("DELETE", base + "/Patient/" + patientId, null).statusCode()).isIn(200, 204);
    assertThat(Http.put(base + "/Appointment/" + id, appt, "If-Match", "W/\"2\"").statusCode()).isEqualTo(400);
    assertThat(Http.get(base + "/Appointment/" + id).headers().firstValue("ETag")).hasValue("W/\"2\"");
  }

  @Test
  void referenceCheckCanBeSwitchedOff() throws Exception {
    try (AppointmentServer lenient = TestServer.another(c -> c.withCheckReferences(false))) {
      String appt = "{\"resourceType\":\"Appointment\",\"status\":\"booked\",\"start\":\"2026-12-01T09:00:00+01:00\",\"end\":\"2026-12-01T09:30:00+01:00\",\"participant\":["
          + "{\"actor\":{\"reference\":\"Patient/not-here-yet\"},\"status\":\"accepted\"}]}";
      assertThat(Http.post(lenient.baseUrl() + "/Appointment", appt).statusCode()).isEqualTo(201);
    }
  }

  @Test
  void xmlInAndOutAndFormatNegotiation() {
    String id = newId();
    String xml = "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"" + id + "\"/>"
        + "<name><family value=\"Åse\"/></name></Patient>";
    HttpResponse<String> put = Http.send("PUT", base + "/Patient/" + id, xml,
        "Content-Type", "application/fhir+xml; charset=UTF-8", "Accept", "application/fhir+xml");
    assertThat(put.statusCode()).isEqualTo(201);
    assertThat(put.headers().firstValue("Content-Type").orElseThrow()).contains("xml");
    assertThat(put.body()).contains("<family value=\"Åse\"");

    assertThat(Http.get(base + "/Patient/" + id + "?_format=xml").body()).startsWith("<Patient");
    assertThat(Http.get(base + "/Patient/" + id, "Accept", "application/xml+fhir").body()).startsWith("<Patient");
    assertThat(Http.get(base + "/Patient/" + id, "Accept", "application/fhir+xml;q=0.5, application/fhir+json;q=0.9")
        .body()).startsWith("{");
    assertThat(Http.get(base + "/Patient/" + id, "Accept", "application/fhir+json;q=0.5, application/fhir+xml;q=0.9")
        .body()).startsWith("<Patient");
    HttpResponse<String> legacy = Http.get(base + "/Patient/" + id, "Accept", "application/json+fhir");
    assertThat(legacy.statusCode()).isEqualTo(200);
    assertThat(Json.parse(legacy.body()).get("id").asText()).isEqualTo(id);
    HttpResponse<String> legacyBody = Http.send("PUT", base + "/Patient/" + id, patient(id, "Legacy"),
        "Content-Type", "application/json+fhir");
    assertThat(legacyBody.statusCode()).isEqualTo(200);
  }

  @Test
  void gzipResponsesAndGzipRequestBodies() throws Exception {
    String id = newId();
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(buf)) {
      gz.write(patient(id, "Zipped".repeat(60)).getBytes(StandardCharsets.UTF_8));
    }
    HttpResponse<String> put = Http.sendBytes("PUT", base + "/Patient/" + id, buf.toByteArray(),
        "Content-Type", "application/fhir+json", "Content-Encoding", "gzip");
    assertThat(put.statusCode()).isEqualTo(201);

    HttpResponse<byte[]> read = Http.sendForBytes("GET", base + "/Patient/" + id, null, "Accept-Encoding", "gzip");
    assertThat(read.headers().firstValue("Content-Encoding")).hasValue("gzip");
    assertThat(Json.parse(Gzip.decode(read)).get("name").get(0).get("family").asText()).startsWith("ZippedZipped");
    HttpResponse<byte[]> history = Http.sendForBytes("GET", base + "/Patient/" + id + "/_history", null,
        "Accept-Encoding", "gzip");
    assertThat(Json.parse(Gzip.decode(history)).get("total").asInt()).isEqualTo(1);
  }

  @Test
  void metadataListsWhatTheServerSupports() {
    HttpResponse<String> r = Http.get(base + "/metadata");
    assertThat(r.statusCode()).isEqualTo(200);
    ObjectNode cs = Json.parse(r.body());
    assertThat(cs.get("resourceType").asText()).isEqualTo("CapabilityStatement");
    assertThat(cs.get("fhirVersion").asText()).isEqualTo("3.0.1");
    JsonNode appointment = null;
    int types = 0;
    for (JsonNode res : cs.get("rest").get(0).get("resource")) {
      types++;
      if (res.get("type").asText().equals("Appointment")) {
        appointment = res;
      }
    }
    assertThat(types).isGreaterThan(100);
    assertThat(appointment).isNotNull();
    List<String> interactions = new ArrayList<>();
    appointment.get("interaction").forEach(i -> interactions.add(i.get("code").asText()));
    assertThat(interactions).contains("read", "vread", "update", "delete", "history-instance",
        "history-type", "create");
  }

  @Test
  void healthAnswers200WhileTheDatabaseIsUp() {
    HttpResponse<String> r = Http.get(base.replace("/fhir", "/health"));
    assertThat(r.statusCode()).isEqualTo(200);
  }
}
