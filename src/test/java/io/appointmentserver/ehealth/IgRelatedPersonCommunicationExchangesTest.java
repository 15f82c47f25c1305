package io.appointmentserver.ehealth;

import static io.appointmentserver.ehealth.RecordedResources.assertSameResource;
import static io.appointmentserver.ehealth.RecordedResources.json;
import static io.appointmentserver.ehealth.RecordedResources.withId;
import static io.appointmentserver.ehealth.RecordedResources.withVersion;
import static io.appointmentserver.ehealth.RecordedResources.withoutId;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The RelatedPerson and Communication exchanges recorded in the eHealth IG replayed over HTTP, as
 * {@link IgExchangesTest} replays the Appointment ones (a server of its own on a new database,
 * with the recorded base and the built-in IG; the tokens' claims re-signed).
 *
 * <p>The RelatedPerson exchanges were recorded by a citizen (user_type PATIENT, context patient
 * {@code http://patient.ehealth-public/fhir/Patient/252}) writing and reading the related persons
 * of other patients (452 and 257). Their claims get the privileges a citizen needs for them
 * (citizens' own privileges are another part of the work: until then the replay adds the roles),
 * and the context rule is kept: as recorded, every one is refused (403). Replayed again with the
 * context naming the RelatedPerson's patient, each answers the recorded status and body.
 *
 * <p>The Communication exchanges (a SYSTEM user, practitioners with an episode of care in
 * context) answer as recorded. The server ids differ: a Communication claiming an eHealth profile
 * takes no PUT, so the state an exchange needs is created with POST and the exchange replayed on
 * the id it got.
 */
class IgRelatedPersonCommunicationExchangesTest {
  static final String NOT_MATCHING = "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT";

  private static AppointmentServer server;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    TestServer.shared();
    Config config = TestServer.withFreshDatabase(TestServer.config(), "ig_exchanges_rp_comm")
        .withBaseUrl(IgExchange.RECORDED_BASE);
    server = TestServer.another(c -> config);
    base = "http://127.0.0.1:" + server.port() + "/fhir";
    for (String id : List.of("452", "257")) {
      put("Patient", id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"Hansen\"}]}");
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void everyRelatedPersonAndCommunicationExchangeOfTheIgIsReplayedHere() throws IOException {
    List<String> names = new ArrayList<>();
    for (String glob : List.of("*_RelatedPerson_1.md", "*Communication*.md")) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(IgExchange.folder(), glob)) {
        ds.forEach(f -> names.add(f.getFileName().toString().replace(".md", "")));
      }
    }
    names.removeIf(n -> n.contains("CommunicationRequest"));
    assertThat(names).containsExactlyInAnyOrder("DELETE_RelatedPerson_1", "GET_RelatedPerson_1",
        "PATCH_RelatedPerson_1", "POST_RelatedPerson_1", "PUT_RelatedPerson_1", "GET_Communication",
        "GET_Communication_search", "GET_Communication_version", "PATCH_Communication", "POST_Communication",
        "POST_Communication_validate");
  }

  // ------------------------------------------------------------------ RelatedPerson

  /** POST, PUT and DELETE of RelatedPerson 616 (patient 452): refused as recorded, answered as recorded in context. */
  @Test
  void postPutAndDeleteOfARelatedPersonOfAnotherPatientAreRefusedAndAnswerAsRecordedInItsContext() throws IOException {
    IgExchange post = IgExchange.load("POST_RelatedPerson_1");
    assertThat(post.method() + " " + post.path()).isEqualTo("POST /RelatedPerson");
    assertRefused(send(post, post.path(), post.body(), recorded(post)), NOT_MATCHING);

    HttpResponse<byte[]> created = send(post, post.path(), post.body(), inContext(post, "Patient/452"));
    assertThat(created.statusCode()).as(Gzip.decode(created)).isEqualTo(201);
    String id = json(created).path("id").asText();
    assertSameResource(withoutId(json(created)), withoutId(Json.parse(post.response())));

    IgExchange put = IgExchange.load("PUT_RelatedPerson_1");
    assertThat(put.method() + " " + put.path()).isEqualTo("PUT /RelatedPerson/616");
    String body = withId(Json.parse(put.body()), id).toString();
    String path = "/RelatedPerson/" + id;
    assertRefused(send(put, path, body, recorded(put)), NOT_MATCHING);
    HttpResponse<byte[]> updated = send(put, path, body, inContext(put, "Patient/452"));
    assertThat(updated.statusCode()).as(Gzip.decode(updated)).isEqualTo(200);
    assertThat(updated.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertSameResource(json(updated), withId(Json.parse(put.response()), id));

    IgExchange delete = IgExchange.load("DELETE_RelatedPerson_1");
    assertThat(delete.method() + " " + delete.path()).isEqualTo("DELETE /RelatedPerson/616");
    assertRefused(send(delete, path, null, recorded(delete)), NOT_MATCHING);
    HttpResponse<byte[]> deleted = send(delete, path, null, inContext(delete, "Patient/452"));
    assertThat(deleted.statusCode()).as(Gzip.decode(deleted)).isEqualTo(200);
    // the recorded outcome's text says how long it took: its kind of issue is what compares
    JsonNode issue = json(deleted).at("/issue/0");
    JsonNode recordedIssue = Json.parse(delete.response()).at("/issue/0");
    assertThat(issue.get("severity")).isEqualTo(recordedIssue.get("severity"));
    assertThat(issue.get("code")).isEqualTo(recordedIssue.get("code"));
    assertThat(Http.get(base + path).statusCode()).isEqualTo(410);
  }

  @Test
  void patchOfARelatedPersonOfAnotherPatientIsRefusedAndAnswersAsRecordedInItsContext() throws IOException {
    IgExchange x = IgExchange.load("PATCH_RelatedPerson_1");
    assertThat(x.method() + " " + x.path()).isEqualTo("PATCH /RelatedPerson/279");
    ObjectNode recorded = Json.parse(x.response());
    ObjectNode before = recorded.deepCopy();
    before.remove("extension"); // what the patch adds
    long version = bringTo("RelatedPerson", "279", before, RecordedResources.versionOf(recorded) - 1);

    assertRefused(send(x, x.path(), x.body(), recorded(x)), NOT_MATCHING);
    HttpResponse<byte[]> r = send(x, x.path(), x.body(), inContext(x, "Patient/257"));
    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    assertSameResource(json(r), withVersion(recorded, version + 1));
  }

  @Test
  void searchForTheRelatedPersonsOfAnotherPatientIsRefusedAndAnswersAsRecordedInItsContext() throws IOException {
    IgExchange x = IgExchange.load("GET_RelatedPerson_1");
    assertThat(x.method()).isEqualTo("GET");
    assertThat(x.path()).startsWith("/RelatedPerson?patient=");
    JsonNode recordedPage = Json.parse(x.response());
    ObjectNode recorded = (ObjectNode) recordedPage.at("/entry/0/resource");
    long version = bringTo("RelatedPerson", "296", recorded, RecordedResources.versionOf(recorded));
    // the patch test's RelatedPerson 279 is Patient/257's too; the recording had one only
    Http.send("DELETE", base + "/RelatedPerson/279", null);

    assertRefused(send(x, x.path(), null, recorded(x)), "SECURITY_SEARCH_PARAM_NOT_MATCHING_TOKEN_CONTEXT");
    HttpResponse<byte[]> r = send(x, x.path(), null, inContext(x, "Patient/257"));
    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    ObjectNode page = json(r);
    assertThat(page.get("type").asText()).isEqualTo("searchset");
    assertThat(page.get("total").asInt()).isEqualTo(recordedPage.get("total").asInt());
    assertThat(page.get("entry")).hasSize(1);
    assertThat(page.at("/entry/0/fullUrl").asText()).isEqualTo(recordedPage.at("/entry/0/fullUrl").asText());
    assertThat(page.at("/entry/0/search/mode").asText()).isEqualTo("match");
    assertSameResource((ObjectNode) page.at("/entry/0/resource"), withVersion(recorded, version));
  }

  // ------------------------------------------------------------------ Communication

  @Test
  void postCommunicationAnswersTheRecordedResponse() throws IOException {
    IgExchange x = IgExchange.load("POST_Communication");
    assertThat(x.method() + " " + x.path()).isEqualTo("POST /Communication");
    HttpResponse<byte[]> r = send(x, x.path(), x.body(), recorded(x));
    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(201);
    ObjectNode created = json(r);
    assertSameResource(withoutId(created), withoutId(Json.parse(x.response())));
    assertSameResource(read("Communication", created.get("id").asText()),
        withId(Json.parse(x.response()), created.get("id").asText()));
  }

  @Test
  void getCommunicationAnswersTheRecordedResponse() throws IOException {
    IgExchange x = IgExchange.load("GET_Communication");
    assertThat(x.method() + " " + x.path()).isEqualTo("GET /Communication/2");
    ObjectNode recorded = Json.parse(x.response());
    String id = post(recorded);

    HttpResponse<byte[]> r = send(x, "/Communication/" + id, null, recorded(x));
    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    assertSameResource(json(r), withId(recorded, id));
  }

  /** The practitioner's context is the communication's episode of care: the patch and the vread are theirs. */
  @Test
  void patchCommunicationAndItsVreadAnswerTheRecordedResponses() throws IOException {
    IgExchange patch = IgExchange.load("PATCH_Communication");
    IgExchange vread = IgExchange.load("GET_Communication_version");
    assertThat(patch.method() + " " + patch.path()).isEqualTo("PATCH /Communication/126");
    assertThat(vread.method() + " " + vread.path()).isEqualTo("GET /Communication/126/_history/2");
    ObjectNode recorded = Json.parse(patch.response());
    assertThat(Json.parse(vread.response())).isEqualTo(recorded);
    ObjectNode before = recorded.deepCopy();
    before.put("status", "completed"); // what the patch replaces
    String id = post(before);

    HttpResponse<byte[]> r = send(patch, "/Communication/" + id, patch.body(), recorded(patch));
    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertSameResource(json(r), withId(recorded, id));

    HttpResponse<byte[]> v = send(vread, "/Communication/" + id + "/_history/2", null, recorded(vread));
    assertThat(v.statusCode()).as(Gzip.decode(v)).isEqualTo(200);
    assertSameResource(json(v), withId(recorded, id));
  }

  /**
   * The recorded search found nothing. Replayed with a communication of that episode from
   * another sender and one of that sender in another episode, it still finds nothing; one of both
   * is found.
   */
  @Test
  void searchCommunicationByContextAndSenderAnswersTheRecordedResponse() throws IOException {
    IgExchange x = IgExchange.load("GET_Communication_search");
    assertThat(x.method()).isEqualTo("GET");
    String episode = "https://careplan.cit-measurement-1150.local/fhir/EpisodeOfCare/87435";
    String sender = "https://patient.cit-measurement-1150.local/fhir/Patient/5744";
    ObjectNode template = Json.parse(IgExchange.load("POST_Communication").body());
    post(communication(template, episode, "https://patient.cit-measurement-1150.local/fhir/Patient/1"));
    post(communication(template, "https://careplan.cit-measurement-1150.local/fhir/EpisodeOfCare/1", sender));

    HttpResponse<byte[]> r = send(x, x.path(), null, recorded(x));
    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    ObjectNode page = json(r);
    JsonNode recordedPage = Json.parse(x.response());
    assertThat(page.get("type")).isEqualTo(recordedPage.get("type"));
    assertThat(page.get("total")).isEqualTo(recordedPage.get("total"));
    assertThat(page.has("entry")).isFalse();

    String id = post(communication(template, episode, sender));
    ObjectNode found = json(send(x, x.path(), null, recorded(x)));
    assertThat(found.get("total").asInt()).isEqualTo(1);
    assertThat(found.at("/entry/0/resource/id").asText()).isEqualTo(id);
  }

  /** The recorded answer repeats its one issue; this server says it once. */
  @Test
  void validateCommunicationAnswersTheRecordedResponse() throws IOException {
    IgExchange x = IgExchange.load("POST_Communication_validate");
    assertThat(x.method() + " " + x.path()).isEqualTo("POST /Communication/176/$validate");
    HttpResponse<byte[]> r = send(x, x.path(), x.body(), recorded(x));
    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    List<String> issues = new ArrayList<>();
    json(r).get("issue").forEach(i -> issues.add(i.get("severity").asText() + " " + i.get("code").asText() + " "
        + i.get("diagnostics").asText()));
    List<String> recordedIssues = new ArrayList<>();
    Json.parse(x.response()).get("issue").forEach(i -> recordedIssues.add(i.get("severity").asText() + " "
        + i.get("code").asText() + " " + i.get("diagnostics").asText()));
    assertThat(issues).containsExactlyElementsOf(recordedIssues.stream().distinct().toList());
  }

  // ------------------------------------------------------------------ replaying

  private static ObjectNode communication(ObjectNode template, String episode, String sender) {
    ObjectNode c = template.deepCopy();
    c.putObject("context").put("reference", episode);
    c.putObject("sender").put("reference", sender);
    return c;
  }

  private static String[] recorded(IgExchange x) {
    // the citizens of the RelatedPerson exchanges carry no privilege: theirs are FHIR_CITIZEN_PRIVILEGES' default
    return x.replayHeaders(null, null, List.of());
  }

  /** The recorded claims with the context (and the user) naming {@code patient} of the recorded base. */
  private static String[] inContext(IgExchange x, String patient) {
    String ref = IgExchange.RECORDED_BASE + "/" + patient;
    return x.replayHeaders(null, null, List.of(), Map.of("user_id", ref, "context", Map.of("patient_id", ref)));
  }

  private static HttpResponse<byte[]> send(IgExchange x, String path, String body, String[] headers) {
    return Http.sendForBytes(x.method(), base + path,
        body == null || body.isEmpty() ? null : body.getBytes(StandardCharsets.UTF_8), headers);
  }

  private static void assertRefused(HttpResponse<byte[]> r, String code) {
    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(403);
    assertThat(json(r).at("/issue/0/diagnostics").asText()).startsWith(code);
  }

  /** Creates {@code resource} with the SYSTEM token (POST: a Communication with an eHealth profile takes no PUT). */
  private static String post(ObjectNode resource) {
    ObjectNode copy = withoutId(resource);
    copy.remove("meta");
    copy.putObject("meta").set("profile", resource.at("/meta/profile"));
    HttpResponse<String> r = Http.post(base + "/" + resource.get("resourceType").asText(), copy.toString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return Json.parse(r.body()).get("id").asText();
  }

  private static long put(String type, String id, String json) {
    return RecordedResources.put(base, type, id, json);
  }

  /** Writes {@code content} as {@code type/id} until it is at {@code version} (or past it, the last one with it). */
  private static long bringTo(String type, String id, ObjectNode content, long version) {
    HttpResponse<String> current = Http.get(base + "/" + type + "/" + id);
    long at = current.statusCode() == 200 ? Long.parseLong(Json.parse(current.body()).at("/meta/versionId").asText()) : 0;
    String json = Json.withoutServerMeta(content, false).toString();
    do {
      // a PUT of unchanged content may keep the version: vary a harmless value till the last write
      at = put(type, id, at < version - 1 ? withId(content, id).put("gender", at % 2 == 0 ? "male" : "female").toString()
          : json);
    } while (at < version);
    return at;
  }

  private static ObjectNode read(String type, String id) {
    return RecordedResources.read(base, type, id);
  }
}
