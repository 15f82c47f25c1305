package io.appointmentserver.ehealth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.JsonDiff;
import io.appointmentserver.support.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Appointment examples of the eHealth IG ({@code examples/appointment/*.xml}), created on the
 * shared test server (the IG loaded, so each is validated against the profile it claims) as the IG
 * gives them, in XML: accepted, and read back equal to the example but for what the server sets
 * (the version, {@code meta.lastUpdated}; on POST the id, the eHealth identifier and, for a video
 * appointment, the base {@code ehealth-appointment} profile). All their references are absolute,
 * to other servers ({@code inttest.ehealth.sundhed.dk}), so nothing has to exist first.
 *
 * <p>Excluded: {@code videoappointment-valid.xml}, which does not conform to the 2020.8
 * {@code ehealth-videoappointment} profile it claims (written for an older version of the
 * profiles, despite its name); the test below shows each defect against the profile's own
 * definitions, and that the example with just those defects corrected is accepted.
 */
class IgAppointmentExamplesTest {
  private static final String SD = "http://ehealth.sundhed.dk/fhir/StructureDefinition/";
  private static final String IDENTIFIER = "http://ehealth.sundhed.dk/id/ehealth-identifier";

  private static Path folder() {
    return TestServer.sharedDir().resolve("ehealth-ig").resolve("examples").resolve("appointment");
  }

  private static String example(String name) throws IOException {
    return Files.readString(folder().resolve(name));
  }

  @Test
  void everyAppointmentExampleOfTheIgIsCoveredHere() throws IOException {
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(folder(), "*.xml")) {
      ds.forEach(f -> names.add(f.getFileName().toString()));
    }
    assertThat(names).containsExactlyInAnyOrder("appointment-valid.xml", "videoappointment-valid.xml");
  }

  @Test
  void appointmentExampleIsCreatedWithItsIdAndReadBackAsGiven() throws IOException {
    String xml = example("appointment-valid.xml");
    ObjectNode given = Json.resource(xml, "application/fhir+xml");
    String id = given.get("id").asText();

    HttpResponse<String> r = Http.put(TestServer.base() + "/Appointment/" + id, xml,
        "Content-Type", "application/fhir+xml", "Accept", "application/fhir+json");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertSame(Json.parse(r.body()), given, "1");
    assertSame(read(id), given, "1");
  }

  @Test
  void appointmentExampleIsCreatedByPostAndReadBackAsGivenWithItsEhealthIdentifier() throws IOException {
    String xml = example("appointment-valid.xml");
    ObjectNode given = Json.resource(xml, "application/fhir+xml");

    HttpResponse<String> r = Http.post(TestServer.base() + "/Appointment", xml,
        "Content-Type", "application/fhir+xml", "Accept", "application/fhir+json");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    ObjectNode created = Json.parse(r.body());
    String id = created.get("id").asText();
    assertThat(id).isNotEqualTo(given.get("id").asText());
    ObjectNode expected = withEhealthIdentifier(given.deepCopy().put("id", id), created);
    assertSame(created, expected, "1");
    assertSame(read(id), expected, "1");
  }

  /**
   * {@code videoappointment-valid.xml} against the 2020.8 definitions it is validated with (in
   * {@code resources/structuredefinition/}):
   * <ol>
   * <li>{@code ehealth-meeting-url} has a {@code valueString}; {@code ehealth-ext-meeting-url.xml}
   *     allows {@code valueUri} only;</li>
   * <li>{@code ehealth-responsible} has sub-extensions {@code type} and {@code actor};
   *     {@code Extension-ehealth-responsible.xml} is a simple extension (a {@code valueReference}
   *     to a care team or practitioner) that defines no sub-extensions, and a relative extension
   *     url is only allowed for sub-extensions its extension defines;</li>
   * <li>the reason is coded {@code http://snomed.info/sct|412776001}; the profile binds
   *     {@code Appointment.reason.coding} (required) to {@code vs/appointment-reason}, which
   *     includes only {@code http://ehealth.sundhed.dk/cs/appointment-reason} (that code system has
   *     412776001, as {@code appointment-valid.xml} codes it);</li>
   * <li>{@code videoresponsible-2}: the responsible entity (CareTeam/42) is not among the
   *     participants (Practitioner/42 and a patient); the server's own rule {@code responsible-1}
   *     says the same once the responsible extension has a value.</li>
   * </ol>
   * Its {@code ehealth-pin-code} is not defined in 2020.8 (which has guest and host PIN codes)
   * but unknown extensions are allowed: not a defect. With the four defects corrected, and nothing
   * else changed, the example is accepted: the validator refuses nothing else in it.
   */
  @Test
  void videoAppointmentExampleDoesNotConformToTheProfileItClaimsButItsCorrectionIsAccepted() throws IOException {
    String xml = example("videoappointment-valid.xml");
    ObjectNode given = Json.resource(xml, "application/fhir+xml");
    assertThat(given.at("/meta/profile/0").asText()).isEqualTo(SD + "ehealth-videoappointment");

    HttpResponse<String> r = Http.post(TestServer.base() + "/Appointment", xml,
        "Content-Type", "application/fhir+xml", "Accept", "application/fhir+json");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(422);
    List<String> errors = new ArrayList<>();
    for (JsonNode issue : Json.parse(r.body()).get("issue")) {
      if (issue.get("severity").asText().equals("error")) {
        errors.add(issue.at("/expression/0").asText() + ": " + issue.get("diagnostics").asText());
      }
    }
    assertThat(errors).as("the errors").allSatisfy(e -> assertThat(e).containsAnyOf(
        "ehealth-meeting-url", "Sub-extension url", "ehealth-responsible", "412776001", "videoresponsible-2"));
    assertThat(errors)
        .anySatisfy(e -> assertThat(e).contains("ehealth-meeting-url").contains("found type string"))
        .anySatisfy(e -> assertThat(e).contains("Sub-extension url 'type' is not defined"))
        .anySatisfy(e -> assertThat(e).contains("Sub-extension url 'actor' is not defined"))
        .anySatisfy(e -> assertThat(e).startsWith("Appointment.reason[0].coding[0]: ").contains("412776001"))
        .anySatisfy(e -> assertThat(e).contains("videoresponsible-2"));

    ObjectNode corrected = corrected(given, Json.resource(example("appointment-valid.xml"), "application/fhir+xml"));
    HttpResponse<String> put = Http.put(TestServer.base() + "/Appointment/" + corrected.get("id").asText(),
        corrected.toString());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    assertSame(read(corrected.get("id").asText()), corrected, "1");

    // created by POST it claims the base profile too, as the eHealth service does, and meets it
    HttpResponse<String> post = Http.post(TestServer.base() + "/Appointment", corrected.toString());
    assertThat(post.statusCode()).as(post.body()).isEqualTo(201);
    ObjectNode created = Json.parse(post.body());
    String id = created.get("id").asText();
    ObjectNode expected = withEhealthIdentifier(corrected.deepCopy().put("id", id), created);
    ((ArrayNode) expected.at("/meta/profile")).add(SD + "ehealth-appointment");
    assertSame(read(id), expected, "1");
  }

  /** The video example with its four defects corrected, as the 2020.8 definitions have them. */
  private static ObjectNode corrected(ObjectNode given, ObjectNode appointmentValid) {
    ObjectNode c = given.deepCopy();
    String team = null;
    for (JsonNode ext : c.get("extension")) {
      ObjectNode e = (ObjectNode) ext;
      switch (e.get("url").asText().substring(SD.length())) {
        case "ehealth-meeting-url" -> e.put("valueUri", e.remove("valueString").asText());
        case "ehealth-responsible" -> {
          // its actor sub-extension becomes the value
          JsonNode actor = null;
          for (JsonNode sub : e.remove("extension")) {
            if (sub.get("url").asText().equals("actor")) {
              actor = sub.get("valueReference");
            }
          }
          e.set("valueReference", actor);
          team = actor.get("reference").asText();
        }
        default -> { }
      }
    }
    ((ObjectNode) c.at("/reason/0/coding/0")).put("system", "http://ehealth.sundhed.dk/cs/appointment-reason");
    // the responsible care team takes part: the participant appointment-valid.xml has for it
    JsonNode careTeam = appointmentValid.at("/participant/2");
    assertThat(careTeam.at("/extension/0/valueReference/reference").asText()).isEqualTo(team);
    ((ArrayNode) c.get("participant")).add(careTeam);
    return c;
  }

  private static ObjectNode read(String id) {
    HttpResponse<String> r = Http.get(TestServer.base() + "/Appointment/" + id, "Accept", "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Json.parse(r.body());
  }

  /** The expected resource with the eHealth identifier the server gave {@code created}, which must have one. */
  private static ObjectNode withEhealthIdentifier(ObjectNode expected, ObjectNode created) {
    JsonNode identifier = null;
    for (JsonNode i : created.path("identifier")) {
      if (IDENTIFIER.equals(i.path("system").asText())) {
        identifier = i;
      }
    }
    assertThat(identifier).as("the eHealth identifier in " + created).isNotNull();
    assertThat(identifier.path("value").asText()).matches("[0-9a-f-]{36}");
    if (!(expected.get("identifier") instanceof ArrayNode)) {
      expected.putArray("identifier");
    }
    ((ArrayNode) expected.get("identifier")).add(identifier);
    return expected;
  }

  /** Equal but for meta.lastUpdated; meta.versionId is {@code version}. */
  private static void assertSame(ObjectNode actual, ObjectNode expected, String version) {
    ObjectNode e = expected.deepCopy();
    if (!(e.get("meta") instanceof ObjectNode)) {
      e.putObject("meta");
    }
    ((ObjectNode) e.get("meta")).put("versionId", version);
    JsonNode a = JsonDiff.parse(Json.withoutServerMeta(actual, false).toString());
    JsonNode x = JsonDiff.parse(Json.withoutServerMeta(e, false).toString());
    assertThat(JsonDiff.diff(x, a, 20)).as("differences from the example; actual " + actual).isEmpty();
  }
}
