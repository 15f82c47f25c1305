package io.appointmentserver.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.KeycloakServer;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Our server with a real Keycloak as token issuer: bearer tokens from the realm's token endpoint
 * are checked against the realm's JWKS, privileges come from the realm roles, and a key rotation
 * in Keycloak is picked up without a restart.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KeycloakTokensTest {
  private static AppointmentServer server;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    String issuer = KeycloakServer.issuer();
    String jwks = KeycloakServer.jwksUrl();
    server = TestServer.another(c -> c.withAuth(issuer, jwks));
    base = server.baseUrl();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static String patient(String id) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"Keycloak\"}]}";
  }

  private static HttpResponse<String> get(String url, String token) {
    return Http.get(url, "Accept", "application/fhir+json", "Authorization", "Bearer " + token);
  }

  private static void assertOperationOutcome(HttpResponse<String> r) {
    assertThat(Json.resource(r.body(), r.headers().firstValue("Content-Type").orElse(""))
        .path("resourceType").asText()).as(r.body()).isEqualTo("OperationOutcome");
  }

  private static void assertInvalidToken(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElse(""))
        .startsWith("Bearer").contains("error=\"invalid_token\"");
    assertOperationOutcome(r);
  }

  @Test
  @Order(1)
  void aSystemUserWithPrivilegesCreatesAndReads() {
    String token = KeycloakServer.token("system");

    HttpResponse<String> put = Http.put(base + "/Patient/kc1", patient("kc1"), "Authorization", "Bearer " + token);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);

    HttpResponse<String> read = get(base + "/Patient/kc1", token);
    assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
    assertThat(Json.parse(read.body()).path("id").asText()).isEqualTo("kc1");
  }

  @Test
  @Order(2)
  void withoutATokenOnlyTheCapabilityStatementAndHealthAnswer() {
    HttpResponse<String> r = Http.get(base + "/Patient/kc1", "Accept", "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElse("")).startsWith("Bearer");
    assertOperationOutcome(r);

    assertThat(Http.get(base + "/metadata", "Accept", "application/fhir+json").statusCode()).isEqualTo(200);
    assertThat(Http.get(base.replace("/fhir", "/health")).statusCode()).isEqualTo(200);
  }

  @Test
  @Order(3)
  void aValidTokenWithoutPrivilegesIsForbidden() {
    HttpResponse<String> r = get(base + "/Patient/kc1", KeycloakServer.token("noroles"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    assertOperationOutcome(r);
  }

  @Test
  @Order(4)
  void aTokenFromAnotherIssuerOrWithABrokenSignatureIsRejected() {
    String token = KeycloakServer.token("system");
    String[] parts = token.split("\\.");
    // flip one character of the signature: the same kid, a signature that does not verify
    char c = parts[2].charAt(10);
    String tampered = parts[0] + "." + parts[1] + "." + parts[2].substring(0, 10) + (c == 'A' ? 'B' : 'A')
        + parts[2].substring(11);
    assertInvalidToken(get(base + "/Patient/kc1", tampered));
    assertInvalidToken(get(base + "/Patient/kc1", "not-a-jwt"));
    // a genuine token of the same Keycloak, but from the master realm: another issuer and key
    String foreign = KeycloakServer.masterRealmToken();
    assertThat(KeycloakServer.claims(foreign).path("iss").asText()).isNotEqualTo(KeycloakServer.issuer());
    assertInvalidToken(get(base + "/Patient/kc1", foreign));
  }

  @Test
  @Order(5)
  void afterAKeyRotationTheNewKeyIsFetchedAndTheOldOneNoLongerAccepted() throws Exception {
    String before = KeycloakServer.token("system");
    assertThat(get(base + "/Patient/kc1", before).statusCode()).isEqualTo(200);

    String newKid = KeycloakServer.rotateKeys();
    String fresh = KeycloakServer.token("system");
    assertThat(KeycloakServer.header(fresh).path("kid").asText()).isEqualTo(newKid);

    // The unknown kid makes the server fetch the JWKS again; its refetch is rate-limited, so give
    // it a bounded while rather than expecting the very first request to succeed.
    HttpResponse<String> r = get(base + "/Patient/kc1", fresh);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (r.statusCode() == 401 && System.nanoTime() < deadline) {
      Thread.sleep(1000);
      r = get(base + "/Patient/kc1", fresh);
    }
    assertThat(r.statusCode()).as("a token signed with the new key: %s", r.body()).isEqualTo(200);

    // The key set the server now holds no longer has the old key.
    assertInvalidToken(get(base + "/Patient/kc1", before));
  }
}
