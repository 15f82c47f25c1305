package io.appointmentserver.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.Config;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The built-in eHealth IG: known without being configured, turned off by {@code FHIR_IG=none},
 * and overlaid by {@code FHIR_IG_PATH}, whose definitions replace built-in ones of the same
 * canonical URL and leave the others in place.
 */
class IgBuiltInTest {
  private static final String SD = "http://ehealth.sundhed.dk/fhir/StructureDefinition/";

  @BeforeAll
  static void patient() {
    // the seed appointment's patient (every server of the test shares the database)
    assertThat(Http.put(TestServer.base() + "/Patient/240",
        "{\"resourceType\":\"Patient\",\"id\":\"240\",\"name\":[{\"family\":\"Hansen\"}]}").statusCode())
        .isIn(200, 201);
  }

  private static ObjectNode seedAppointment(String id) throws Exception {
    ObjectNode a = Json.parse(Files.readString(TestServer.sharedDir().resolve("seed").resolve("request-body.json")));
    a.put("id", id);
    return a;
  }

  @Test
  void theEhealthProfilesAreKnownWithoutConfigurationAndUnknownWithFhirIgNone() throws Exception {
    assertThat(TestServer.config().builtInIg()).isTrue();
    assertThat(TestServer.config().igPaths()).isEmpty();
    HttpResponse<String> known = Http.put(TestServer.base() + "/Appointment/builtin-ig-1",
        seedAppointment("builtin-ig-1").toString());
    assertThat(known.statusCode()).as(known.body()).isIn(200, 201);

    try (AppointmentServer none = TestServer.another(Config::withoutIg)) {
      HttpResponse<String> unknown = Http.put(none.baseUrl() + "/Appointment/builtin-ig-2",
          seedAppointment("builtin-ig-2").toString());
      assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(422);
      assertThat(Json.parse(unknown.body()).at("/issue/0/diagnostics").asText())
          .contains(SD + "ehealth-appointment").contains("could not be found");
      assertThat(Http.get(none.baseUrl() + "/Appointment/builtin-ig-2").statusCode()).isEqualTo(404);
    }
  }

  @Test
  void aFurtherPackageReplacesTheBuiltInDefinitionOfItsUrlAndKeepsTheOthers() throws Exception {
    Path tgz = Files.createTempFile("ig-newer-", ".tgz");
    try {
      // a "newer release" whose ehealth-patient asks for Patient.animal (and nothing else)
      ProfileValidationTest.writePackage(tgz, List.of(
          new String[] {"package/package.json",
              "{\"name\":\"dk.ehealth.sundhed.fhir.ig.core\",\"version\":\"2099.1\",\"fhirVersions\":[\"3.0.1\"]}"},
          new String[] {"package/StructureDefinition-ehealth-patient.json",
              ProfileValidationTest.patientProfile("ehealth-patient", SD + "ehealth-patient", "animal")}));
      String patient = ProfileValidationTest.patientClaiming(SD + "ehealth-patient", "");

      List<String> builtIn = errors(Http.post(TestServer.base() + "/Patient", patient));
      assertThat(builtIn).isNotEmpty().noneSatisfy(e -> assertThat(e).contains("Patient.animal"));

      try (AppointmentServer newer = TestServer.another(c -> c.withIgPath(tgz))) {
        List<String> replaced = errors(Http.post(newer.baseUrl() + "/Patient", patient));
        assertThat(replaced).singleElement().asString().contains("Patient.animal");
        // the built-in definitions the package does not redefine are still there
        HttpResponse<String> seed = Http.put(newer.baseUrl() + "/Appointment/builtin-ig-3",
            seedAppointment("builtin-ig-3").toString());
        assertThat(seed.statusCode()).as(seed.body()).isIn(200, 201);
      }
    } finally {
      Files.deleteIfExists(tgz);
    }
  }

  @Test
  void anUnknownFhirIgValueOrABrokenPackageStopsTheStartWithAClearMessage() throws Exception {
    assertThatThrownBy(() -> Config.from(Map.of("FHIR_IG", "ehealth-2019")))
        .hasMessage("FHIR_IG must be ehealth or none, not ehealth-2019");

    Path broken = Files.createTempFile("ig-broken-", ".tgz");
    try {
      Files.write(broken, new byte[] {0x1f, (byte) 0x8b, 8, 0, 1, 2, 3}); // a truncated gzip stream
      assertThatThrownBy(() -> TestServer.another(c -> c.withIgPath(broken)))
          .hasMessageContaining("FHIR_IG_PATH " + broken + " is not a readable IG package");
    } finally {
      Files.deleteIfExists(broken);
    }
  }

  private static List<String> errors(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    List<String> out = new ArrayList<>();
    for (JsonNode issue : Json.parse(r.body()).path("issue")) {
      if (issue.path("severity").asText().equals("error")) {
        out.add(issue.at("/expression/0").asText("") + ": " + issue.path("diagnostics").asText());
      }
    }
    return out;
  }
}
