package io.appointmentserver.rest;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.Config;
import io.appointmentserver.ehealth.SeedExchangeTest;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hl7.fhir.dstu3.model.CapabilityStatement;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code FHIR_SERVICE=patient}: the server declares and answers exactly the eHealth patient
 * service's CapabilityStatement ({@code patient.xml}), less the documented gaps, and answers
 * anything else as that service (a HAPI server) answers what it has no method for. One server of
 * its own, on a database of its own, whose fixtures a server without the surface wrote before.
 */
class DeclaredSurfaceTest {
  private static final String PATIENT_XML = "ehealth-ig/resources/capabilitystatement/patient.xml";
  /** Declared search parameters this server does not answer (docs/api.md, "The declared surface"). */
  private static final Map<String, Set<String>> SEARCH_GAPS = Map.of(
      "Appointment", Set.of("_language", "based-on"),
      "CodeSystem", Set.of("_filter", "_language", "_source"),
      "Communication", Set.of("_filter", "_language", "recipientIdentifier"),
      "RelatedPerson", Set.of("_language"),
      "SearchParameter", Set.of("_filter", "_language", "_source", "sp-unique-url"),
      "StructureDefinition", Set.of("_filter", "_language", "_source", "sd-unique-url"),
      "ValueSet", Set.of("_filter", "_language", "_source"));
  /**
   * Declared operations this server lacks, by their definitions' ids ({@code $trigger-subscription}
   * is served on an instance only); {@code $expunge} is off here.
   */
  private static final Set<String> OPERATION_GAPS = Set.of("-s-process-message",
      "Subscription--trigger-subscription",
      "-is-expunge", "-s-expunge", "SearchParameter-i-expunge", "SearchParameter--expunge");

  private static AppointmentServer server;
  private static String base;
  private static CapabilityStatement declared;

  @BeforeAll
  static void start() throws Exception {
    Config config = TestServer.withFreshDatabase(TestServer.config(), "declared_surface");
    // what the patient service cannot write through REST, written by the general server first
    try (AppointmentServer general = TestServer.another(c -> config.withoutIg())) {
      String at = general.baseUrl();
      assertThat(Http.put(at + "/Patient/240", SeedExchangeTest.PATIENT_240).statusCode()).isEqualTo(201);
      assertThat(Http.put(at + "/Observation/obs1", "{\"resourceType\":\"Observation\",\"id\":\"obs1\","
          + "\"status\":\"final\",\"code\":{\"text\":\"pulse\"}}").statusCode()).isEqualTo(201);
      assertThat(Http.put(at + "/Person/p1", "{\"resourceType\":\"Person\",\"id\":\"p1\"}").statusCode()).isEqualTo(201);
    }
    server = TestServer.another(c -> config.withService(Config.Service.PATIENT));
    base = server.baseUrl();
    declared = FhirContext.forDstu3Cached().newXmlParser().parseResource(CapabilityStatement.class,
        Files.readString(TestServer.sharedDir().resolve(PATIENT_XML)));
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void metadataIsThePatientServicesStatementLessTheDocumentedGaps() {
    JsonNode cs = CapabilityStatementTest.metadata(base);
    JsonNode rest = cs.at("/rest/0");
    List<String> types = new ArrayList<>();
    rest.get("resource").forEach(r -> types.add(r.get("type").asText()));
    assertThat(types).isEqualTo(declared.getRestFirstRep().getResource().stream()
        .map(CapabilityStatementRestResourceComponent::getType).toList());
    Map<String, Set<String>> searchGaps = new TreeMap<>();
    for (CapabilityStatementRestResourceComponent d : declared.getRestFirstRep().getResource()) {
      JsonNode served = CapabilityStatementTest.resource(cs, d.getType());
      assertThat(new TreeSet<>(CapabilityStatementTest.codes(served.path("interaction")))).as(d.getType())
          .isEqualTo(new TreeSet<>(d.getInteraction().stream().map(i -> i.getCode().toCode()).toList()));
      Map<String, String> params = new LinkedHashMap<>();
      served.path("searchParam").forEach(p -> params.put(p.get("name").asText(), p.get("type").asText()));
      for (var p : d.getSearchParam()) {
        if (!p.getType().toCode().equals(params.get(p.getName()))) {
          searchGaps.computeIfAbsent(d.getType(), t -> new TreeSet<>()).add(p.getName());
        }
      }
      assertThat(served.path("profile").path("reference").asText()).isEqualTo(d.getProfile().getReference());
    }
    assertThat(searchGaps).isEqualTo(new TreeMap<>(SEARCH_GAPS));
    assertThat(CapabilityStatementTest.codes(rest.get("interaction"))).containsExactly("transaction");
    List<String> operations = new ArrayList<>();
    rest.get("operation").forEach(o -> operations.add(o.get("name").asText() + " "
        + o.at("/definition/reference").asText()));
    List<String> declaredOperations = new ArrayList<>();
    for (var o : declared.getRestFirstRep().getOperation()) {
      String id = o.getDefinition().getReference().replaceFirst("^.*/OperationDefinition/", "");
      if (!OPERATION_GAPS.contains(id)) {
        declaredOperations.add(o.getName() + " OperationDefinition/" + id);
      }
    }
    assertThat(operations).isEqualTo(declaredOperations);
    // every listed definition reads, as the definition of the method that serves it, at the declared levels
    rest.get("operation").forEach(o -> {
      HttpResponse<String> def = Http.get(base + "/" + o.at("/definition/reference").asText());
      assertThat(def.statusCode()).as(def.body()).isEqualTo(200);
      assertThat(Json.parse(def.body()).get("code").asText()).isEqualTo(o.get("name").asText());
    });
    JsonNode meta = Json.parse(Http.get(base + "/OperationDefinition/-s-meta").body());
    assertThat(meta.get("id").asText()).isEqualTo("-s-meta");
    assertThat(meta.get("code").asText()).isEqualTo("meta");
    assertThat(List.of(meta.path("system").asBoolean(), meta.path("type").asBoolean(), meta.path("instance").asBoolean()))
        .containsExactly(true, false, false);
    JsonNode createPatient = Json.parse(Http.get(base + "/OperationDefinition/Patient--createPatient").body());
    assertThat(createPatient.get("code").asText()).isEqualTo("createPatient");
    assertThat(createPatient.at("/resource/0").asText()).isEqualTo("Patient");
    assertThat(createPatient.path("type").asBoolean()).isTrue();
    // this server's own: software, implementation, security
    assertThat(cs.at("/software/name").asText()).isEqualTo("Appointment Server");
    assertThat(cs.at("/implementation/url").asText()).isEqualTo(base);
    assertThat(cs.at("/instantiates/0").asText()).isEqualTo(declared.getUrl());
    assertThat(rest.at("/security/description").asText()).contains("Dev mode");
  }

  @Test
  void anUndeclaredTypeIsAnUnknownOne() {
    String knows = "Server knows how to handle: [Appointment, CodeSystem, Communication, OperationDefinition,"
        + " Patient, Person, RelatedPerson, SearchParameter, StructureDefinition, Subscription, ValueSet]";
    // obs1 is stored: the fast read path refuses it too
    for (HttpResponse<String> r : List.of(Http.get(base + "/Observation/obs1"), Http.get(base + "/Observation/obs1/_history/1"),
        Http.get(base + "/Observation?code=x"), Http.post(base + "/Observation", "{\"resourceType\":\"Observation\"}"),
        Http.post(base + "/Observation/$validate", "{\"resourceType\":\"Parameters\"}"))) {
      assertThat(r.statusCode()).as(r.body()).isEqualTo(404);
      assertThat(Json.parse(r.body()).at("/issue/0/diagnostics").asText())
          .isEqualTo("HAPI-0302: Unknown resource type 'Observation' - " + knows);
    }
    HttpResponse<String> batch = Http.post(base, "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{"
        + "\"request\":{\"method\":\"GET\",\"url\":\"Observation/obs1\"}}]}");
    assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
    assertThat(Json.parse(batch.body()).at("/entry/0/response/status").asText()).startsWith("404");
  }

  @Test
  void anUndeclaredInteractionIsOneNoMethodBinds() {
    // HAPI's own answer for an operation no method binds, which the undeclared ones repeat
    HttpResponse<String> unbound = Http.post(base + "/Appointment/$nonexistent", "{\"resourceType\":\"Parameters\"}");
    assertThat(unbound.statusCode()).isEqualTo(400);
    assertThat(Json.parse(unbound.body()).at("/issue/0/diagnostics").asText()).isEqualTo("Invalid request: The FHIR"
        + " endpoint on this server does not know how to handle POST operation[Appointment/$nonexistent] with parameters [[]]");
    Map<String, HttpResponse<String>> undeclared = new LinkedHashMap<>();
    undeclared.put("DELETE operation[Patient/240]", Http.send("DELETE", base + "/Patient/240", null));
    undeclared.put("PUT operation[Patient/240]", Http.put(base + "/Patient/240", SeedExchangeTest.PATIENT_240));
    undeclared.put("POST operation[Patient]", Http.post(base + "/Patient", "{\"resourceType\":\"Patient\"}"));
    undeclared.put("DELETE operation[Appointment/309]", Http.send("DELETE", base + "/Appointment/309", null));
    undeclared.put("GET operation[Patient/240/_history]", Http.get(base + "/Patient/240/_history"));
    undeclared.put("GET operation[Patient/240/$everything]", Http.get(base + "/Patient/240/$everything"));
    undeclared.put("GET operation[Person/p1]", Http.get(base + "/Person/p1")); // stored: not the fast read either
    undeclared.put("GET operation[OperationDefinition/x/_history/1]", Http.get(base + "/OperationDefinition/x/_history/1"));
    undeclared.put("GET operation[_history]", Http.get(base + "/_history"));
    undeclared.put("GET operation[]", Http.get(base + "?_type=Patient&_id=240"));
    undeclared.put("POST operation[Subscription/$trigger-subscription]", Http.post(base + "/Subscription/$trigger-subscription",
        "{\"resourceType\":\"Parameters\"}"));
    undeclared.forEach((what, r) -> {
      assertThat(r.statusCode()).as(what + ": " + r.body()).isEqualTo(400);
      assertThat(Json.parse(r.body()).at("/issue/0/code").asText()).isEqualTo("not-supported");
      assertThat(Json.parse(r.body()).at("/issue/0/diagnostics").asText()).as(what)
          .startsWith("Invalid request: The FHIR endpoint on this server does not know how to handle " + what);
    });
    // in a transaction, the entry fails it; Patient/240 is still there
    HttpResponse<String> transaction = Http.post(base, "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{"
        + "\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/240\"}}]}");
    assertThat(transaction.statusCode()).as(transaction.body()).isEqualTo(400);
    assertThat(transaction.body()).contains("does not know how to handle DELETE operation[Patient/240]");
    assertThat(Http.get(base + "/Patient/240").statusCode()).isEqualTo(200);
  }

  @Test
  void aDeclaredSearchParameterIsAnsweredAnUndeclaredOneIsUnknown() {
    HttpResponse<String> byId = Http.get(base + "/Patient?_id=240");
    assertThat(byId.statusCode()).as(byId.body()).isEqualTo(200);
    assertThat(Json.parse(byId.body()).get("total").asInt()).isEqualTo(1);
    // Patient declares _id and identifier only; name is a DSTU3 parameter the general server answers
    HttpResponse<String> byName = Http.get(base + "/Patient?name=Hansen");
    assertThat(byName.statusCode()).as(byName.body()).isEqualTo(400);
    assertThat(Json.parse(byName.body()).at("/issue/0/diagnostics").asText())
        .isEqualTo("Unknown search parameter name for Patient");
    assertThat(Http.get(base + "/Patient?name:exact=Hansen").statusCode()).isEqualTo(400);
    // as an unknown one: ignored under lenient handling, and left out of the links
    HttpResponse<String> lenient = Http.get(base + "/Patient?_id=240&name=Nobody", "Prefer", "handling=lenient");
    assertThat(lenient.statusCode()).as(lenient.body()).isEqualTo(200);
    assertThat(Json.parse(lenient.body()).get("total").asInt()).isEqualTo(1);
    assertThat(Json.parse(lenient.body()).at("/link/0/url").asText()).doesNotContain("name");
    HttpResponse<String> appointments = Http.get(base + "/Appointment?patient=Patient/240&_count=1");
    assertThat(appointments.statusCode()).as(appointments.body()).isEqualTo(200);
    // _has: declared for Appointment (and answered), not for Patient
    assertThat(Http.get(base + "/Appointment?_has:Communication:based-on:status=completed").statusCode()).isEqualTo(200);
    assertThat(Http.get(base + "/Patient?_has:Appointment:patient:status=booked").statusCode()).isEqualTo(400);
    // declared, but not answered by this server (a gap: not in /metadata): refused as today
    HttpResponse<String> gap = Http.get(base + "/Appointment?_language=da");
    assertThat(gap.statusCode()).as(gap.body()).isEqualTo(400);
  }

  @Test
  void theSeedExchangeStillAnswersAsRecorded() throws Exception {
    SeedExchangeTest.replay(base);
  }
}
