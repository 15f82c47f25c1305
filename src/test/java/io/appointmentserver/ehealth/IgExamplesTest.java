package io.appointmentserver.ehealth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The example instances of the eHealth IG ({@code examples/}) other than the Appointments (those
 * are {@link IgAppointmentExamplesTest}'s), written as the IG gives them, in XML, to the shared
 * test server, which validates them against the built-in eHealth IG (release 2020.8) as the
 * eHealth service would. All their references are absolute, to other servers, so nothing has to
 * exist first.
 *
 * <p>An example named {@code *-valid*} is accepted unless it does not conform to the 2020.8
 * definitions it claims; three do not (written for other versions of the profiles, despite their
 * names): for each, the test names every defect against the definitions and shows that the example
 * with just those defects corrected is accepted, so the server refuses nothing else in it. An
 * example named {@code *-invalid*} is refused (the 2020.8 examples have none; one added to the
 * folder is checked by {@link #everyInvalidExampleIsRefused}). The two Practitioner examples are
 * HL7 Switzerland's (FHIR R4, claiming a Swiss profile): refused for that.
 */
class IgExamplesTest {
  private static final String SD = "http://ehealth.sundhed.dk/fhir/StructureDefinition/";

  private static Path examples() {
    return TestServer.sharedDir().resolve("ehealth-ig").resolve("examples");
  }

  private static List<String> exampleNames() throws IOException {
    try (Stream<Path> walk = Files.walk(examples())) {
      return walk.filter(p -> p.toString().endsWith(".xml"))
          .map(p -> examples().relativize(p).toString()).sorted().toList();
    }
  }

  @Test
  void everyExampleOfTheIgIsCoveredHereOrByTheAppointmentTest() throws IOException {
    assertThat(exampleNames()).containsExactly(
        "appointment/appointment-valid.xml", "appointment/videoappointment-valid.xml",
        "communication/correspondance-all-types.xml", "communication/message-careteam-valid.xml",
        "communication/message-nemsms-valid.xml", "patient/patient-valid.xml",
        "practitioner/AgparMarc.xml", "practitioner/HanspeterWengerByBFH.xml",
        "relatedperson/relatedperson-valid.xml");
  }

  @Test
  void conformingExamplesAreAcceptedAndReadBackAsGiven() throws IOException {
    for (String name : List.of("relatedperson/relatedperson-valid.xml", "communication/correspondance-all-types.xml")) {
      String xml = Files.readString(examples().resolve(name));
      ObjectNode given = Json.resource(xml, "application/fhir+xml");
      String path = "/" + given.get("resourceType").asText() + "/" + given.get("id").asText();
      HttpResponse<String> r = Http.put(TestServer.base() + path, xml,
          "Content-Type", "application/fhir+xml", "Accept", "application/fhir+json");
      assertThat(r.statusCode()).as(name + ": " + r.body()).isIn(200, 201);
      HttpResponse<String> read = Http.get(TestServer.base() + path, "Accept", "application/fhir+json");
      assertThat(Json.withoutServerMeta(Json.parse(read.body()), true)).as(name)
          .isEqualTo(Json.withoutServerMeta(given, true));
    }
  }

  @Test
  void everyInvalidExampleIsRefused() throws IOException {
    for (String name : exampleNames()) {
      if (name.contains("-invalid")) {
        String xml = Files.readString(examples().resolve(name));
        ObjectNode given = Json.resource(xml, "application/fhir+xml");
        HttpResponse<String> r = Http.post(TestServer.base() + "/" + given.get("resourceType").asText(), xml,
            "Content-Type", "application/fhir+xml", "Accept", "application/fhir+json");
        assertThat(r.statusCode()).as(name + ": " + r.body()).isIn(400, 422);
        assertThat(errors(r)).as(name).isNotEmpty();
      }
    }
  }

  /**
   * {@code patient-valid.xml} codes its municipality (both addresses) as {@code 751}; the 2020.8
   * code system {@code http://danmarksadresser.dk/kommunekode} (complete, case-sensitive) has the
   * four-digit {@code 0751} (Aarhus), and {@code ehealth-municipality-code} binds it (required).
   */
  @Test
  void patientExampleCodesItsMunicipalityWithTheWrongCodeButItsCorrectionIsAccepted() throws IOException {
    ObjectNode given = example("patient/patient-valid.xml");
    assertThat(given.at("/meta/profile/0").asText()).isEqualTo(SD + "ehealth-patient");

    HttpResponse<String> r = put(given);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    assertThat(errors(r)).hasSize(4).allSatisfy(e -> assertThat(e)
        .matches("Patient\\.address\\[[01]]\\.extension\\[0]\\.value\\.ofType\\(Coding\\)\\.code: .*")
        .containsAnyOf("Unknown code 'http://danmarksadresser.dk/kommunekode#751'",
            "('751') was not found in the value set 'MunicipalityCodes'"));

    ObjectNode corrected = given.deepCopy();
    for (JsonNode address : corrected.get("address")) {
      ObjectNode coding = (ObjectNode) address.at("/extension/0/valueCoding");
      assertThat(coding.get("code").asText()).isEqualTo("751");
      coding.put("system", "http://danmarksadresser.dk/kommunekode").put("code", "0751");
    }
    HttpResponse<String> accepted = put(corrected);
    assertThat(accepted.statusCode()).as(accepted.body()).isIn(200, 201);
  }

  /**
   * The two message examples against {@code ehealth-message} (2020.8): the profile requires the
   * {@code ehealth-administrative-status} extension (slice {@code administrativeStatus}, 1..1),
   * which neither has, and a category coded in {@code http://ehealth.sundhed.dk/cs/message-category}
   * (slice {@code DkTmCategory}, 1..1, fixed system), where they have
   * {@code http://ehealth.sundhed.dk/message-category}. The NemSMS example also breaks
   * {@code message-invariant}: a {@code message} goes to a patient from a care team or device, or
   * to a care team from a patient or device; it is addressed to a practitioner from a patient with
   * no care team. Corrected: the status {@code activate}, the category's system, and for the
   * NemSMS (a notice to the citizen) the patient as recipient and the practitioner as sender on
   * behalf of a care team ({@code ehealth-communication-senderCareTeam}). The server's rule
   * refuses the broken invariant by its name before the profile is validated. A Communication
   * claiming an eHealth profile takes no PUT: they are POSTed.
   */
  @Test
  void messageExamplesMissTheAdministrativeStatusAndCategoryButTheirCorrectionsAreAccepted() throws IOException {
    for (String name : List.of("communication/message-careteam-valid.xml", "communication/message-nemsms-valid.xml")) {
      ObjectNode given = example(name);
      assertThat(given.at("/meta/profile/0").asText()).isEqualTo(SD + "ehealth-message");
      given.remove("id");
      ObjectNode keepsInvariants = given.deepCopy();
      ArrayNode extensions = keepsInvariants.has("extension") ? (ArrayNode) keepsInvariants.get("extension")
          : keepsInvariants.putArray("extension");
      if (name.contains("nemsms")) {
        HttpResponse<String> r = postJson(given);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
        assertThat(errors(r)).singleElement().asString().contains("Rule message-invariant violated");
        JsonNode patient = keepsInvariants.get("sender").deepCopy();
        assertThat(patient.get("reference").asText()).contains("/Patient/");
        keepsInvariants.set("sender", keepsInvariants.at("/recipient/0").deepCopy());
        ((ArrayNode) keepsInvariants.get("recipient")).set(0, patient);
        extensions.addObject().put("url", SD + "ehealth-communication-senderCareTeam").putObject("valueReference")
            .put("reference", "https://inttest.ehealth.sundhed.dk/organization/fhir/CareTeam/49");
      }

      HttpResponse<String> r = postJson(keepsInvariants);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
      assertThat(errors(r)).as(name).hasSize(2)
          .anySatisfy(e -> assertThat(e).contains("Communication.extension:administrativeStatus")
              .contains("a matching slice is required"))
          .anySatisfy(e -> assertThat(e).contains("Communication.category:DkTmCategory")
              .contains("a matching slice is required"));

      ObjectNode corrected = keepsInvariants.deepCopy();
      ((ArrayNode) corrected.get("extension")).addObject().put("url", SD + "ehealth-administrative-status")
          .putObject("valueCoding").put("system", "http://ehealth.sundhed.dk/cs/administrative-status")
          .put("code", "activate");
      ObjectNode category = (ObjectNode) corrected.at("/category/0/coding/0");
      assertThat(category.get("system").asText()).isEqualTo("http://ehealth.sundhed.dk/message-category");
      category.put("system", "http://ehealth.sundhed.dk/cs/message-category");
      HttpResponse<String> accepted = postJson(corrected);
      assertThat(accepted.statusCode()).as(name + ": " + accepted.body()).isEqualTo(201);
    }
  }

  private static HttpResponse<String> postJson(ObjectNode resource) {
    return Http.post(TestServer.base() + "/" + resource.get("resourceType").asText(), resource.toString());
  }

  /**
   * The Practitioner examples are HL7 Switzerland's, in FHIR R4: {@code AgparMarc.xml} claims
   * {@code ch-core-practitioner}, a profile this server does not know (refused, as any unknown
   * profile); {@code HanspeterWengerByBFH.xml} has {@code meta.source}, an R4 element DSTU3 lacks.
   */
  @Test
  void swissR4PractitionerExamplesAreRefusedForWhatTheyAre() throws IOException {
    HttpResponse<String> agpar = post("practitioner/AgparMarc.xml");
    assertThat(agpar.statusCode()).as(agpar.body()).isEqualTo(422);
    assertThat(errors(agpar)).singleElement().asString()
        .contains("http://fhir.ch/ig/ch-core/StructureDefinition/ch-core-practitioner").contains("could not be found");

    HttpResponse<String> wenger = post("practitioner/HanspeterWengerByBFH.xml");
    assertThat(wenger.statusCode()).as(wenger.body()).isEqualTo(400);
    assertThat(errors(wenger)).singleElement().asString().contains("Unknown element 'source'");
  }

  private static ObjectNode example(String name) throws IOException {
    return Json.resource(Files.readString(examples().resolve(name)), "application/fhir+xml");
  }

  private static HttpResponse<String> put(ObjectNode resource) {
    return Http.put(TestServer.base() + "/" + resource.get("resourceType").asText() + "/" + resource.get("id").asText(),
        resource.toString());
  }

  private static HttpResponse<String> post(String name) throws IOException {
    String xml = Files.readString(examples().resolve(name));
    Matcher root = Pattern.compile("<([A-Z][A-Za-z]+)[\\s>]").matcher(xml); // the root element: the type
    assertThat(root.find()).as(name).isTrue();
    String type = root.group(1);
    return Http.post(TestServer.base() + "/" + type, xml,
        "Content-Type", "application/fhir+xml", "Accept", "application/fhir+json");
  }

  /** The error and fatal issues of an OperationOutcome answer, as "expression: diagnostics". */
  private static List<String> errors(HttpResponse<String> r) {
    List<String> out = new ArrayList<>();
    for (JsonNode issue : Json.parse(r.body()).path("issue")) {
      String severity = issue.path("severity").asText();
      if (severity.equals("error") || severity.equals("fatal")) {
        out.add(issue.at("/expression/0").asText("") + ": " + issue.path("diagnostics").asText());
      }
    }
    return out;
  }
}
