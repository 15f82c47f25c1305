package io.appointmentserver.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.validation.ProfileValidator.Mode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code FHIR_VALIDATION} = {@code full} | {@code profiles} | {@code off}, over HTTP: the same
 * writes sent to a server in each mode, all with the eHealth IG loaded and on the same database
 * ({@code profiles}, the default, is the shared server). What only the instance validator finds
 * (a profile's required slice, a code outside a required value set, a base invariant, an unknown
 * code of a known code system) depends on the mode; what the parser refuses (an unknown element,
 * a malformed date) and the eHealth rules in code do not.
 */
class ValidationModesTest {
  private static final Map<Mode, AppointmentServer> servers = new EnumMap<>(Mode.class);

  @BeforeAll
  static void start() throws Exception {
    servers.put(Mode.PROFILES, TestServer.shared());
    servers.put(Mode.FULL, TestServer.another(c -> c.withValidation(Mode.FULL)));
    servers.put(Mode.OFF, TestServer.another(c -> c.withValidation(Mode.OFF)));
    assertThat(Http.put(TestServer.base() + "/Patient/240",
        "{\"resourceType\":\"Patient\",\"id\":\"240\",\"name\":[{\"family\":\"Hansen\"}]}").statusCode()).isIn(200, 201);
  }

  @AfterAll
  static void stop() throws Exception {
    for (Mode m : new Mode[] {Mode.FULL, Mode.OFF}) {
      if (servers.get(m) != null) {
        servers.get(m).close();
      }
    }
  }

  private static ObjectNode seed() {
    try {
      return Json.parse(Files.readString(TestServer.sharedDir().resolve("seed").resolve("request-body.json")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The seed as it is (claiming ehealth-appointment) but with a new id. */
  private static ObjectNode appointment() {
    return seed().put("id", "modes-" + UUID.randomUUID().toString().substring(0, 13));
  }

  /** The seed without {@code meta.profile}: validated against the base Appointment in full mode only. */
  private static ObjectNode unprofiledAppointment() {
    ObjectNode a = appointment();
    a.remove("meta");
    return a;
  }

  /** PUTs {@code resource} (a create with the id it has) to the server of each mode; the statuses by mode. */
  private static Map<Mode, Integer> putToEach(ObjectNode resource) {
    Map<Mode, Integer> statuses = new EnumMap<>(Mode.class);
    for (Map.Entry<Mode, AppointmentServer> e : servers.entrySet()) {
      String type = resource.get("resourceType").asText();
      String id = resource.get("id").asText() + "-" + e.getKey().name().toLowerCase(java.util.Locale.ROOT);
      HttpResponse<String> r = Http.put(e.getValue().baseUrl() + "/" + type + "/" + id,
          resource.deepCopy().put("id", id).toString());
      statuses.put(e.getKey(), r.statusCode());
      assertThat(Json.parse(r.body()).get("resourceType").asText()).as(e.getKey() + ": " + r.body())
          .isEqualTo(r.statusCode() < 300 ? type : "OperationOutcome");
      if (r.statusCode() >= 400) {
        // nothing written
        assertThat(Http.get(e.getValue().baseUrl() + "/" + type + "/" + id).statusCode()).isEqualTo(404);
      }
    }
    return statuses;
  }

  private static Map<Mode, Integer> expect(int full, int profiles, int off) {
    return Map.of(Mode.FULL, full, Mode.PROFILES, profiles, Mode.OFF, off);
  }

  @Test
  void aValidResourceIsStoredInEveryMode() {
    assertThat(putToEach(appointment())).isEqualTo(expect(201, 201, 201));
    assertThat(putToEach(unprofiledAppointment())).isEqualTo(expect(201, 201, 201));
  }

  @Test
  void aProfiledResourceMissingWhatItsProfileRequiresIsRefusedUnlessValidationIsOff() {
    ObjectNode a = appointment();
    // the responsible slice ehealth-appointment requires (the rules in code hold without it)
    a.remove("extension");
    assertThat(putToEach(a)).isEqualTo(expect(422, 422, 201));
  }

  @Test
  void aCodeOutsideTheProfilesRequiredValueSetIsRefusedUnlessValidationIsOff() {
    ObjectNode a = appointment();
    ((ObjectNode) a.at("/reason/0/coding/0")).put("code", "not-a-reason");
    assertThat(putToEach(a)).isEqualTo(expect(422, 422, 201));
  }

  @Test
  void anUnprofiledResourceBreakingABaseInvariantIsRefusedInFullModeOnly() {
    // pat-1: a contact needs details or an organization
    ObjectNode patient = Json.parse("{\"resourceType\":\"Patient\",\"id\":\"modes-pat1-"
        + UUID.randomUUID().toString().substring(0, 8) + "\",\"contact\":[{\"gender\":\"male\"}]}");
    assertThat(putToEach(patient)).isEqualTo(expect(422, 201, 201));
  }

  @Test
  void anUnknownCodeOfAKnownCodeSystemInAnUnprofiledResourceIsRefusedInFullModeOnly() {
    ObjectNode a = unprofiledAppointment();
    ((ObjectNode) a.at("/participant/0/type/0/coding/0")).put("code", "NOT-A-PARTICIPATION").remove("display");
    assertThat(putToEach(a)).isEqualTo(expect(422, 201, 201));
  }

  @Test
  void whatTheParserRefusesIsRefusedInEveryMode() {
    ObjectNode unknownElement = appointment().put("colour", "blue");
    ObjectNode badDate = unprofiledAppointment().put("start", "the first of July");
    ObjectNode badStatus = unprofiledAppointment().put("status", "maybe");
    for (ObjectNode bad : new ObjectNode[] {unknownElement, badDate, badStatus}) {
      assertThat(putToEach(bad)).as(bad.toString()).isEqualTo(expect(400, 400, 400));
    }
  }

  @Test
  void theEhealthRulesHoldInEveryMode() {
    ObjectNode twoPatients = appointment();
    ((ArrayNode) twoPatients.get("participant")).addObject().put("status", "accepted")
        .putObject("actor").put("reference", "Patient/241");
    ObjectNode endBeforeStart = unprofiledAppointment().put("end", "2019-07-01T08:00:00.000+02:00");
    for (ObjectNode bad : new ObjectNode[] {twoPatients, endBeforeStart}) {
      assertThat(putToEach(bad)).as(bad.toString()).isEqualTo(expect(422, 422, 422));
    }
  }

  @Test
  void anUnknownProfileIsRefusedUnlessValidationIsOff() {
    ObjectNode a = appointment();
    ((ArrayNode) a.at("/meta/profile")).removeAll().add("http://example.org/fhir/StructureDefinition/nobody-knows");
    assertThat(putToEach(a)).isEqualTo(expect(422, 422, 201));
  }
}
