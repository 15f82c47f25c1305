package io.appointmentserver.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.KeycloakServer;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Our server trusting two realms of one real Keycloak, as eHealth's professionals' ({@code ehealth})
 * and citizens' ({@code nemlogin}): each realm's tokens are checked with its own keys, and the
 * citizen, whose token has no privilege roles, reads their own appointment with the default citizen
 * privileges and nothing of another patient.
 */
class KeycloakRealmsTest {
  static final String CITIZEN = "kc-citizen"; // the citizen's patient, as the nemlogin realm's user says
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String TEAM = "http://organization.example.org/fhir/CareTeam/kc";
  static final String OWN = "kco-" + RUN;
  static final String OTHER = "kcx-" + RUN;
  private static AppointmentServer server;

  @BeforeAll
  static void start() throws Exception {
    String citizens = KeycloakServer.issuer(KeycloakServer.CITIZEN_REALM);
    server = TestServer.another(c -> c.withAuth(KeycloakServer.issuer(), KeycloakServer.jwksUrl())
        .with("FHIR_AUTH_ISSUERS", citizens));
    String system = KeycloakServer.token("system");
    for (String patient : new String[] {CITIZEN, "kc-other"}) {
      assertThat(put("/Patient/" + patient, "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}", system)
          .statusCode()).isIn(200, 201);
    }
    assertThat(put("/Appointment/" + OWN, Appointments.ofCareTeam(OWN, TEAM, CITIZEN), system).statusCode())
        .isEqualTo(201);
    assertThat(put("/Appointment/" + OTHER, Appointments.ofCareTeam(OTHER, TEAM, "kc-other"), system).statusCode())
        .isEqualTo(201);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  static HttpResponse<String> put(String path, String body, String token) {
    return Http.put(server.baseUrl() + path, body, "Authorization", "Bearer " + token);
  }

  static HttpResponse<String> get(String path, String token) {
    return Http.get(server.baseUrl() + path, "Accept", "application/fhir+json", "Authorization", "Bearer " + token);
  }

  @Test
  void theCitizenRealmsTokenReadsTheCitizensOwnAppointmentOnly() {
    String citizen = KeycloakServer.token(KeycloakServer.CITIZEN_REALM, "citizen", "citizen");
    JsonNode claims = KeycloakServer.claims(citizen);
    assertThat(claims.get("iss").asText()).endsWith("/realms/nemlogin");
    assertThat(claims.get("user_type").asText()).isEqualTo("PATIENT");
    assertThat(claims.at("/realm_access/roles").toString()).doesNotContain("Appointment");

    HttpResponse<String> own = get("/Appointment/" + OWN, citizen);
    assertThat(own.statusCode()).as(own.body()).isEqualTo(200);
    assertThat(get("/Appointment/" + OTHER, citizen).statusCode()).isEqualTo(403);
    HttpResponse<String> search = get("/Appointment?_id=" + OWN + "," + OTHER, citizen);
    assertThat(search.statusCode()).as(search.body()).isEqualTo(200);
    JsonNode bundle = Json.parse(search.body());
    assertThat(bundle.get("total").asInt()).isEqualTo(1);
    assertThat(bundle.at("/entry/0/resource/id").asText()).isEqualTo(OWN);
    // the default citizen privileges do not write appointments
    HttpResponse<String> write = put("/Appointment/" + OWN,
        Appointments.ofCareTeam(OWN, TEAM, CITIZEN).replace("\"booked\"", "\"cancelled\""), citizen);
    assertThat(write.statusCode()).as(write.body()).isEqualTo(403);
  }

  @Test
  void theProfessionalsRealmStillWorksAndAnUntrustedRealmDoesNot() {
    assertThat(get("/Appointment/" + OWN, KeycloakServer.token("system")).statusCode()).isEqualTo(200);
    HttpResponse<String> master = get("/Appointment/" + OWN, KeycloakServer.masterRealmToken());
    assertThat(master.statusCode()).as(master.body()).isEqualTo(401);
    assertThat(master.body()).contains("not trusted");
  }
}
