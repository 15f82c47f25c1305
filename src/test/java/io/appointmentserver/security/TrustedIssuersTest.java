package io.appointmentserver.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.Config;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Several trusted issuers (eHealth's professionals' and citizens' realms), each with its own
 * keys, served by a small HTTP server here: the professionals' realm configured as before
 * ({@code FHIR_AUTH_ISSUER}, {@code FHIR_AUTH_JWKS}), the citizens' in {@code FHIR_AUTH_ISSUERS}
 * without a JWKS (Keycloak's certs path), and the citizen privileges set to one.
 */
class TrustedIssuersTest {
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String PATIENT = "ti-" + RUN;
  static final String APPOINTMENT = "tia-" + RUN;
  static HttpServer idp;
  static AppointmentServer server;
  static RSAKey professionalsKey;
  static RSAKey citizensKey;
  static String professionals;
  static String citizens;

  @BeforeAll
  static void start() throws Exception {
    professionalsKey = new RSAKeyGenerator(2048).keyID("ehealth-1").generate();
    citizensKey = new RSAKeyGenerator(2048).keyID("nemlogin-1").generate();
    idp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    String root = "http://127.0.0.1:" + idp.getAddress().getPort();
    professionals = root + "/auth/realms/ehealth";
    citizens = root + "/auth/realms/nemlogin";
    serve("/professionals-certs", professionalsKey);
    serve("/auth/realms/nemlogin/protocol/openid-connect/certs", citizensKey);
    idp.start();
    server = TestServer.another(c -> c.withAuth(professionals, root + "/professionals-certs")
        .with("FHIR_AUTH_ISSUERS", citizens).with("FHIR_CITIZEN_PRIVILEGES", "Appointment.read"));
    String team = "http://organization.example.org/fhir/CareTeam/ti";
    String system = "Bearer " + sign(professionalsKey, claims(professionals, "SYSTEM", List.of("Patient.*", "Appointment.*"))
        .build());
    assertThat(Http.put(server.baseUrl() + "/Patient/" + PATIENT, "{\"resourceType\":\"Patient\",\"id\":\"" + PATIENT
        + "\"}", "Authorization", system).statusCode()).isEqualTo(201);
    assertThat(Http.put(server.baseUrl() + "/Appointment/" + APPOINTMENT,
        Appointments.ofCareTeam(APPOINTMENT, team, PATIENT), "Authorization", system).statusCode()).isEqualTo(201);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (idp != null) {
      idp.stop(0);
    }
  }

  static void serve(String path, RSAKey key) {
    idp.createContext(path, exchange -> {
      byte[] body = new JWKSet(key.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
  }

  static JWTClaimsSet.Builder claims(String issuer, String userType, List<String> roles) {
    long now = System.currentTimeMillis();
    return new JWTClaimsSet.Builder().issuer(issuer).subject(UUID.randomUUID().toString())
        .issueTime(new Date(now)).expirationTime(new Date(now + 300_000))
        .claim("realm_access", Map.of("roles", new ArrayList<>(roles))).claim("user_type", userType);
  }

  static String sign(RSAKey key, JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  static HttpResponse<String> get(String path, String token) {
    return Http.get(server.baseUrl() + path, "Authorization", "Bearer " + token);
  }

  static String citizen(String issuer, RSAKey key) throws Exception {
    return sign(key, claims(issuer, "PATIENT", List.of("offline_access", "uma_authorization"))
        .claim("user_id", "Patient/" + PATIENT).claim("context", Map.of("patient_id", "Patient/" + PATIENT)).build());
  }

  @Test
  void eachIssuersTokensAreCheckedWithItsOwnKeys() throws Exception {
    String practitioner = sign(professionalsKey, claims(professionals, "PRACTITIONER", List.of("Appointment.read"))
        .claim("context", Map.of("care_team_id", "http://organization.example.org/fhir/CareTeam/ti")).build());
    assertThat(get("/Appointment/" + APPOINTMENT, practitioner).statusCode()).isEqualTo(200);
    assertThat(get("/Appointment/" + APPOINTMENT, citizen(citizens, citizensKey)).statusCode()).isEqualTo(200);

    // a realm's name with the other realm's key, an unknown realm, the dev key: 401
    for (String token : List.of(citizen(citizens, professionalsKey),
        sign(citizensKey, claims(professionals, "SYSTEM", List.of("Appointment.*")).build()),
        citizen("http://127.0.0.1:1/auth/realms/other", citizensKey),
        Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Appointment.*"), Map.of(), null, 300))) {
      HttpResponse<String> r = get("/Appointment/" + APPOINTMENT, token);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate").orElse("")).startsWith("Bearer");
      assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    }
    HttpResponse<String> unknown = get("/Appointment/" + APPOINTMENT, citizen("https://idp.example.org/realms/x", citizensKey));
    assertThat(unknown.body()).contains("https://idp.example.org/realms/x").contains("not trusted");
  }

  @Test
  void citizensHaveTheConfiguredPrivilegesOnly() throws Exception {
    String me = citizen(citizens, citizensKey);
    assertThat(get("/Appointment/" + APPOINTMENT, me).statusCode()).isEqualTo(200);
    HttpResponse<String> search = get("/Appointment?patient=" + PATIENT, me);
    assertThat(search.statusCode()).as(search.body()).isEqualTo(403);
    assertThat(search.body()).contains("SECURITY_TOKEN_INSUFFICIENT_PERMISSION");
    assertThat(get("/Patient/" + PATIENT, me).statusCode()).isEqualTo(403);
  }

  @Test
  void theCapabilityStatementNamesEveryIssuer() {
    JsonNode security = Json.parse(Http.get(server.baseUrl() + "/metadata", "Accept", "application/fhir+json").body())
        .at("/rest/0/security");
    List<String> tokenEndpoints = new ArrayList<>();
    for (JsonNode uris : security.get("extension")) {
      for (JsonNode e : uris.get("extension")) {
        if (e.get("url").asText().equals("token")) {
          tokenEndpoints.add(e.get("valueUri").asText());
        }
      }
    }
    assertThat(tokenEndpoints).containsExactly(professionals + "/protocol/openid-connect/token",
        citizens + "/protocol/openid-connect/token");
    assertThat(security.get("description").asText()).contains(professionals).contains(citizens);
  }

  @Test
  void theSettingsAreReadAsDocumented() {
    Config c = Config.from(Map.of("FHIR_AUTH_ISSUER", "https://idp/realms/ehealth", "FHIR_AUTH_JWKS", "file:/keys.json",
        "FHIR_AUTH_ISSUERS", " https://idp/realms/nemlogin , https://other/realms/x https://other/certs "));
    assertThat(c.authIssuers()).containsExactly(new TrustedIssuer("https://idp/realms/ehealth", "file:/keys.json"),
        new TrustedIssuer("https://idp/realms/nemlogin", "https://idp/realms/nemlogin/protocol/openid-connect/certs"),
        new TrustedIssuer("https://other/realms/x", "https://other/certs"));
    assertThat(c.devMode()).isFalse();
    assertThat(c.citizenPrivileges()).contains("RelatedPerson.*", "Appointment.read").doesNotContain("Appointment.update");
    assertThat(Config.from(Map.of()).devMode()).isTrue();
    assertThat(Config.from(Map.of("FHIR_CITIZEN_PRIVILEGES", "")).citizenPrivileges()).isEmpty();
    assertThat(Config.from(Map.of("FHIR_CITIZEN_PRIVILEGES", "Patient.read, Appointment$exportAsiCal"))
        .citizenPrivileges()).containsExactlyInAnyOrder("Patient.read", "Appointment$exportAsiCal");

    assertThatThrownBy(() -> Config.from(Map.of("FHIR_AUTH_ISSUER", "https://idp/realms/ehealth")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FHIR_AUTH_JWKS");
    assertThatThrownBy(() -> Config.from(Map.of("FHIR_AUTH_ISSUERS", "https://a https://a/certs extra")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FHIR_AUTH_ISSUERS");
    TrustedIssuer twice = TrustedIssuer.keycloak("https://idp/realms/ehealth");
    assertThatThrownBy(() -> TokenAuthenticator.create(new TokenAuthenticator.Settings(List.of(twice, twice), null, 30,
        java.util.Set.of()), TestServer.dataDir())).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("twice");
  }
}
