package io.appointmentserver.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.Main;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Bearer token authentication: what is accepted, and every way a token is refused with 401. */
class AuthenticationTest {
  private final String base = TestServer.base();
  private final String url = base + "/Patient/auth-test";

  AuthenticationTest() {
    Http.put(url, "{\"resourceType\":\"Patient\",\"id\":\"auth-test\"}");
  }

  private static JWTClaimsSet.Builder claims(String issuer, long expOffsetSeconds) {
    long now = System.currentTimeMillis();
    return new JWTClaimsSet.Builder().issuer(issuer).subject("s").issueTime(new Date(now))
        .expirationTime(new Date(now + expOffsetSeconds * 1000))
        .claim("user_type", "SYSTEM")
        .claim("realm_access", Map.of("roles", List.of("Patient.*")));
  }

  private static String rs256(RSAKey key, JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID())
        .type(JOSEObjectType.JWT).build(), claims);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  private static RSAKey devKey() {
    return DevKeys.load(TestServer.dataDir());
  }

  private static void assert401(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("Bearer error=\"invalid_token\"");
    assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
  }

  private HttpResponse<String> getWith(String authorization) {
    return Http.get(url, "Authorization", authorization);
  }

  @Test
  void aValidTokenIsAccepted() throws Exception {
    assertThat(getWith("Bearer " + rs256(devKey(), claims(DevKeys.ISSUER, 60).build())).statusCode()).isEqualTo(200);
  }

  @Test
  void theTokenCommandMakesATokenTheDevModeServerAccepts() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "token", "--user-type", "PRACTITIONER", "--roles", "Patient.read",
        "--care-team", "CareTeam/1", "--lifetime", "60");
    pb.environment().put("FHIR_DATA_DIR", TestServer.dataDir().toString());
    Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String token = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor()).isZero();
    assertThat(getWith("Bearer " + token).statusCode()).isEqualTo(200);
    assertThat(Http.put(url, "{\"resourceType\":\"Patient\",\"id\":\"auth-test\"}", "Authorization", "Bearer " + token)
        .statusCode()).isEqualTo(403);
  }

  @Test
  void metadataAndHealthNeedNoToken() {
    assertThat(Http.get(base + "/metadata", "Authorization", Http.NO_AUTH).statusCode()).isEqualTo(200);
    assertThat(Http.get(base.replace("/fhir", "/health"), "Authorization", Http.NO_AUTH).statusCode()).isEqualTo(200);
  }

  @Test
  void missingOrMalformedHeaderIs401() {
    assert401(Http.get(url, "Authorization", Http.NO_AUTH));
    assert401(getWith("Basic dXNlcjpwYXNz"));
    assert401(getWith("Bearer"));
    assert401(getWith("Bearer not.a.jwt"));
    assert401(getWith("Bearer abc"));
    assert401(Http.put(url, "{\"resourceType\":\"Patient\",\"id\":\"auth-test\"}", "Authorization", Http.NO_AUTH));
  }

  @Test
  void unsignedTokensAreRefused() throws Exception {
    String header = Base64URL.encode("{\"alg\":\"none\",\"typ\":\"JWT\"}").toString();
    String payload = Base64URL.encode(claims(DevKeys.ISSUER, 60).build().toString()).toString();
    assert401(getWith("Bearer " + header + "." + payload + "."));
  }

  @Test
  void hmacWithThePublicKeyAsSecretIsRefused() throws Exception {
    byte[] publicKey = devKey().toPublicJWK().toRSAPublicKey().getEncoded();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(devKey().getKeyID()).build(),
        claims(DevKeys.ISSUER, 60).build());
    jwt.sign(new MACSigner(publicKey));
    assert401(getWith("Bearer " + jwt.serialize()));
  }

  @Test
  void unknownKeyBadSignatureAndTamperedPayloadAreRefused() throws Exception {
    RSAKey stranger = new RSAKeyGenerator(2048).keyID("stranger").generate();
    assert401(getWith("Bearer " + rs256(stranger, claims(DevKeys.ISSUER, 60).build())));
    RSAKey impostor = new RSAKeyGenerator(2048).keyID(devKey().getKeyID()).generate();
    assert401(getWith("Bearer " + rs256(impostor, claims(DevKeys.ISSUER, 60).build())));

    String good = rs256(devKey(), claims(DevKeys.ISSUER, 60).build());
    String[] parts = good.split("\\.");
    char last = parts[2].charAt(10);
    String badSignature = parts[0] + "." + parts[1] + "." + parts[2].substring(0, 10)
        + (last == 'A' ? 'B' : 'A') + parts[2].substring(11);
    assert401(getWith("Bearer " + badSignature));
    String tampered = parts[0] + "." + Base64URL.encode(claims(DevKeys.ISSUER, 60)
        .claim("realm_access", Map.of("roles", List.of("Patient.*", "Appointment.*"))).build().toString()) + "." + parts[2];
    assert401(getWith("Bearer " + tampered));
  }

  @Test
  void wrongIssuerIsRefused() throws Exception {
    assert401(getWith("Bearer " + rs256(devKey(), claims("https://evil.example.org/realms/ehealth", 60).build())));
  }

  @Test
  void expiryAndNotBeforeHoldWithASmallClockSkew() throws Exception {
    assert401(getWith("Bearer " + rs256(devKey(), claims(DevKeys.ISSUER, -120).build())));
    assertThat(getWith("Bearer " + rs256(devKey(), claims(DevKeys.ISSUER, -5).build())).statusCode()).isEqualTo(200);
    long now = System.currentTimeMillis();
    assert401(getWith("Bearer " + rs256(devKey(), claims(DevKeys.ISSUER, 600).notBeforeTime(new Date(now + 120_000)).build())));
    JWTClaimsSet noExp = new JWTClaimsSet.Builder(claims(DevKeys.ISSUER, 60).build()).expirationTime(null).build();
    assert401(getWith("Bearer " + rs256(devKey(), noExp)));
  }

  @Test
  void es256FromAJwksFileIsAccepted() throws Exception {
    ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    Path jwks = Files.createTempFile("jwks", ".json");
    Files.writeString(jwks, new JWKSet(ec.toPublicJWK()).toString());
    String issuer = "https://idp.example.org/realms/ehealth";
    try (AppointmentServer server = TestServer.another(c -> c.withAuth(issuer, jwks.toUri().toString()))) {
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec-1").build(),
          claims(issuer, 60).build());
      jwt.sign(new ECDSASigner(ec));
      String target = server.baseUrl() + "/Patient/auth-test";
      assertThat(Http.get(target, "Authorization", "Bearer " + jwt.serialize()).statusCode()).isEqualTo(200);
      // the dev key means nothing to a server with a configured issuer
      assertThat(Http.get(target, "Authorization", "Bearer " + rs256(devKey(), claims(DevKeys.ISSUER, 60).build()))
          .statusCode()).isEqualTo(401);
    }
  }

  @Test
  void keyRotationAtTheIssuerNeedsNoRestart() throws Exception {
    RSAKey first = new RSAKeyGenerator(2048).keyID("k1").generate();
    RSAKey second = new RSAKeyGenerator(2048).keyID("k2").generate();
    AtomicReference<JWKSet> published = new AtomicReference<>(new JWKSet(first.toPublicJWK()));
    HttpServer idp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    idp.createContext("/certs", exchange -> {
      byte[] body = published.get().toString().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    idp.start();
    String issuer = "http://127.0.0.1:" + idp.getAddress().getPort() + "/realms/ehealth";
    String jwks = "http://127.0.0.1:" + idp.getAddress().getPort() + "/certs";
    try (AppointmentServer server = TestServer.another(c -> c.withAuth(issuer, jwks))) {
      String target = server.baseUrl() + "/Patient/auth-test";
      String oldToken = rs256(first, claims(issuer, 300).build());
      assertThat(Http.get(target, "Authorization", "Bearer " + oldToken).statusCode()).isEqualTo(200);

      published.set(new JWKSet(second.toPublicJWK()));
      Thread.sleep(5_500); // refetches are rate-limited to one per 5 s
      String newToken = rs256(second, claims(issuer, 300).build());
      assertThat(Http.get(target, "Authorization", "Bearer " + newToken).statusCode()).isEqualTo(200);
      // the rotated-out key no longer counts, even for a token verified before
      assert401(Http.get(target, "Authorization", "Bearer " + oldToken));
    } finally {
      idp.stop(0);
    }
  }
}
