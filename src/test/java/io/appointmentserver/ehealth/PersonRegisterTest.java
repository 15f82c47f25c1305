package io.appointmentserver.ehealth;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.Config;
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
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.LoggerFactory;

/**
 * {@code $createPatient}, {@code Person/$match} and {@code $updatePatientWithSKRSData} on the person
 * register. The register is a second server process ({@link ChildServer}) on a database of its own,
 * so that what the patient service knows of a person came over HTTP; the patient service is a server
 * of this JVM, configured as the patient service ({@code FHIR_SERVICE=patient}) with that register.
 * The register is suspended to be slow (504) and stopped to be down (502), last. The shared test
 * server, without a register configured, uses its own Person resources.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PersonRegisterTest {
  private static final String CPR = "urn:oid:1.2.208.176.1.2";
  private static final Logger LOG = (Logger) LoggerFactory.getLogger("io.appointmentserver");
  private static final Logger ACCESS = (Logger) LoggerFactory.getLogger("access");
  private static final ListAppender<ILoggingEvent> LINES = new ListAppender<>();

  private static ChildServer register;
  private static AppointmentServer service;
  private static String base;
  /** The general server on the service's database: what the patient service does not declare (Person search, the audit trail). */
  private static AppointmentServer general;
  private static String generalBase;

  @BeforeAll
  static void start() throws Exception {
    TestServer.shared();
    String registerDb = TestServer.withFreshDatabase(TestServer.config(), "person_register").dbUrl();
    register = ChildServer.start(512, Map.of("FHIR_DB_URL", registerDb, "FHIR_IG", "none"));
    // what the patient service shows the register: a SYSTEM user who may search Persons by CPR
    String registerToken = Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Person.*"), Map.of(), null, 3600);
    Config config = TestServer.withFreshDatabase(TestServer.config(), "patient_service")
        .withPersonRegister(register.base, registerToken, 1500).with("FHIR_PERSON_REGISTER_RETRIES", "1")
        .withService(Config.Service.PATIENT);
    service = TestServer.another(c -> config);
    base = "http://127.0.0.1:" + service.port() + "/fhir";
    general = TestServer.another(c -> config.withService(Config.Service.GENERAL).withoutIg());
    generalBase = general.baseUrl();
    LINES.start();
    LOG.addAppender(LINES);
    ACCESS.addAppender(LINES);
  }

  @AfterAll
  static void stop() throws Exception {
    LOG.detachAppender(LINES);
    ACCESS.detachAppender(LINES);
    if (service != null) {
      service.close();
    }
    if (general != null) {
      general.close();
    }
    if (register != null) {
      register.close();
    }
  }

  @Test
  @Order(1)
  void createPatientTakesTheRemoteRegistersDataAndAnswersTheSamePatientAgain() {
    registerPerson("0101701111", "Jensen", "Ib");

    HttpResponse<String> r = createPatient(base, "0101701111", TestServer.systemToken());

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    ObjectNode patient = Json.parse(r.body());
    assertThat(patient.at("/meta/profile/0").asText()).endsWith("/ehealth-patient");
    assertThat(patient.at("/identifier/0/value").asText()).isEqualTo("0101701111");
    assertThat(patient.at("/identifier/0/use").asText()).isEqualTo("official");
    assertThat(patient.at("/name/0/family").asText()).isEqualTo("Jensen");
    assertThat(patient.at("/gender").asText()).isEqualTo("male");
    assertThat(patient.at("/birthDate").asText()).isEqualTo("1970-01-01");
    // the register's Person is not in the patient service's database: it came over HTTP
    assertThat(total(generalBase + "/Person?_count=0")).isZero();

    HttpResponse<String> again = createPatient(base, "0101701111", TestServer.systemToken());
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(Json.parse(again.body()).get("id")).isEqualTo(patient.get("id"));
    assertThat(Json.parse(again.body()).at("/meta/versionId").asText()).isEqualTo("1");
  }

  @Test
  @Order(2)
  void racingCreatesOfOneCprMakeOnePatient() throws Exception {
    registerPerson("0202802222", "Holm", "Anne");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Callable<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        calls.add(() -> createPatient(base, "0202802222", TestServer.systemToken()));
      }
      Set<String> ids = new HashSet<>();
      for (Future<HttpResponse<String>> f : pool.invokeAll(calls)) {
        HttpResponse<String> r = f.get();
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        ids.add(Json.parse(r.body()).get("id").asText());
      }
      assertThat(ids).hasSize(1);
    } finally {
      pool.shutdown();
    }
    assertThat(total(base + "/Patient?identifier=" + CPR + "%7C0202802222")).isEqualTo(1);
  }

  @Test
  @Order(3)
  void matchNamesThePersonFromTheRegisterAndLinksThePatientOnceThereIsOne() {
    registerPerson("0303903333", "Berg", "Ole");
    String practitioner = Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Person$match", "Patient.read"),
        Map.of("care_team_id", "https://organization.fut.trifork.com/fhir/CareTeam/1"), null, 300);

    JsonNode before = Json.parse(match("0303903333", practitioner).body());
    assertThat(before.get("type").asText()).isEqualTo("searchset");
    assertThat(before.get("total").asInt()).isEqualTo(1);
    JsonNode entry = before.at("/entry/0");
    assertThat(entry.at("/resource/name/0/family").asText()).isEqualTo("Berg");
    assertThat(entry.at("/resource/name/0/use").asText()).isEqualTo("official");
    assertThat(entry.at("/resource/link").isMissingNode()).isTrue();
    assertThat(entry.at("/search/mode").asText()).isEqualTo("match");
    assertThat(entry.at("/search/score").asDouble()).isEqualTo(1.0);
    assertThat(entry.at("/search/extension/0/valueCode").asText()).isEqualTo("certain");

    String id = Json.parse(createPatient(base, "0303903333", TestServer.systemToken()).body()).get("id").asText();
    JsonNode after = Json.parse(match("0303903333", practitioner).body());
    assertThat(after.at("/entry/0/resource/link/0/target/reference").asText()).isEqualTo("Patient/" + id);

    JsonNode nobody = Json.parse(match("0404004444", practitioner).body());
    assertThat(nobody.get("total").asInt()).isZero();
    assertThat(nobody.has("entry")).isFalse();
  }

  @Test
  @Order(4)
  void badInputIsA4xxWithAnOperationOutcome() {
    String token = TestServer.systemToken();
    HttpResponse<String> unknown = createPatient(base, "0505055555", token);
    assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(422);
    assertThat(unknown.body()).contains("not-found").doesNotContain("0505055555");
    HttpResponse<String> otherSystem = Http.post(base + "/Patient/$createPatient", parameters(
        "{\"name\":\"crn\",\"valueIdentifier\":{\"system\":\"urn:other\",\"value\":\"0101701111\"}}"), auth(token));
    assertThat(otherSystem.statusCode()).as(otherSystem.body()).isEqualTo(400);
    assertThat(otherSystem.body()).contains("OperationOutcome").contains(CPR);
    HttpResponse<String> shortNumber = createPatient(base, "12345", token);
    assertThat(shortNumber.statusCode()).as(shortNumber.body()).isEqualTo(400);
    HttpResponse<String> none = Http.post(base + "/Patient/$createPatient", parameters(""), auth(token));
    assertThat(none.statusCode()).as(none.body()).isEqualTo(400);
    HttpResponse<String> matchWithoutIdentifier = Http.post(base + "/Person/$match",
        parameters("{\"name\":\"resource\",\"resource\":{\"resourceType\":\"Person\"}}"), auth(token));
    assertThat(matchWithoutIdentifier.statusCode()).as(matchWithoutIdentifier.body()).isEqualTo(400);
    HttpResponse<String> withoutPrivilege = createPatient(base, "0101701111",
        Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Patient.read"), Map.of(), null, 300));
    assertThat(withoutPrivilege.statusCode()).as(withoutPrivilege.body()).isEqualTo(403);
  }

  @Test
  @Order(5)
  void thePatientServiceRefusesPatientCreateUpdateAndDeleteButPatches() {
    String id = Json.parse(createPatient(base, "0101701111", TestServer.systemToken()).body()).get("id").asText();
    String patient = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}";
    for (HttpResponse<String> r : List.of(Http.post(base + "/Patient", patient), Http.put(base + "/Patient/" + id,
        patient), Http.send("DELETE", base + "/Patient/" + id, null))) {
      // undeclared by the patient service: answered as HAPI answers a request no method binds
      assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
      assertThat(Json.parse(r.body()).at("/issue/0/code").asText()).isEqualTo("not-supported");
      assertThat(Json.parse(r.body()).at("/issue/0/diagnostics").asText()).contains("does not know how to handle");
    }
    HttpResponse<String> batch = Http.post(base, "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{"
        + "\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}");
    assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
    assertThat(Json.parse(batch.body()).at("/entry/0/response/status").asText()).startsWith("400");
    HttpResponse<String> patched = Http.send("PATCH", base + "/Patient/" + id,
        "[{\"op\":\"add\",\"path\":\"/active\",\"value\":true}]", "Content-Type", "application/json-patch+json");
    assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
    assertThat(Json.parse(Http.get(base + "/Patient/" + id).body()).get("active").asBoolean()).isTrue();
    // and says so: the CapabilityStatement lists what works
    assertThat(patientInteractions(base)).containsExactlyInAnyOrder("read", "vread", "patch", "search-type");
    assertThat(patientInteractions(TestServer.base())).contains("create", "update", "delete");
  }

  private static List<String> patientInteractions(String at) {
    for (JsonNode resource : Json.parse(Http.get(at + "/metadata").body()).at("/rest/0/resource")) {
      if (resource.get("type").asText().equals("Patient")) {
        List<String> codes = new ArrayList<>();
        resource.get("interaction").forEach(i -> codes.add(i.get("code").asText()));
        return codes;
      }
    }
    throw new AssertionError("no Patient in the CapabilityStatement of " + at);
  }

  @Test
  @Order(6)
  void searchingByCprNeedsItsPrivilegeAndTheLinksMaskTheNumber() {
    String query = "/Patient?identifier=" + CPR + "%7C0101701111";
    String reader = Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Patient.read", "Patient.search"),
        Map.of("care_team_id", "https://organization.fut.trifork.com/fhir/CareTeam/1"), null, 300);
    HttpResponse<String> refused = Http.get(base + query, auth(reader));
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
    assertThat(refused.body()).contains("$search-by-cpr");
    HttpResponse<String> bare = Http.get(base + "/Patient?identifier=0101701111", auth(reader));
    assertThat(bare.statusCode()).as(bare.body()).isEqualTo(403);
    // a search across types, which the patient service does not declare
    HttpResponse<String> acrossTypes = Http.get(generalBase + "?_type=Patient&identifier=" + CPR + "%7C0101701111",
        auth(reader));
    assertThat(acrossTypes.statusCode()).as(acrossTypes.body()).isEqualTo(403);
    HttpResponse<String> withoutCpr = Http.get(base + "/Patient?_id=none", auth(reader));
    assertThat(withoutCpr.statusCode()).as(withoutCpr.body()).isEqualTo(200);

    String privileged = Tokens.sign(TestServer.dataDir(), "PRACTITIONER",
        List.of("Patient.read", "Patient.search", "Patient$search-by-cpr"),
        Map.of("care_team_id", "https://organization.fut.trifork.com/fhir/CareTeam/1"), null, 300);
    HttpResponse<String> allowed = Http.get(base + query, auth(privileged));
    assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(200);
    JsonNode page = Json.parse(allowed.body());
    assertThat(page.get("total").asInt()).isEqualTo(1);
    assertThat(page.at("/link/0/url").asText()).contains("identifier=").doesNotContain("0101701111");
  }

  @Test
  @Order(7)
  void skrsUpdatesMakeANewVersionOfEachChangedPatientAndAnswerPerEntry() {
    String id = Json.parse(createPatient(base, "0101701111", TestServer.systemToken()).body()).get("id").asText();
    long version = version(id);
    String update = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patientBundle\",\"resource\":"
        + "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
        + "{\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + CPR + "\",\"value\":\"0101701111\"}],"
        + "\"name\":[{\"family\":\"Jensen-Lund\",\"given\":[\"Ib\"]}],\"address\":[{\"use\":\"home\",\"line\":[\"Ny Vej 1\"],"
        + "\"city\":\"Aarhus\",\"postalCode\":\"8000\"}]}},"
        + "{\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + CPR + "\",\"value\":\"0909099999\"}]}},"
        + "{\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:other\",\"value\":\"1\"}]}},"
        // a municipality code the eHealth code system does not have: the Patient's profile refuses it
        + "{\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + CPR + "\",\"value\":\"0202802222\"}],"
        + "\"address\":[{\"extension\":[{\"url\":\"http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-municipality-code\","
        + "\"valueCoding\":{\"system\":\"http://danmarksadresser.dk/kommunekode\",\"code\":\"751\"}}],\"city\":\"Aarhus\"}]}}]}}]}";
    String other = Json.parse(createPatient(base, "0202802222", TestServer.systemToken()).body()).get("id").asText();
    long otherVersion = version(other);
    String skrs = Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Patient$updatePatientWithSKRSData"), Map.of(),
        null, 300);

    HttpResponse<String> r = Http.post(base + "/Patient/$updatePatientWithSKRSData", update, auth(skrs));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode results = Json.parse(r.body()).get("parameter");
    assertThat(results).hasSize(4);
    assertThat(status(results.get(0))).isEqualTo("updated");
    assertThat(status(results.get(1))).isEqualTo("not-found");
    assertThat(status(results.get(2))).isEqualTo("invalid");
    assertThat(status(results.get(3))).isEqualTo("invalid");
    assertThat(results.get(3).toString()).contains("751").doesNotContain("0202802222");
    assertThat(version(other)).as("the refused entry wrote nothing").isEqualTo(otherVersion);
    JsonNode patient = Json.parse(Http.get(base + "/Patient/" + id).body());
    assertThat(patient.at("/meta/versionId").asLong()).isEqualTo(version + 1);
    assertThat(patient.at("/name/0/family").asText()).isEqualTo("Jensen-Lund");
    assertThat(patient.at("/address/0/city").asText()).isEqualTo("Aarhus");
    assertThat(patient.get("active").asBoolean()).as("the service's own data is kept").isTrue();

    HttpResponse<String> again = Http.post(base + "/Patient/$updatePatientWithSKRSData", update, auth(skrs));
    assertThat(status(Json.parse(again.body()).get("parameter").get(0))).isEqualTo("unchanged");
    assertThat(version(id)).isEqualTo(version + 1);
  }

  @Test
  @Order(8)
  void cprNumbersAreMaskedInTheLogAndNotInTheAuditTrail() throws Exception {
    LINES.list.clear();
    registerPerson("0606606666", "Lund", "Eva");
    String practitioner = Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Patient.*"),
        Map.of("care_team_id", "https://organization.fut.trifork.com/fhir/CareTeam/1"), null, 300);

    HttpResponse<String> r = createPatient(base, "0606606666", practitioner);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String id = Json.parse(r.body()).get("id").asText();
    HttpResponse<String> search = Http.get(base + "/Patient?identifier=" + CPR + "%7C0606606666", auth(practitioner));
    assertThat(search.statusCode()).as(search.body()).isEqualTo(200);
    List<String> lines = new ArrayList<>(LINES.list.stream().map(ILoggingEvent::getFormattedMessage).toList());
    assertThat(lines).anyMatch(l -> l.contains("created Patient/" + id + " for xxxxxx-xxxx"));
    assertThat(lines).noneMatch(l -> l.contains("0606606666"));
    assertThat(register.log()).doesNotContain("0606606666");
    // the audit trail names the patient by reference; the searched number is masked in its query
    String created = events(r.headers().firstValue("X-B3-TraceId").orElseThrow()).toString();
    assertThat(created).contains("Patient/" + id + "/_history/1").doesNotContain("0606606666");
    List<JsonNode> searched = events(search.headers().firstValue("X-B3-TraceId").orElseThrow());
    String query = new String(java.util.Base64.getDecoder().decode(searched.get(0).at("/entity/0/query").asText()),
        java.nio.charset.StandardCharsets.UTF_8);
    assertThat(query).isEqualTo("identifier=" + CPR + "|xxxxxx-xxxx");
  }

  /** The patient service's audit events of one request, waiting for them to be written. */
  private static List<JsonNode> events(String traceId) throws InterruptedException {
    List<JsonNode> found = new ArrayList<>();
    for (int attempt = 0; attempt < 30 && found.isEmpty(); attempt++) {
      Thread.sleep(100);
      Json.parse(Http.get(generalBase + "/AuditEvent/_history?_count=300").body()).path("entry").forEach(e -> {
        if (e.path("resource").toString().contains(traceId)) {
          found.add(e.get("resource"));
        }
      });
    }
    assertThat(found).as("audit events of " + traceId).isNotEmpty();
    return found;
  }

  @Test
  @Order(9)
  void theServersOwnPersonsAreTheRegisterWhenNoneIsConfigured() {
    String shared = TestServer.base();
    HttpResponse<String> person = Http.put(shared + "/Person/register-0707707777", "{\"resourceType\":\"Person\","
        + "\"id\":\"register-0707707777\",\"identifier\":[{\"system\":\"" + CPR + "\",\"value\":\"0707707777\"}],"
        + "\"name\":[{\"family\":\"Skov\",\"given\":[\"Karl\"]}],\"gender\":\"male\"}");
    assertThat(person.statusCode()).as(person.body()).isIn(200, 201);

    HttpResponse<String> r = createPatient(shared, "0707707777", TestServer.systemToken());

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(Json.parse(r.body()).at("/name/0/family").asText()).isEqualTo("Skov");
    // the general server keeps Patient writes for its users
    String id = Json.parse(r.body()).get("id").asText();
    HttpResponse<String> put = Http.put(shared + "/Patient/" + id, r.body());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
  }

  @Test
  @Order(10)
  void aSlowRegisterIsA504() throws Exception {
    registerPerson("0808808888", "Dal", "Per");
    signal("STOP");
    try {
      long t0 = System.nanoTime();
      HttpResponse<String> r = createPatient(base, "0808808888", TestServer.systemToken());
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(r.statusCode()).as(r.body()).isEqualTo(504);
      assertThat(Json.parse(r.body()).at("/issue/0/code").asText()).isEqualTo("timeout");
      assertThat(r.body()).contains("did not answer within 1500 ms");
      assertThat(ms).as("two attempts of 1.5 s").isBetween(3000L, 10_000L);
    } finally {
      signal("CONT");
    }
    assertThat(createPatient(base, "0808808888", TestServer.systemToken()).statusCode()).isEqualTo(200);
  }

  @Test
  @Order(11)
  void aRegisterThatIsDownIsA502AndNothingIsCreated() throws Exception {
    registerPerson("0909909999", "Vang", "Lis");
    assertThat(register.stop(60)).isTrue();

    HttpResponse<String> r = createPatient(base, "0909909999", TestServer.systemToken());

    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(r.body()).contains("person register could not be reached").doesNotContain("0909909999");
    assertThat(total(base + "/Patient?identifier=" + CPR + "%7C0909909999")).isZero();
    // what is known locally needs no register
    assertThat(createPatient(base, "0101701111", TestServer.systemToken()).statusCode()).isEqualTo(200);
  }

  // ------------------------------------------------------------------ helpers

  private static void registerPerson(String cpr, String family, String given) {
    int year = Integer.parseInt(cpr.substring(4, 6));
    String birthDate = (year < 30 ? "20" : "19") + cpr.substring(4, 6) + "-" + cpr.substring(2, 4) + "-"
        + cpr.substring(0, 2);
    HttpResponse<String> r = Http.put(register.base + "/Person/p" + cpr, "{\"resourceType\":\"Person\",\"id\":\"p"
        + cpr + "\",\"identifier\":[{\"system\":\"" + CPR + "\",\"value\":\"" + cpr + "\"}],\"name\":[{\"family\":\""
        + family + "\",\"given\":[\"" + given + "\"]}],\"gender\":\"" + (given.equals("Anne") || given.equals("Eva")
        || given.equals("Lis") ? "female" : "male") + "\",\"birthDate\":\"" + birthDate + "\"}");
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
  }

  private static HttpResponse<String> createPatient(String at, String cpr, String token) {
    return Http.post(at + "/Patient/$createPatient", parameters("{\"name\":\"crn\",\"valueIdentifier\":{\"system\":\""
        + CPR + "\",\"value\":\"" + cpr + "\"}}"), auth(token));
  }

  private static HttpResponse<String> match(String cpr, String token) {
    HttpResponse<String> r = Http.post(base + "/Person/$match", parameters("{\"name\":\"resource\",\"resource\":"
        + "{\"resourceType\":\"Person\",\"identifier\":[{\"system\":\"" + CPR + "\",\"value\":\"" + cpr + "\"}]}}"),
        auth(token));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r;
  }

  private static String parameters(String parameter) {
    return "{\"resourceType\":\"Parameters\",\"parameter\":[" + parameter + "]}";
  }

  private static String[] auth(String token) {
    return new String[] {"Authorization", "Bearer " + token};
  }

  private static int total(String url) {
    HttpResponse<String> r = Http.get(url);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Json.parse(r.body()).get("total").asInt();
  }

  private static long version(String id) {
    return Json.parse(Http.get(base + "/Patient/" + id).body()).at("/meta/versionId").asLong();
  }

  private static String status(JsonNode result) {
    for (JsonNode part : result.get("part")) {
      if (part.get("name").asText().equals("status")) {
        return part.get("valueCode").asText();
      }
    }
    return null;
  }

  /** Suspends ({@code STOP}) or resumes ({@code CONT}) the register's process: suspended, it accepts connections but answers nothing. */
  private static void signal(String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(register.process.pid())).start();
    assertThat(kill.waitFor()).isZero();
  }
}
