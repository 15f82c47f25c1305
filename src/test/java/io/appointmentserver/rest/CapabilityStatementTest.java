package io.appointmentserver.rest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code /metadata} says what the running server does: each claim is checked against the
 * server's answers (every listed interaction answers, conditional delete as configured, the
 * operation at the level of its definition, the security of the configured issuer).
 */
class CapabilityStatementTest {
  static final String BASE = TestServer.base();

  static ObjectNode metadata(String base) {
    HttpResponse<String> r = Http.get(base + "/metadata", "Authorization", Http.NO_AUTH, "Cache-Control", "no-cache");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Json.parse(r.body());
  }

  static JsonNode resource(JsonNode cs, String type) {
    for (JsonNode r : cs.get("rest").get(0).get("resource")) {
      if (r.get("type").asText().equals(type)) {
        return r;
      }
    }
    throw new AssertionError("no " + type + " in the CapabilityStatement");
  }

  static List<String> codes(JsonNode interactions) {
    List<String> codes = new ArrayList<>();
    interactions.forEach(i -> codes.add(i.get("code").asText()));
    return codes;
  }

  @Test
  void theFhirVersionIsTheSeeds() throws Exception {
    String seedAgent = Files.readString(TestServer.sharedDir().resolve("seed").resolve("request-headers.txt"));
    assertThat(seedAgent).contains("FHIR 3.0.1/DSTU3");
    HttpResponse<String> r = Http.get(BASE + "/metadata", "Authorization", Http.NO_AUTH);
    assertThat(Json.parse(r.body()).get("fhirVersion").asText()).isEqualTo("3.0.1");
    assertThat(r.headers().firstValue("X-Powered-By").orElseThrow()).contains("FHIR 3.0.1/DSTU3").doesNotContain("3.0.2");
    // and on a resource HAPI answers (XML)
    Http.put(BASE + "/Patient/cap-version", "{\"resourceType\":\"Patient\",\"id\":\"cap-version\"}");
    HttpResponse<String> xml = Http.get(BASE + "/Patient/cap-version", "Accept", "application/fhir+xml");
    assertThat(xml.statusCode()).isEqualTo(200);
    assertThat(xml.headers().firstValue("X-Powered-By").orElseThrow()).contains("FHIR 3.0.1/DSTU3");
  }

  @Test
  void theSoftwareIsThisBuild() throws Exception {
    Matcher m = Pattern.compile("<artifactId>appointment-server</artifactId>\\s*<version>([^<]+)</version>")
        .matcher(Files.readString(Path.of("pom.xml")));
    assertThat(m.find()).isTrue();
    JsonNode software = metadata(BASE).get("software");
    assertThat(software.get("name").asText()).isEqualTo("Appointment Server");
    assertThat(software.get("version").asText()).isEqualTo(m.group(1));
  }

  @Test
  void devModeSaysSoAndNamesNoTokenEndpoint() {
    JsonNode security = metadata(BASE).get("rest").get(0).get("security");
    assertThat(security.get("description").asText()).contains("Dev mode").contains("token");
    assertThat(security.toString()).doesNotContain("oauth-uris").doesNotContain("\"OAuth\"");
    assertThat(security.get("cors").asBoolean()).isFalse();
    assertThat(Http.get(BASE + "/Patient/cap-version", "Authorization", Http.NO_AUTH).statusCode()).isEqualTo(401);
    assertThat(Http.get(BASE + "/Patient/cap-version", "Origin", "http://example.org").headers()
        .firstValue("Access-Control-Allow-Origin")).isEmpty();
  }

  @Test
  void withAnIssuerTheSecurityIsOAuthWithKeycloaksEndpoints() throws Exception {
    Path jwks = Files.createTempFile("jwks", ".json");
    Files.writeString(jwks, "{\"keys\":[]}");
    String issuer = "https://idp.example.org/realms/ehealth";
    try (AppointmentServer server = TestServer.another(c -> c.withAuth(issuer, jwks.toUri().toString()))) {
      JsonNode security = metadata(server.baseUrl()).get("rest").get(0).get("security");
      JsonNode coding = security.get("service").get(0).get("coding").get(0);
      assertThat(coding.get("system").asText()).isEqualTo("http://hl7.org/fhir/restful-security-service");
      assertThat(coding.get("code").asText()).isEqualTo("OAuth");
      JsonNode uris = security.get("extension").get(0);
      assertThat(uris.get("url").asText()).isEqualTo("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
      Map<String, String> endpoints = new java.util.HashMap<>();
      uris.get("extension").forEach(e -> endpoints.put(e.get("url").asText(), e.get("valueUri").asText()));
      assertThat(endpoints).containsEntry("token", issuer + "/protocol/openid-connect/token")
          .containsEntry("authorize", issuer + "/protocol/openid-connect/auth");
      assertThat(security.get("description").asText()).contains(issuer);
      // the dev key is refused there: the statement's issuer is the one that counts
      assertThat(Http.get(server.baseUrl() + "/Patient/cap-version").statusCode()).isEqualTo(401);
    } finally {
      Files.deleteIfExists(jwks);
    }
  }

  /** Every interaction listed for a type answers; each type lists the same (one provider serves all). */
  @Test
  void everyTypeInteractionListedAnswers() {
    JsonNode cs = metadata(BASE);
    List<String> listed = codes(resource(cs, "Patient").get("interaction"));
    for (JsonNode type : cs.get("rest").get(0).get("resource")) {
      assertThat(codes(type.get("interaction"))).as(type.get("type").asText()).containsExactlyInAnyOrderElementsOf(listed);
    }
    String id = "cap-" + UUID.randomUUID().toString().substring(0, 8);
    String patient = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"Cap\"}]}";
    // in an order in which each has something to act on; delete last
    List<String> order = List.of("update", "read", "vread", "patch", "history-instance", "history-type", "create",
        "search-type", "delete");
    assertThat(order).containsAll(listed);
    for (String code : order) {
      if (!listed.contains(code)) {
        continue;
      }
      HttpResponse<String> r = switch (code) {
        case "update" -> Http.put(BASE + "/Patient/" + id, patient);
        case "read" -> Http.get(BASE + "/Patient/" + id);
        case "vread" -> Http.get(BASE + "/Patient/" + id + "/_history/1");
        case "patch" -> Http.send("PATCH", BASE + "/Patient/" + id,
            "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"Patched\"}]",
            "Content-Type", "application/json-patch+json");
        case "history-instance" -> Http.get(BASE + "/Patient/" + id + "/_history");
        case "history-type" -> Http.get(BASE + "/Patient/_history?_count=1");
        case "create" -> Http.post(BASE + "/Patient", "{\"resourceType\":\"Patient\"}");
        case "search-type" -> Http.get(BASE + "/Patient?_id=" + id);
        case "delete" -> Http.send("DELETE", BASE + "/Patient/" + id, null);
        default -> throw new AssertionError(code);
      };
      assertThat(r.statusCode()).as(code + ": " + r.body()).isBetween(200, 201);
    }
  }

  @Test
  void systemInteractionsListedAnswer() {
    List<String> listed = codes(metadata(BASE).get("rest").get(0).get("interaction"));
    assertThat(listed).containsExactlyInAnyOrder("transaction", "batch", "history-system", "search-system");
    for (String type : List.of("transaction", "batch")) {
      HttpResponse<String> r = Http.post(BASE, "{\"resourceType\":\"Bundle\",\"type\":\"" + type
          + "\",\"entry\":[{\"request\":{\"method\":\"GET\",\"url\":\"Patient?_count=1\"}}]}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(Json.parse(r.body()).get("type").asText()).isEqualTo(type + "-response");
    }
    assertThat(Http.get(BASE + "/_history?_count=1").statusCode()).isEqualTo(200);
    assertThat(Http.get(BASE + "?_type=Patient&_id=cap-version").statusCode()).isEqualTo(200);
  }

  @Test
  void updateCreatesVersionedUpdateAndJsonPatchAreWhatTheServerDoes() {
    JsonNode cs = metadata(BASE);
    JsonNode patient = resource(cs, "Patient");
    assertThat(patient.get("updateCreate").asBoolean()).isTrue();
    assertThat(patient.get("versioning").asText()).isEqualTo("versioned-update");
    assertThat(cs.get("patchFormat").get(0).asText()).isEqualTo("application/json-patch+json");
    String id = "cap-" + UUID.randomUUID().toString().substring(0, 8);
    String body = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}";
    assertThat(Http.put(BASE + "/Patient/" + id, body).statusCode()).isEqualTo(201);
    assertThat(Http.put(BASE + "/Patient/" + id, body, "If-Match", "W/\"1\"").statusCode()).isEqualTo(200);
    HttpResponse<String> stale = Http.put(BASE + "/Patient/" + id, body, "If-Match", "W/\"1\"");
    assertThat(stale.statusCode()).as(stale.body()).isIn(409, 412);
    // conditionalCreate and conditionalUpdate, as listed
    assertThat(patient.get("conditionalCreate").asBoolean()).isTrue();
    assertThat(patient.get("conditionalUpdate").asBoolean()).isTrue();
    assertThat(Http.post(BASE + "/Patient", "{\"resourceType\":\"Patient\"}", "If-None-Exist", "_id=" + id)
        .statusCode()).isEqualTo(200);
    assertThat(Http.put(BASE + "/Patient?_id=" + id, body).statusCode()).isEqualTo(200);
  }

  @Test
  void conditionalDeleteIsAsConfigured() throws Exception {
    String family = "CapDel" + UUID.randomUUID().toString().substring(0, 8);
    String criteria = "/Patient?family=" + family;
    assertThat(resource(metadata(BASE), "Patient").get("conditionalDelete").asText()).isEqualTo("single");
    for (int i = 0; i < 2; i++) {
      Http.post(BASE + "/Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}");
    }
    assertThat(Http.send("DELETE", BASE + criteria, null).statusCode()).isEqualTo(412);
    try (AppointmentServer multiple = TestServer.another(c -> c.withConditionalDeleteMultiple(true))) {
      assertThat(resource(metadata(multiple.baseUrl()), "Patient").get("conditionalDelete").asText())
          .isEqualTo("multiple");
      assertThat(Http.send("DELETE", multiple.baseUrl() + criteria, null).statusCode()).isBetween(200, 204);
      assertThat(Json.parse(Http.get(BASE + criteria).body()).get("total").asInt()).isZero();
    }
  }

  /** {@code $exportAsiCal}: the eHealth definition, and the server answers at the level it defines. */
  @Test
  void exportAsiCalRefersToTheIgDefinitionAndAnswersAtItsLevel() throws Exception {
    JsonNode op = null;
    for (JsonNode o : metadata(BASE).get("rest").get(0).get("operation")) {
      if (o.get("name").asText().equals("exportAsiCal")) {
        op = o;
      }
    }
    assertThat(op).isNotNull();
    String definition = op.get("definition").get("reference").asText();
    String ig = Files.readString(TestServer.sharedDir().resolve("ehealth-ig/resources/operationdefinition/ehealth-appointment-toical.xml"));
    assertThat(ig).contains("<url value=\"" + definition + "\"").contains("<code value=\"exportAsiCal\"")
        .contains("<resource value=\"Appointment\"").contains("<instance value=\"true\"")
        .contains("<type value=\"false\"").contains("<system value=\"false\"");

    ObjectNode a = Appointments.seed();
    Http.put(BASE + "/Patient/240", "{\"resourceType\":\"Patient\",\"id\":\"240\"}");
    assertThat(Http.put(BASE + "/Appointment/" + a.get("id").asText(), a.toString()).statusCode()).isEqualTo(201);
    List<String> roles = new ArrayList<>(List.of("Appointment.*", "Appointment$exportAsiCal", "$exportAsiCal"));
    String token = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", roles, Map.of(), null, 300);
    assertThat(Http.get(BASE + "/Appointment/" + a.get("id").asText() + "/$exportAsiCal", "Authorization", token)
        .statusCode()).isEqualTo(200);
    for (String other : List.of("/Appointment/$exportAsiCal", "/$exportAsiCal")) {
      int status = Http.get(BASE + other, "Authorization", token).statusCode();
      assertThat(status).as(other).isBetween(400, 499);
    }
  }

  @Test
  void everyResourceTypeIsListedOnce() {
    TreeSet<String> types = new TreeSet<>();
    for (JsonNode r : metadata(BASE).get("rest").get(0).get("resource")) {
      assertThat(types.add(r.get("type").asText())).isTrue();
    }
    assertThat(types).containsAll(Json.FHIR.getResourceTypes());
  }

  /**
   * Every operation /metadata lists, at the system level and per type, refers to a definition that
   * a read returns, in JSON and XML, with the operation's code and the level it is listed at; a
   * stored OperationDefinition is read as stored in both formats.
   */
  @Test
  void everyListedOperationHasADefinitionThatReadsBack() {
    ObjectNode cs = metadata(BASE);
    List<JsonNode> listed = new ArrayList<>();
    cs.get("rest").get(0).path("operation").forEach(listed::add);
    for (JsonNode r : cs.get("rest").get(0).get("resource")) {
      r.path("operation").forEach(listed::add);
    }
    assertThat(listed.stream().map(o -> o.get("name").asText()))
        .contains("validate", "meta", "meta-add", "meta-delete", "get-resource-counts", "snapshot", "generateSnapshot",
            "exportAsiCal");
    for (JsonNode op : listed) {
      String ref = op.get("definition").get("reference").asText();
      if (ref.startsWith("http")) {
        continue; // an eHealth definition, by its canonical URL (exportAsiCal: checked above)
      }
      HttpResponse<String> json = Http.get(BASE + "/" + ref);
      assertThat(json.statusCode()).as(ref + " " + json.body()).isEqualTo(200);
      JsonNode definition = Json.parse(json.body());
      assertThat(definition.get("resourceType").asText()).isEqualTo("OperationDefinition");
      assertThat(definition.get("code").asText()).as(ref).isEqualTo(op.get("name").asText());
      HttpResponse<String> xml = Http.get(BASE + "/" + ref, "Accept", "application/fhir+xml");
      assertThat(xml.statusCode()).as(ref).isEqualTo(200);
      assertThat(xml.body()).contains("<OperationDefinition").contains("<code value=\"" + op.get("name").asText() + "\"");
    }
    JsonNode counts = Json.parse(Http.get(BASE + "/OperationDefinition/-s-get-resource-counts").body());
    assertThat(counts.get("system").asBoolean()).isTrue();
    assertThat(counts.get("instance").asBoolean()).isFalse();

    String id = "stored-op-" + UUID.randomUUID().toString().substring(0, 8);
    assertThat(Http.put(BASE + "/OperationDefinition/" + id, "{\"resourceType\":\"OperationDefinition\",\"id\":\""
        + id + "\",\"name\":\"mine\",\"status\":\"draft\",\"kind\":\"operation\",\"code\":\"mine\","
        + "\"system\":true,\"type\":false,\"instance\":false}").statusCode()).isEqualTo(201);
    assertThat(Http.get(BASE + "/OperationDefinition/" + id).body()).contains("\"code\":\"mine\"");
    HttpResponse<String> storedXml = Http.get(BASE + "/OperationDefinition/" + id, "Accept", "application/fhir+xml");
    assertThat(storedXml.statusCode()).as(storedXml.body()).isEqualTo(200);
    assertThat(storedXml.body()).contains("<code value=\"mine\"");
    assertThat(Http.get(BASE + "/OperationDefinition/no-such-op", "Accept", "application/fhir+xml").statusCode())
        .isEqualTo(404);
  }
}
