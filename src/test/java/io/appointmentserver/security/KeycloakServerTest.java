package io.appointmentserver.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.appointmentserver.support.KeycloakServer;
import io.appointmentserver.support.TestServer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The identity provider the token tests rely on: the realm's tokens look like the eHealth ones
 * (../shared/seed/token-claims.json), and a key rotation changes the kid and the key set.
 */
class KeycloakServerTest {

  private static List<String> roles(JsonNode claims) {
    List<String> roles = new ArrayList<>();
    claims.path("realm_access").path("roles").forEach(r -> roles.add(r.asText()));
    return roles;
  }

  @Test
  void startsWithTheRealmAndIssuesTokensShapedLikeTheEHealthOnes() throws Exception {
    String jwt = KeycloakServer.token("practitioner");
    System.out.println("Keycloak started in " + KeycloakServer.startupTime().toMillis() + " ms");

    JsonNode header = KeycloakServer.header(jwt);
    assertThat(header.path("alg").asText()).isEqualTo("RS256");
    assertThat(KeycloakServer.signingKids()).contains(header.path("kid").asText());

    JsonNode claims = KeycloakServer.claims(jwt);
    assertThat(claims.path("iss").asText()).isEqualTo(KeycloakServer.issuer());
    assertThat(claims.path("azp").asText()).isEqualTo(KeycloakServer.CLIENT_ID);
    assertThat(claims.path("sub").asText()).isNotBlank();
    assertThat(claims.path("exp").asLong() - claims.path("iat").asLong()).isEqualTo(300);
    assertThat(claims.path("user_type").asText()).isEqualTo("PRACTITIONER");
    assertThat(claims.path("user_id").asText()).isEqualTo("http://localhost:8080/fhir/Practitioner/35205");
    assertThat(claims.path("name").asText()).isEqualTo("Pontius Pilatus");
    assertThat(claims.path("context").isObject()).as("context is a JSON object: %s", claims).isTrue();
    assertThat(claims.path("context").path("organization_id").asText())
        .isEqualTo("http://localhost:8080/fhir/Organization/10357");
    assertThat(claims.path("context").path("care_team_id").asText())
        .isEqualTo("http://localhost:8080/fhir/CareTeam/35102");
    assertThat(roles(claims)).contains("Appointment.*", "Patient.read").doesNotContain("Patient.create");

    // the same claim types as the token the eHealth infrastructure issued (the seed)
    JsonNode seed = new ObjectMapper().readTree(Files.readString(
        TestServer.sharedDir().resolve("seed/token-claims.json"), StandardCharsets.UTF_8));
    for (String claim : List.of("iss", "aud", "sub", "typ", "azp", "exp", "iat", "realm_access", "user_type",
        "user_id", "name", "context", "preferred_username", "given_name", "family_name")) {
      assertThat(claims.path(claim).getNodeType()).as(claim).isEqualTo(seed.path(claim).getNodeType());
    }
    List<String> seedContextFields = new ArrayList<>();
    seed.path("context").fieldNames().forEachRemaining(seedContextFields::add);
    List<String> contextFields = new ArrayList<>();
    claims.path("context").fieldNames().forEachRemaining(contextFields::add);
    assertThat(contextFields).containsExactlyInAnyOrderElementsOf(seedContextFields);

    JsonNode system = KeycloakServer.claims(KeycloakServer.token("system"));
    assertThat(system.path("user_type").asText()).isEqualTo("SYSTEM");
    assertThat(system.has("context")).isFalse();
    assertThat(roles(system)).contains("Patient.*", "Appointment.*");

    JsonNode noroles = KeycloakServer.claims(KeycloakServer.token("noroles"));
    assertThat(noroles.path("user_type").asText()).isEqualTo("PRACTITIONER");
    assertThat(roles(noroles)).allMatch(r -> !r.contains(".") && !r.contains("$"), "no privileges");

    assertThatThrownBy(() -> KeycloakServer.token("system", "wrong")).hasMessageContaining("401");
  }

  @Test
  void rotatingTheKeysChangesTheKidAndTheKeySet() throws Exception {
    String before = KeycloakServer.token("system");
    String oldKid = KeycloakServer.header(before).path("kid").asText();
    assertThat(verifiesAgainstJwks(before)).isTrue();

    String newKid = KeycloakServer.rotateKeys();

    assertThat(newKid).isNotEqualTo(oldKid);
    assertThat(KeycloakServer.signingKids()).containsExactly(newKid);
    String after = KeycloakServer.token("system");
    assertThat(KeycloakServer.header(after).path("kid").asText()).isEqualTo(newKid);
    assertThat(verifiesAgainstJwks(after)).isTrue();
    assertThat(verifiesAgainstJwks(before)).as("the old token against the new key set").isFalse();
  }

  /** Whether a signing key of the realm's current JWKS verifies the token's RS256 signature. */
  private static boolean verifiesAgainstJwks(String jwt) throws Exception {
    String[] parts = jwt.split("\\.");
    byte[] signed = (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII);
    byte[] signature = Base64.getUrlDecoder().decode(parts[2]);
    for (JsonNode key : KeycloakServer.jwks().path("keys")) {
      if (!"RSA".equals(key.path("kty").asText()) || !"sig".equals(key.path("use").asText())) {
        continue;
      }
      PublicKey pub = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(
          new BigInteger(1, Base64.getUrlDecoder().decode(key.path("n").asText())),
          new BigInteger(1, Base64.getUrlDecoder().decode(key.path("e").asText()))));
      Signature s = Signature.getInstance("SHA256withRSA");
      s.initVerify(pub);
      s.update(signed);
      if (s.verify(signature)) {
        return true;
      }
    }
    return false;
  }
}
