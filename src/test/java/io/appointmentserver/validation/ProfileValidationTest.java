package io.appointmentserver.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Profile validation on create and update, over HTTP, on a server of its own with the built-in
 * eHealth IG like the shared one,
 * so that the profiles these tests write through the API stay out of the shared server; other
 * configurations run on servers of their own on the same database.
 */
class ProfileValidationTest {
  private static final String EHEALTH_APPOINTMENT = "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-appointment";
  private static final String RESPONSIBLE = "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-responsible";

  private static AppointmentServer server;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.another(c -> c);
    base = server.baseUrl();
    assertThat(Http.put(base + "/Patient/240",
        "{\"resourceType\":\"Patient\",\"id\":\"240\",\"name\":[{\"family\":\"Hansen\"}]}").statusCode()).isIn(200, 201);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static ObjectNode seed() throws IOException {
    return Json.parse(Files.readString(TestServer.sharedDir().resolve("seed").resolve("request-body.json")));
  }

  private static String newId(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 13);
  }

  // ------------------------------------------------------------------ the eHealth profiles

  @Test
  void seedAppointmentClaimingEhealthAppointmentIsAcceptedOnCreateAndUpdate() throws IOException {
    ObjectNode seed = seed();
    assertThat(seed.at("/meta/profile/0").asText()).isEqualTo(EHEALTH_APPOINTMENT);

    HttpResponse<String> created = Http.post(base + "/Appointment", seed.toString());

    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(created.headers().allValues("X-FHIR-Request-Validation")).isEmpty();
    ObjectNode stored = Json.parse(created.body());
    String id = stored.get("id").asText();
    // the update keeps the eHealth identifier the server added on create
    seed.put("id", id).set("identifier", stored.get("identifier"));
    seed.put("comment", "updated"); // a change: the same content would keep version 1
    HttpResponse<String> updated = Http.put(base + "/Appointment/" + id, seed.toString(), "If-Match", "W/\"1\"");
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
    assertThat(Json.parse(updated.body()).at("/meta/versionId").asText()).isEqualTo("2");
  }

  @Test
  void appointmentWithoutTheResponsibleExtensionTheProfileRequiresIsRefusedWith422() throws IOException {
    ObjectNode appointment = seed();
    appointment.remove("extension");
    String id = newId("no-responsible");
    appointment.put("id", id);

    HttpResponse<String> r = Http.put(base + "/Appointment/" + id, appointment.toString());

    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    JsonNode oo = Json.parse(r.body());
    assertThat(oo.get("resourceType").asText()).isEqualTo("OperationOutcome");
    JsonNode issue = oo.at("/issue/0");
    assertThat(issue.get("severity").asText()).isEqualTo("error");
    assertThat(issue.get("diagnostics").asText()).contains("Slice 'Appointment.extension:responsible'")
        .contains("a matching slice is required, but not found").contains(EHEALTH_APPOINTMENT);
    assertThat(issue.at("/expression/0").asText()).isEqualTo("Appointment");
    assertThat(issue.at("/location/0").asText()).isEqualTo("Appointment");
    // and nothing was stored
    assertThat(Http.get(base + "/Appointment/" + id).statusCode()).isEqualTo(404);
  }

  @Test
  void reasonOutsideTheRequiredEhealthValueSetIsRefusedWith422AtItsLocation() throws IOException {
    ObjectNode appointment = seed();
    ((ObjectNode) appointment.at("/reason/0/coding/0")).put("code", "not-a-reason");

    HttpResponse<String> r = Http.post(base + "/Appointment", appointment.toString());

    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    // the profile binds both reason and reason.coding to the value set: both say so
    List<JsonNode> issues = new ArrayList<>();
    Json.parse(r.body()).get("issue").forEach(issues::add);
    assertThat(issues).allSatisfy(i -> {
      assertThat(i.get("severity").asText()).isEqualTo("error");
      assertThat(i.get("code").asText()).isEqualTo("code-invalid");
      assertThat(i.get("diagnostics").asText()).contains("not-a-reason");
    });
    assertThat(issues).anySatisfy(i -> {
      assertThat(i.at("/expression/0").asText()).isEqualTo("Appointment.reason[0].coding[0]");
      assertThat(i.get("diagnostics").asText()).contains("was not found in the value set")
          .contains("http://ehealth.sundhed.dk/vs/appointment-reason");
    });
  }

  /**
   * The validator checks the server's new eHealth identifier as a fixed UUID (so that the same
   * content created twice is validated once): each create still stores its own identifier, and
   * the same invalid content is refused every time.
   */
  @Test
  void createsOfTheSameContentKeepTheirOwnIdentifiersAndTheSameInvalidContentIsRefusedEachTime() throws IOException {
    List<String> identifiers = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      HttpResponse<String> created = Http.post(base + "/Appointment", seed().toString());
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      JsonNode identifier = Json.parse(created.body()).at("/identifier/0");
      assertThat(identifier.get("system").asText()).isEqualTo("http://ehealth.sundhed.dk/id/ehealth-identifier");
      String stored = Json.parse(Http.get(base + "/Appointment/" + Json.parse(created.body()).get("id").asText()).body())
          .at("/identifier/0/value").asText();
      assertThat(stored).isEqualTo(identifier.get("value").asText()).isNotEqualTo("00000000-0000-4000-8000-000000000000");
      identifiers.add(stored);
    }
    assertThat(identifiers.get(0)).isNotEqualTo(identifiers.get(1));
    ObjectNode invalid = seed();
    ((ObjectNode) invalid.at("/reason/0/coding/0")).put("code", "not-a-reason");
    for (int i = 0; i < 2; i++) {
      HttpResponse<String> r = Http.post(base + "/Appointment", invalid.toString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    }
  }

  @Test
  void aWriterOutsideTheAppointmentsCareTeamIsRefused403BeforeAnyValidation() throws IOException {
    ObjectNode appointment = seed();
    appointment.remove("extension"); // invalid, and for another team than the writer's
    String token = Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Appointment.*"),
        java.util.Map.of("care_team_id", "http://organization.fut.trifork.com/fhir/CareTeam/another-team"),
        "http://organization.fut.trifork.com/fhir/Practitioner/35205", 300);

    HttpResponse<String> r = Http.post(base + "/Appointment", appointment.toString(), "Authorization", "Bearer " + token);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
  }

  @Test
  void responsibleTeamThatTakesNoPartIsRefusedByTheProfilesInvariant() throws IOException {
    ObjectNode appointment = seed();
    ((ObjectNode) appointment.at("/extension/0/valueReference")).put("reference", "CareTeam/somebody-else");

    HttpResponse<String> r = Http.post(base + "/Appointment", appointment.toString());

    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    JsonNode issue = Json.parse(r.body()).at("/issue/0");
    assertThat(issue.get("code").asText()).isEqualTo("invariant");
    assertThat(issue.get("diagnostics").asText()).contains("responsible-1");
  }

  @Test
  void updatesThatChangeOnlyTheCommentAreValidatedInFull() throws IOException {
    ObjectNode seed = seed();
    HttpResponse<String> created = Http.post(base + "/Appointment", seed.toString());
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = Json.parse(created.body()).get("id").asText();
    seed.put("id", id).set("identifier", Json.parse(created.body()).get("identifier"));

    seed.put("comment", "a comment that ends in a space ");
    HttpResponse<String> spaced = Http.put(base + "/Appointment/" + id, seed.toString(), "If-Match", "W/\"1\"");
    assertThat(spaced.statusCode()).as(spaced.body()).isEqualTo(200);
    assertThat(spaced.headers().allValues("X-FHIR-Request-Validation"))
        .anySatisfy(h -> assertThat(h).startsWith("warning ").contains("whitespace").contains("(Appointment.comment"));

    seed.put("comment", "a comment without it");
    HttpResponse<String> plain = Http.put(base + "/Appointment/" + id, seed.toString(), "If-Match", "W/\"2\"");
    assertThat(plain.statusCode()).as(plain.body()).isEqualTo(200);
    assertThat(plain.headers().allValues("X-FHIR-Request-Validation")).isEmpty();

    // a new comment does not let the rest through unchecked
    seed.put("comment", "yet another comment");
    ((ObjectNode) seed.at("/reason/0/coding/0")).put("code", "not-in-the-value-set");
    HttpResponse<String> invalid = Http.put(base + "/Appointment/" + id, seed.toString(), "If-Match", "W/\"3\"");
    assertThat(invalid.statusCode()).as(invalid.body()).isEqualTo(422);
    assertThat(invalid.body()).contains("Appointment.reason[0]");
  }

  @Test
  void warningsDoNotBlockAndComeAsHeadersOrInTheOperationOutcome() throws IOException {
    // an R4 code system URL in a DSTU3 resource: the validator does not know it, which is a warning
    ObjectNode appointment = seed();
    ((ObjectNode) appointment.at("/participant/0/type/0/coding/0"))
        .put("system", "http://terminology.hl7.org/CodeSystem/v3-ParticipationType");

    HttpResponse<String> r = Http.post(base + "/Appointment", appointment.toString());

    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("Appointment");
    assertThat(r.headers().allValues("X-FHIR-Request-Validation"))
        .isNotEmpty()
        .allSatisfy(h -> assertThat(h).startsWith("warning "))
        .anySatisfy(h -> assertThat(h).contains("terminology.hl7.org").contains("(Appointment.participant[0].type[0]"));

    HttpResponse<String> withOutcome = Http.post(base + "/Appointment", appointment.toString(),
        "Prefer", "return=OperationOutcome");

    assertThat(withOutcome.statusCode()).isEqualTo(201);
    JsonNode oo = Json.parse(withOutcome.body());
    assertThat(oo.get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(oo.at("/issue/0/severity").asText()).isEqualTo("information");
    assertThat(oo.at("/issue/0/diagnostics").asText()).startsWith("Created Appointment/");
    List<JsonNode> warnings = new ArrayList<>();
    oo.get("issue").forEach(i -> {
      if (i.get("severity").asText().equals("warning")) {
        warnings.add(i);
      }
    });
    assertThat(warnings).anySatisfy(w -> {
      assertThat(w.get("diagnostics").asText()).contains("terminology.hl7.org");
      assertThat(w.at("/expression/0").asText()).isEqualTo("Appointment.participant[0].type[0]");
    });
  }

  @Test
  void resourcesWithoutProfilesAreOnlyParsedButClaimingAProfileBringsTheBaseRulesToo() {
    // pat-1: a contact needs details or an organization; only the validator checks that
    String contactWithoutDetails = "\"contact\":[{\"gender\":\"male\"}]";
    HttpResponse<String> unprofiled = Http.post(base + "/Patient",
        "{\"resourceType\":\"Patient\"," + contactWithoutDetails + "}");
    assertThat(unprofiled.statusCode()).as(unprofiled.body()).isEqualTo(201);

    HttpResponse<String> profiled = Http.post(base + "/Patient", "{\"resourceType\":\"Patient\",\"meta\":{\"profile\":"
        + "[\"http://hl7.org/fhir/StructureDefinition/Patient\"]}," + contactWithoutDetails + "}");

    assertThat(profiled.statusCode()).as(profiled.body()).isEqualTo(422);
    JsonNode issue = Json.parse(profiled.body()).at("/issue/0");
    assertThat(issue.get("diagnostics").asText()).contains("pat-1");
    assertThat(issue.at("/expression/0").asText()).isEqualTo("Patient.contact[0]");
  }

  // ------------------------------------------------------------------ terminology resources

  /** A ValueSet claiming shareablevalueset that includes a code system named by its OID. */
  private static String valueSetOfAnOidSystem(String id, String publisher) {
    return "{\"resourceType\":\"ValueSet\",\"id\":\"" + id + "\",\"meta\":{\"profile\":"
        + "[\"http://hl7.org/fhir/StructureDefinition/shareablevalueset\"]},"
        + "\"url\":\"http://example.org/fhir/ValueSet/" + id + "\",\"version\":\"1\",\"name\":\"OidExample\","
        + "\"status\":\"draft\",\"experimental\":true," + publisher
        + "\"description\":\"Codes of a system named by its OID\",\"compose\":{\"include\":[{"
        + "\"system\":\"urn:oid:2.16.840.1.113883.3.1937.98.5.8\",\"concept\":[{\"code\":\"draft\",\"display\":\"Draft\"}]}]}}";
  }

  /**
   * A ValueSet that includes a code system by its OID makes the validator look for CodeSystems
   * with that identifier, which HAPI's worker context cannot list (HAPI-0650: the resource could
   * not be validated and was refused). The server's context lists them: such a ValueSet is
   * validated like any other, accepted when valid and refused with the profile's issue when not.
   */
  @Test
  void valueSetIncludingACodeSystemByItsOidIsValidatedLikeAnyOther() {
    String id = newId("oid-vs");
    HttpResponse<String> accepted = Http.put(base + "/ValueSet/" + id, valueSetOfAnOidSystem(id, "\"publisher\":\"Example\","));

    assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(201);
    assertThat(accepted.headers().allValues("X-FHIR-Request-Validation")).noneMatch(h -> h.contains("HAPI-"));

    String without = newId("oid-vs");
    HttpResponse<String> refused = Http.put(base + "/ValueSet/" + without, valueSetOfAnOidSystem(without, ""));

    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(422);
    JsonNode issue = Json.parse(refused.body()).at("/issue/0");
    assertThat(issue.get("severity").asText()).isEqualTo("error");
    assertThat(issue.get("diagnostics").asText()).contains("ValueSet.publisher").doesNotContain("HAPI-");
    assertThat(refused.body()).doesNotContain("HAPI-0650");
  }

  // ------------------------------------------------------------------ profiles the server does not know

  @Test
  void unknownProfileIsRefusedWith422AndAcceptedWithTheAllowSetting() throws Exception {
    String unknown = "http://example.org/fhir/StructureDefinition/" + newId("nobody-knows");
    String patient = "{\"resourceType\":\"Patient\",\"meta\":{\"profile\":[\"" + unknown + "\"]},"
        + "\"name\":[{\"family\":\"Hansen\"}]}";

    HttpResponse<String> refused = Http.post(base + "/Patient", patient);

    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(422);
    JsonNode issue = Json.parse(refused.body()).at("/issue/0");
    assertThat(issue.get("severity").asText()).isEqualTo("error");
    assertThat(issue.get("diagnostics").asText()).contains(unknown);

    try (AppointmentServer allowing = TestServer.another(c -> c.withoutIg().withAllowUnknownProfiles(true))) {
      HttpResponse<String> accepted = Http.post(allowing.baseUrl() + "/Patient", patient);

      assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(201);
      assertThat(accepted.headers().allValues("X-FHIR-Request-Validation"))
          .anySatisfy(h -> assertThat(h).startsWith("warning ").contains(unknown));
      assertThat(Json.parse(accepted.body()).at("/meta/profile/0").asText()).isEqualTo(unknown);
    }
  }

  // ------------------------------------------------------------------ profiles written through the API

  /** A Patient profile whose differential makes each of {@code required} mandatory. */
  static String patientProfile(String id, String url, String... required) {
    StringBuilder elements = new StringBuilder();
    for (String element : required) {
      if (elements.length() > 0) {
        elements.append(',');
      }
      elements.append("{\"id\":\"Patient.").append(element).append("\",\"path\":\"Patient.").append(element)
          .append("\",\"min\":1}");
    }
    return "{\"resourceType\":\"StructureDefinition\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
        + ",\"url\":\"" + url + "\",\"name\":\"TestPatient\",\"status\":\"draft\",\"kind\":\"resource\","
        + "\"abstract\":false,\"type\":\"Patient\","
        + "\"baseDefinition\":\"http://hl7.org/fhir/StructureDefinition/Patient\",\"derivation\":\"constraint\","
        + "\"differential\":{\"element\":[" + elements + "]}}";
  }

  static String patientClaiming(String profile, String extra) {
    return "{\"resourceType\":\"Patient\",\"meta\":{\"profile\":[\"" + profile + "\"]},"
        + "\"name\":[{\"family\":\"Hansen\"}]" + extra + "}";
  }

  @Test
  void profileCreatedThroughTheApiTakesEffectAtOnceAndAnUpdateReplacesIt() {
    String url = "http://example.org/fhir/StructureDefinition/" + newId("needs-birthdate");

    HttpResponse<String> sd = Http.post(base + "/StructureDefinition", patientProfile(null, url, "birthDate"));
    assertThat(sd.statusCode()).as(sd.body()).isEqualTo(201);
    String sdId = Json.parse(sd.body()).get("id").asText();

    HttpResponse<String> without = Http.post(base + "/Patient", patientClaiming(url, ""));
    assertThat(without.statusCode()).as(without.body()).isEqualTo(422);
    JsonNode issue = Json.parse(without.body()).at("/issue/0");
    assertThat(issue.get("diagnostics").asText()).contains("Patient.birthDate").contains("minimum required = 1");
    assertThat(issue.at("/expression/0").asText()).isEqualTo("Patient");
    assertThat(Http.post(base + "/Patient", patientClaiming(url, ",\"birthDate\":\"1970-01-01\"")).statusCode())
        .isEqualTo(201);

    // the same profile now also wants a gender: the old version is replaced, not added to
    HttpResponse<String> updated = Http.put(base + "/StructureDefinition/" + sdId,
        patientProfile(sdId, url, "birthDate", "gender"));
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
    HttpResponse<String> withoutGender = Http.post(base + "/Patient",
        patientClaiming(url, ",\"birthDate\":\"1970-01-01\""));
    assertThat(withoutGender.statusCode()).as(withoutGender.body()).isEqualTo(422);
    assertThat(Json.parse(withoutGender.body()).at("/issue/0/diagnostics").asText()).contains("Patient.gender");
    assertThat(Http.post(base + "/Patient", patientClaiming(url, ",\"birthDate\":\"1970-01-01\",\"gender\":\"female\""))
        .statusCode()).isEqualTo(201);

    // deleted, the profile is unknown again
    assertThat(Http.send("DELETE", base + "/StructureDefinition/" + sdId, null).statusCode()).isEqualTo(200);
    HttpResponse<String> afterDelete = Http.post(base + "/Patient",
        patientClaiming(url, ",\"birthDate\":\"1970-01-01\",\"gender\":\"female\""));
    assertThat(afterDelete.statusCode()).as(afterDelete.body()).isEqualTo(422);
    assertThat(Json.parse(afterDelete.body()).at("/issue/0/diagnostics").asText()).contains(url);
  }

  @Test
  void profilesWrittenThroughTheApiAreKnownAfterARestart() throws Exception {
    String url = "http://example.org/fhir/StructureDefinition/" + newId("stored");
    assertThat(Http.post(base + "/StructureDefinition", patientProfile(null, url, "birthDate")).statusCode())
        .isEqualTo(201);

    // a server started afterwards on the same database, without the IG, reads it from there
    try (AppointmentServer restarted = TestServer.another(c -> c.withoutIg())) {
      String other = restarted.baseUrl();
      HttpResponse<String> without = Http.post(other + "/Patient", patientClaiming(url, ""));
      assertThat(without.statusCode()).as(without.body()).isEqualTo(422);
      assertThat(Json.parse(without.body()).at("/issue/0/diagnostics").asText()).contains("Patient.birthDate");
      assertThat(Http.post(other + "/Patient", patientClaiming(url, ",\"birthDate\":\"1970-01-01\"")).statusCode())
          .isEqualTo(201);
    }
  }

  @Test
  void profileWrittenThroughOneServerIsKnownAtOnceToAnotherOnTheSameDatabase() throws Exception {
    try (AppointmentServer other = TestServer.another(c -> c)) {
      String url = "http://example.org/fhir/StructureDefinition/" + newId("elsewhere");
      // the other server, running already, is asked first: it does not know the profile
      assertThat(Http.post(other.baseUrl() + "/Patient", patientClaiming(url, "")).statusCode()).isEqualTo(422);

      assertThat(Http.post(base + "/StructureDefinition", patientProfile(null, url, "birthDate")).statusCode())
          .isEqualTo(201);
      Thread.sleep(1100); // an unknown profile makes a server look in the database once a second at most

      HttpResponse<String> without = Http.post(other.baseUrl() + "/Patient", patientClaiming(url, ""));
      assertThat(without.statusCode()).as(without.body()).isEqualTo(422);
      assertThat(Json.parse(without.body()).at("/issue/0/diagnostics").asText()).contains("Patient.birthDate");
      assertThat(Http.post(other.baseUrl() + "/Patient", patientClaiming(url, ",\"birthDate\":\"1970-01-01\""))
          .statusCode()).isEqualTo(201);
    }
  }

  @Test
  void igPackageTgzIsLoadedLikeAFolder() throws Exception {
    String url = "http://example.org/fhir/StructureDefinition/" + newId("from-package");
    Path tgz = Files.createTempFile("ig-", ".tgz");
    try {
      writePackage(tgz, List.of(
          new String[] {"package/package.json", "{\"name\":\"example.test\",\"version\":\"0.1.0\",\"fhirVersions\":[\"3.0.1\"]}"},
          new String[] {"package/StructureDefinition-needs-gender.json", patientProfile("needs-gender", url, "gender")},
          new String[] {"package/example/Patient-example.json", "{\"resourceType\":\"Patient\",\"id\":\"example\"}"}));

      try (AppointmentServer fromPackage = TestServer.another(c -> c.withIgPath(tgz))) {
        String other = fromPackage.baseUrl();
        HttpResponse<String> without = Http.post(other + "/Patient", patientClaiming(url, ""));
        assertThat(without.statusCode()).as(without.body()).isEqualTo(422);
        assertThat(Json.parse(without.body()).at("/issue/0/diagnostics").asText()).contains("Patient.gender");
        assertThat(Http.post(other + "/Patient", patientClaiming(url, ",\"gender\":\"male\"")).statusCode())
            .isEqualTo(201);
      }
    } finally {
      Files.deleteIfExists(tgz);
    }
  }

  static void writePackage(Path tgz, List<String[]> files) throws IOException {
    try (OutputStream out = Files.newOutputStream(tgz);
         TarArchiveOutputStream tar = new TarArchiveOutputStream(new GZIPOutputStream(out))) {
      for (String[] f : files) {
        byte[] bytes = f[1].getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(f[0]);
        e.setSize(bytes.length);
        tar.putArchiveEntry(e);
        tar.write(bytes);
        tar.closeArchiveEntry();
      }
    }
  }

  // ------------------------------------------------------------------ the IG's own examples

  @Test
  void igAppointmentExampleIsAcceptedWithWarnings() throws IOException {
    String xml = Files.readString(TestServer.sharedDir().resolve("ehealth-ig/examples/appointment/appointment-valid.xml"));

    HttpResponse<String> r = Http.post(base + "/Appointment", xml, "Content-Type", "application/fhir+xml");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    // it codes the participant type with the R4 URL of the code system, which DSTU3 does not know
    assertThat(r.headers().allValues("X-FHIR-Request-Validation"))
        .anySatisfy(h -> assertThat(h).contains("http://terminology.hl7.org/CodeSystem/v3-ParticipationType"));
  }
}
