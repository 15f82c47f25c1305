package io.appointmentserver.ehealth;

import static io.appointmentserver.ehealth.RecordedResources.assertSameResource;
import static io.appointmentserver.ehealth.RecordedResources.json;
import static io.appointmentserver.ehealth.RecordedResources.versionOf;
import static io.appointmentserver.ehealth.RecordedResources.withVersion;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.Config;
import io.appointmentserver.support.Gzip;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.IgExchange;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Patient and Person exchanges recorded in the eHealth IG replayed over HTTP, as
 * {@link IgExchangesTest} replays the Appointment's: the recorded request with its token's claims
 * re-signed must get the recorded status and body, but for what a server sets itself (the id of a
 * created Patient, {@code meta}, the narrative HAPI generated for it). On a server of its own, on a
 * new database, with the recordings' base URL and the server's own Person resources as the person
 * register. {@code $match} runs first: its recording links CPR 0506504003 to Patient/102, and the
 * Patients of the GET and PATCH recordings (236, 257) carry the same number.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PatientExchangesTest {
  private static final String RECORDED_PATIENT_SERVICE = "https://patient.fut.trifork.com/fhir";

  private static AppointmentServer server;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    TestServer.shared();
    Config config = TestServer.withFreshDatabase(TestServer.config(), "patient_exchanges")
        .withBaseUrl(IgExchange.RECORDED_BASE);
    server = TestServer.another(c -> config);
    base = "http://127.0.0.1:" + server.port() + "/fhir";
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void everyPatientAndPersonExchangeOfTheIgIsReplayedHere() throws IOException {
    List<String> names = new ArrayList<>();
    for (String glob : List.of("*_Patient*.md", "*_Person*.md")) {
      try (DirectoryStream<java.nio.file.Path> ds = Files.newDirectoryStream(IgExchange.folder(), glob)) {
        ds.forEach(f -> names.add(f.getFileName().toString().replace(".md", "")));
      }
    }
    assertThat(names).containsExactlyInAnyOrder("GET_Patient_1", "PATCH_Patient", "PATCH_Patient_7", "POST_Patient_1",
        "POST_Person");
  }

  @Test
  @Order(1)
  void postPersonMatchAnswersTheRecordedBundle() throws IOException {
    IgExchange x = IgExchange.load("POST_Person");
    assertThat(x.method() + " " + x.path()).isEqualTo("POST /Person/$match");
    put("Patient", "102", "{\"resourceType\":\"Patient\",\"id\":\"102\",\"identifier\":[{\"use\":\"official\","
        + "\"system\":\"urn:oid:1.2.208.176.1.2\",\"value\":\"0506504003\"}],"
        + "\"name\":[{\"family\":\"Mathiasen\",\"given\":[\"Tjalfe\"]}]}");

    HttpResponse<byte[]> r = replay(x);

    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    // the link names this server's Patient, relative to it as every reference to the server's own
    // base is written (HAPI strips that base); the recorded one has the recorded patient service's
    String expected = x.response().replace(RECORDED_PATIENT_SERVICE + "/", "");
    assertThat(Json.parse(Gzip.decode(r))).isEqualTo(Json.parse(expected));
  }

  @Test
  @Order(2)
  void postCreatePatientAnswersThePatientMadeFromThePersonRegister() throws IOException {
    IgExchange x = IgExchange.load("POST_Patient_1");
    assertThat(x.method() + " " + x.path()).isEqualTo("POST /Patient/$createPatient");
    ObjectNode recorded = Json.parse(x.response());
    // the register's Person (the server's own, written by a SYSTEM user): the recorded Patient's data
    ObjectNode person = Json.parse("{\"resourceType\":\"Person\",\"id\":\"register-0506504008\"}");
    for (String field : List.of("identifier", "name", "gender", "address")) {
      person.set(field, recorded.get(field).deepCopy());
    }
    put("Person", "register-0506504008", person.toString());

    HttpResponse<byte[]> r = replay(x);

    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    ObjectNode created = json(r);
    assertThat(created.at("/meta/versionId").asText()).isEqualTo("1");
    assertThat(created.at("/meta/profile")).isEqualTo(recorded.at("/meta/profile"));
    assertThat(withoutServerValues(created)).isEqualTo(withoutServerValues(recorded));

    // once more: the same Patient, no new version
    HttpResponse<byte[]> again = replay(x);
    assertThat(again.statusCode()).as(Gzip.decode(again)).isEqualTo(200);
    assertThat(json(again)).isEqualTo(read("Patient", created.get("id").asText()));
    assertThat(json(again).at("/meta/versionId").asText()).isEqualTo("1");
  }

  @Test
  @Order(3)
  void getPatient1AnswersTheRecordedResponse() throws IOException {
    IgExchange x = IgExchange.load("GET_Patient_1");
    ObjectNode recorded = Json.parse(x.response());
    long version = bringTo("Patient", "257", recorded, versionOf(recorded));

    HttpResponse<byte[]> r = replay(x);

    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"" + version + "\"");
    assertSameResource(json(r), withVersion(recorded, version));
  }

  @ParameterizedTest
  @Order(4)
  @ValueSource(strings = {"PATCH_Patient", "PATCH_Patient_7"})
  void patchExchangesAnswerTheRecordedResponse(String name) throws IOException {
    IgExchange x = IgExchange.load(name);
    ObjectNode recorded = Json.parse(x.response());
    String id = x.path().substring("/Patient/".length());
    // the state before: the recorded result without the extension the patch adds
    ObjectNode before = recorded.deepCopy();
    before.remove("extension");
    long version = bringTo("Patient", id, before, versionOf(recorded) - 1);

    HttpResponse<byte[]> r = replay(x);

    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"" + (version + 1) + "\"");
    assertSameResource(json(r), withVersion(recorded, version + 1));
  }

  /** A created Patient without what the server sets: id, meta, the narrative the recorded server generated. */
  private static ObjectNode withoutServerValues(ObjectNode patient) {
    ObjectNode copy = patient.deepCopy();
    copy.remove(List.of("id", "meta", "text"));
    return copy;
  }

  private static HttpResponse<byte[]> replay(IgExchange x) {
    String body = x.body();
    return Http.sendForBytes(x.method(), base + x.path(),
        body == null || body.isBlank() ? null : body.getBytes(StandardCharsets.UTF_8),
        x.replayHeaders(null, null, List.of()));
  }

  private static long put(String type, String id, String json) {
    HttpResponse<String> r = Http.put(base + "/" + type + "/" + id, json);
    assertThat(r.statusCode()).as("PUT " + type + "/" + id + ": " + r.body()).isIn(200, 201);
    return Long.parseLong(Json.parse(r.body()).at("/meta/versionId").asText());
  }

  /** {@code type/id} at {@code version} with {@code content} (on the fresh database), or one past when it was there. */
  private static long bringTo(String type, String id, ObjectNode content, long version) {
    HttpResponse<String> current = Http.get(base + "/" + type + "/" + id);
    long at = current.statusCode() == 404 ? 0 : versionOf(Json.parse(current.body()));
    do {
      at = put(type, id, content.toString());
    } while (at < version);
    return at;
  }

  private static ObjectNode read(String type, String id) {
    HttpResponse<String> r = Http.get(base + "/" + type + "/" + id);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Json.parse(r.body());
  }

}
