package io.appointmentserver.ehealth;

import static io.appointmentserver.ehealth.RecordedResources.assertSameResource;
import static io.appointmentserver.ehealth.RecordedResources.extensionValue;
import static io.appointmentserver.ehealth.RecordedResources.json;
import static io.appointmentserver.ehealth.RecordedResources.sortedExtensions;
import static io.appointmentserver.ehealth.RecordedResources.versionOf;
import static io.appointmentserver.ehealth.RecordedResources.withId;
import static io.appointmentserver.ehealth.RecordedResources.withMeeting;
import static io.appointmentserver.ehealth.RecordedResources.withVersion;
import static io.appointmentserver.ehealth.RecordedResources.withoutId;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.Config;
import io.appointmentserver.support.Gzip;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.IgExchange;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The Appointment exchanges recorded in the eHealth IG ({@code exampleOperations/*.md}) replayed
 * over HTTP: the recorded request (headers as recorded, the token's claims re-signed with the test
 * key; body as recorded) must get the recorded status and body, but for the values a server sets
 * itself ({@code id} of a create, {@code meta.lastUpdated}, meta extensions such as HAPI's
 * resource-meta-source, the eHealth identifier, a video meeting's URL and PIN).
 *
 * <p>They run on a server of their own on a new, empty database, configured with the base URL
 * the recordings use ({@code http://localhost:8080/fhir}), so that versions count as they did when
 * recorded and the bodies go out unchanged, and with the eHealth IG loaded
 * (the built-in one), so that every body that claims an eHealth profile is validated against
 * it, as the eHealth service does, and with a video meeting service ({@link #MEETING_SERVICE}).
 * Before each exchange the test writes what the
 * exchange needs (the patient, the appointment at the version its {@code If-Match} or GET names,
 * taken from the recorded bodies).
 *
 * <p>Every {@code *Appointment*} exchange is replayed; the PATCH exchanges start from the recorded
 * result with another appointment type. No Appointment exchange of the IG needs search. The IG's
 * example instances ({@code examples/appointment/}) are created by {@code IgAppointmentExamplesTest}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IgExchangesTest {
  static final String EHEALTH_SD = "http://ehealth.sundhed.dk/fhir/StructureDefinition/";
  /** The video meeting service of the replaying server ({@code FHIR_VIDEO_MEETING_BASE_URL}). */
  static final String MEETING_SERVICE = "https://dummy-video-url.dk";

  private static AppointmentServer server;
  /** Where that server really listens. */
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    TestServer.shared();
    Config config = TestServer.withFreshDatabase(TestServer.config(), "ig_exchanges").withBaseUrl(IgExchange.RECORDED_BASE)
        .withVideoMeetingBaseUrl(MEETING_SERVICE);
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
  void everyRecordedExchangeOfTheIgParses() throws IOException {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(IgExchange.folder(), "*.md")) {
      ds.forEach(files::add);
    }
    assertThat(files).hasSizeGreaterThan(100);
    for (Path f : files) {
      String name = f.getFileName().toString().replace(".md", "");
      IgExchange x = IgExchange.parse(name, Files.readString(f));
      assertThat(x.method()).as(name).isIn("GET", "PUT", "POST", "PATCH", "DELETE");
      assertThat(x.path()).as(name).startsWith("/");
      assertThat(x.header("Accept")).as(name).isNotNull();
      if (x.method().equals("PUT") || x.method().equals("POST")) {
        assertThat(x.header("Content-Type")).as(name).isNotNull();
      }
    }
  }

  /** The Appointment exchanges of the IG, each replayed by a test below. */
  @Test
  void everyAppointmentExchangeOfTheIgIsReplayedHere() throws IOException {
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(IgExchange.folder(), "*Appointment*.md")) {
      ds.forEach(f -> names.add(f.getFileName().toString().replace(".md", "")));
    }
    assertThat(names).containsExactlyInAnyOrder("GET_Appointment_5", "GET_Appointment_Video", "PATCH_Appointment_5",
        "PATCH_Appointment_Video", "POST_Appointment_7", "POST_Appointment_Video", "POST_Group_Appointment",
        "PUT_Appointment_5", "PUT_Appointment_Video");
  }

  @Test
  @Order(1)
  void putAppointment5AnswersTheRecordedResponse() throws IOException {
    IgExchange x = IgExchange.load("PUT_Appointment_5");
    assertThat(x.method() + " " + x.path()).isEqualTo("PUT /Appointment/309");
    ensurePatient("240");
    long recordedIfMatch = ifMatch(x);
    long before = bringTo("Appointment", "309", x.body(), recordedIfMatch);

    HttpResponse<byte[]> r = replay(x, base, x.body(), before);

    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"" + (before + 1) + "\"");
    assertSameResource(json(r), withVersion(Json.parse(x.response()), before + 1));
  }

  @Test
  @Order(2)
  void getAppointment5AnswersTheRecordedResponse() throws IOException {
    IgExchange x = IgExchange.load("GET_Appointment_5");
    assertThat(x.method() + " " + x.path()).isEqualTo("GET /Appointment/309");
    ObjectNode recorded = Json.parse(x.response());
    ensurePatient("240");
    long version = bringTo("Appointment", "309", x.response(), versionOf(recorded));

    // the recorded Accept puts XML first; the response is compared as a resource, whatever format.
    // The recorded token (a SYSTEM user) carries no Appointment privilege, yet the recording shows
    // 200; this server applies the eHealth privilege rules, so the replay adds Appointment.read.
    HttpResponse<byte[]> r = Http.sendForBytes(x.method(), base + x.path(), null,
        headers(x, null, null, List.of("Appointment.read")));

    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"" + version + "\"");
    assertSameResource(json(r), withVersion(recorded, version));
  }

  @Test
  @Order(3)
  void getAppointmentVideoVersion1AnswersTheRecordedResponse() throws IOException {
    IgExchange x = IgExchange.load("GET_Appointment_Video");
    assertThat(x.method() + " " + x.path()).isEqualTo("GET /Appointment/277/_history/1");
    ObjectNode recorded = Json.parse(x.response());
    ensurePatient("257");
    long version = bringTo("Appointment", "277", x.response(), versionOf(recorded));
    String path = version == 1 ? x.path() : "/Appointment/277/_history/" + version;

    HttpResponse<byte[]> r = Http.sendForBytes("GET", base + path, null, headers(x, null, null, List.of()));

    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"" + version + "\"");
    assertSameResource(json(r), withVersion(recorded, version));
  }

  @Test
  @Order(4)
  void putAppointmentVideoAnswersTheRecordedResponse() throws IOException {
    IgExchange x = IgExchange.load("PUT_Appointment_Video");
    assertThat(x.method() + " " + x.path()).isEqualTo("PUT /Appointment/317");
    ensurePatient("257");
    long before = bringTo("Appointment", "317", x.body(), ifMatch(x));

    HttpResponse<byte[]> r = replay(x, base, x.body(), before);

    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"" + (before + 1) + "\"");
    // the recorded server moved the ehealth-responsible extension from first to last place; the
    // extensions have different urls, so their order carries nothing: compare them as a set
    // (this server keeps the order it was sent)
    assertSameResource(sortedExtensions(json(r)),
        sortedExtensions(withVersion(Json.parse(x.response()), before + 1)));
  }

  @Test
  @Order(5)
  void postAppointment7AnswersTheRecordedResponseAndStoresOwnBaseReferencesRelative() throws IOException {
    IgExchange x = IgExchange.load("POST_Appointment_7");
    assertThat(x.method() + " " + x.path()).isEqualTo("POST /Appointment");
    assertThat(x.body()).contains("\"" + IgExchange.RECORDED_BASE + "/Patient/240\"");
    ensurePatient("240");

    HttpResponse<byte[]> r = replay(x, base, x.body(), null);

    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(201);
    ObjectNode created = json(r);
    String id = created.path("id").asText();
    assertThat(r.headers().firstValue("Location"))
        .hasValue(IgExchange.RECORDED_BASE + "/Appointment/" + id + "/_history/1");
    assertThat(created.at("/participant/2/actor/reference").asText()).isEqualTo("Patient/240");
    ObjectNode expected = Json.parse(x.response());
    assertSameResource(withoutId(created), withoutId(expected));
    // and that is what is stored
    assertSameResource(read("Appointment", id), withId(expected, id));
  }

  @Test
  @Order(6)
  void postAppointment7ToAServerWithoutConfiguredBaseStoresReferencesToTheRequestBaseRelative()
      throws IOException {
    IgExchange x = IgExchange.load("POST_Appointment_7");
    String sharedBase = TestServer.base();
    assertThat(Http.put(sharedBase + "/Patient/240",
        "{\"resourceType\":\"Patient\",\"id\":\"240\",\"name\":[{\"family\":\"Hansen\"}]}").statusCode())
        .isIn(200, 201);
    // the shared test server has no configured base: its base is the one the request came to
    String body = x.body().replace(IgExchange.RECORDED_BASE + "/", sharedBase + "/");
    assertThat(body).contains("\"" + sharedBase + "/Patient/240\"");

    // the token's context names the patient under the recorded base too
    HttpResponse<byte[]> r = Http.sendForBytes(x.method(), sharedBase + x.path(), body.getBytes(StandardCharsets.UTF_8),
        headers(x, null, sharedBase, List.of()));

    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(201);
    ObjectNode created = json(r);
    assertThat(created.at("/participant/2/actor/reference").asText()).isEqualTo("Patient/240");
    assertSameResource(withoutId(created), withoutId(Json.parse(x.response())));
  }

  /**
   * The recorded eHealth service answers a video appointment with what it added: the base
   * ehealth-appointment profile, and the meeting URL and PIN code of the video meeting it booked
   * (its values are the meeting service's: here the configured {@link #MEETING_SERVICE} and a
   * new meeting id, and a new four-digit PIN; the recording shows {@code https://dummy-video-url.dk/123}
   * and {@code 1234}). All else is stored as sent.
   */
  @Test
  @Order(7)
  void postAppointmentVideoAnswersTheRecordedResponseWithANewMeeting() throws IOException {
    IgExchange x = IgExchange.load("POST_Appointment_Video");
    assertThat(x.method() + " " + x.path()).isEqualTo("POST /Appointment");
    ObjectNode recorded = Json.parse(x.response());
    assertThat(Json.parse(x.body()).toString()).doesNotContain("ehealth-meeting-url", "ehealth-pin-code");
    ensurePatient("257");

    HttpResponse<byte[]> r = replay(x, base, x.body(), null);

    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(201);
    ObjectNode created = json(r);
    String id = created.path("id").asText();
    assertThat(created.at("/participant/2/actor/reference").asText()).isEqualTo("Patient/257");
    String meeting = extensionValue(created, EHEALTH_SD + "ehealth-meeting-url", "valueUri");
    assertThat(meeting).as("ehealth-meeting-url").startsWith(MEETING_SERVICE + "/").hasSizeGreaterThan(MEETING_SERVICE.length() + 8);
    String pin = extensionValue(created, EHEALTH_SD + "ehealth-pin-code", "valueString");
    assertThat(pin).as("ehealth-pin-code").matches("[0-9]{4}");
    ObjectNode expected = withMeeting(withoutId(recorded), meeting, pin);
    assertSameResource(withoutId(created), expected);
    // and that is what is stored
    assertSameResource(read("Appointment", id), withId(expected, id));

    // every appointment gets a meeting of its own
    HttpResponse<byte[]> again = replay(x, base, x.body(), null);
    assertThat(again.statusCode()).as(Gzip.decode(again)).isEqualTo(201);
    assertThat(extensionValue(json(again), EHEALTH_SD + "ehealth-meeting-url", "valueUri")).isNotEqualTo(meeting);
  }

  @Test
  @Order(9)
  void postGroupAppointmentIsCreatedAndStoredAsSent() throws Exception {
    IgExchange x = IgExchange.load("POST_Group_Appointment");
    assertThat(x.method() + " " + x.path()).isEqualTo("POST /Appointment");
    // the recording has no response body: the created resource must be what was sent
    assertThat(x.response()).isEmpty();
    // its local references (RelatedPerson/120, /121) must exist; the patients and care teams are
    // on other servers (http://localhost:8282/fhir, http://localhost:32769/...) and stay absolute
    for (String id : List.of("120", "121")) {
      put("RelatedPerson", id, "{\"resourceType\":\"RelatedPerson\",\"id\":\"" + id
          + "\",\"patient\":{\"reference\":\"http://localhost:8282/fhir/Patient/110\"}}");
    }

    HttpResponse<byte[]> r = replay(x, base, x.body(), null);

    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(201);
    String location = r.headers().firstValue("Location").orElseThrow();
    String id = location.replaceFirst("^" + IgExchange.RECORDED_BASE + "/Appointment/([^/]+)/_history/1$", "$1");
    assertThat(id).as("Location " + location).matches("[A-Za-z0-9\\-.]{1,64}");
    ObjectNode sent = Json.parse(x.body());
    // what the server adds to a group appointment: its creator, the care team of the token's context
    String team = com.nimbusds.jwt.JWTParser.parse(x.header("Authorization").substring(7).trim())
        .getJWTClaimsSet().getJSONObjectClaim("context").get("care_team_id").toString();
    ObjectNode expected = sent.deepCopy();
    ((com.fasterxml.jackson.databind.node.ArrayNode) expected.get("extension")).addObject()
        .put("url", EHEALTH_SD + "ehealth-creator").putObject("valueReference").put("reference", team);
    String body = Gzip.decode(r);
    if (!body.isBlank()) {
      assertSameResource(json(r), withVersion(withId(expected, id), 1));
    }
    assertSameResource(read("Appointment", id), withVersion(withId(expected, id), 1));
  }

  @ParameterizedTest
  @ValueSource(strings = {"PATCH_Appointment_5", "PATCH_Appointment_Video"})
  void patchExchangesAnswerTheRecordedResponse(String name) throws IOException {
    IgExchange x = IgExchange.load(name);
    assertThat(x.method()).isEqualTo("PATCH");
    String id = x.path().substring("/Appointment/".length());
    ObjectNode recorded = Json.parse(x.response());
    for (JsonNode participant : recorded.get("participant")) {
      String ref = participant.at("/actor/reference").asText();
      if (ref.startsWith("Patient/")) {
        ensurePatient(ref.substring("Patient/".length()));
      }
    }
    // the state before: the recorded result with the appointment type the patch replaces
    ObjectNode before = recorded.deepCopy();
    ((ObjectNode) before.at("/appointmentType/coding/0")).put("code", "FOLLOWUP");
    long version = bringTo("Appointment", id, before.toString(), versionOf(recorded) - 1);

    HttpResponse<byte[]> r = replay(x, base, x.body(), null);

    assertThat(r.statusCode()).as(Gzip.decode(r)).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"" + (version + 1) + "\"");
    assertSameResource(json(r), withVersion(recorded, version + 1));
  }

  // ------------------------------------------------------------------ replaying

  /**
   * Sends the recorded request to {@code toBase}: the recorded headers (the token re-signed), with
   * If-Match set to {@code ifMatchVersion} when that is given and differs from the recording.
   */
  private static HttpResponse<byte[]> replay(IgExchange x, String toBase, String body, Long ifMatchVersion) {
    return Http.sendForBytes(x.method(), toBase + x.path(),
        body == null || body.isEmpty() ? null : body.getBytes(StandardCharsets.UTF_8),
        headers(x, ifMatchVersion, null, List.of()));
  }

  /**
   * The recorded headers with If-Match set to {@code ifMatchVersion} (when given and different),
   * and the recorded token's claims re-signed for this run: the recorded base replaced by
   * {@code claimsBase} (when given) and {@code extraRoles} added.
   */
  static String[] headers(IgExchange x, Long ifMatchVersion, String claimsBase, List<String> extraRoles) {
    List<String> out = new ArrayList<>();
    for (String[] h : x.headers()) {
      String value = h[1];
      if (h[0].equalsIgnoreCase("Authorization")) {
        // the recorded token's claims, signed with this server's key and valid from now
        value = "Bearer " + Tokens.resign(TestServer.dataDir(), value.substring("Bearer ".length()).trim(),
            claimsBase == null ? IgExchange.RECORDED_BASE : claimsBase, extraRoles);
      }
      if (h[0].equalsIgnoreCase("If-Match") && ifMatchVersion != null
          && !value.replace("W/", "").equals("\"" + ifMatchVersion + "\"")) {
        value = "\"" + ifMatchVersion + "\"";
      }
      out.add(h[0]);
      out.add(value);
    }
    return out.toArray(String[]::new);
  }

  private static long ifMatch(IgExchange x) {
    String v = x.header("If-Match");
    assertThat(v).as(x.name() + " If-Match").isNotNull();
    return Long.parseLong(v.replace("W/", "").replace("\"", "").trim());
  }

  // ------------------------------------------------------------------ the state before an exchange

  private static void ensurePatient(String id) {
    if (Http.get(base + "/Patient/" + id).statusCode() != 200) {
      put("Patient", id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"Hansen\"}]}");
    }
  }

  private static long put(String type, String id, String json) {
    HttpResponse<String> r = Http.put(base + "/" + type + "/" + id, json);
    assertThat(r.statusCode()).as("PUT " + type + "/" + id + ": " + r.body()).isIn(200, 201);
    return Long.parseLong(Json.parse(r.body()).at("/meta/versionId").asText());
  }

  /**
   * Brings {@code type/id} to {@code version} with {@code content} as that version, and returns
   * the version it is at. On the test's fresh database that is {@code version}; when the resource
   * is already past it with other content, one more version with {@code content} is written and
   * the exchange is replayed against that version instead.
   */
  private static long bringTo(String type, String id, String content, long version) {
    HttpResponse<String> current = Http.get(base + "/" + type + "/" + id);
    assertThat(current.statusCode()).as("GET " + type + "/" + id + ": " + current.body()).isIn(200, 404);
    long at = current.statusCode() == 404 ? 0
        : Long.parseLong(Json.parse(current.body()).at("/meta/versionId").asText());
    if (at == version && Json.withoutServerMeta(Json.parse(current.body()), true)
        .equals(Json.withoutServerMeta(Json.parse(content), true))) {
      return at;
    }
    while (at < version - 1) {
      at = put(type, id, content);
    }
    return put(type, id, content);
  }

  private static ObjectNode read(String type, String id) {
    HttpResponse<String> r = Http.get(base + "/" + type + "/" + id);
    assertThat(r.statusCode()).as("GET " + type + "/" + id + ": " + r.body()).isEqualTo(200);
    return Json.parse(r.body());
  }
}
