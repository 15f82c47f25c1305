package io.appointmentserver.security;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.Set;

/**
 * One trusted issuer's keys and the processor that checks its tokens: signature (RS256 or ES256,
 * never "none" or HMAC), {@code iss} equal to the issuer, {@code exp}, {@code nbf}, the audience.
 * Keys from an http(s) JWKS are cached; an unknown {@code kid} makes a rate-limited refetch, so key
 * rotation needs no restart. Each issuer has its own cache and rate limit.
 */
final class IssuerKeys {
  private final String issuer;
  private final JWKSource<SecurityContext> keys;
  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

  IssuerKeys(String issuer, JWKSource<SecurityContext> keys, Set<String> audience, long clockSkewSeconds) {
    this.issuer = issuer;
    this.keys = keys;
    processor.setJWSKeySelector(
        new JWSVerificationKeySelector<>(Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256), keys));
    DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
        audience, new JWTClaimsSet.Builder().issuer(issuer).build(), Set.of("exp", "iss"), null);
    claims.setMaxClockSkew((int) clockSkewSeconds);
    processor.setJWTClaimsSetVerifier(claims);
  }

  /** The keys of {@code jwks}: an http(s) URL (cached, refetched for an unknown key) or {@code file:}. */
  static JWKSource<SecurityContext> source(String jwks) {
    try {
      if (jwks.startsWith("file:")) {
        return new ImmutableJWKSet<>(JWKSet.load(Path.of(URI.create(jwks)).toFile()));
      }
      URL url = URI.create(jwks).toURL();
      return JWKSourceBuilder.create(url, new DefaultResourceRetriever(2_000, 2_000, 1 << 20))
          .cache(Duration.ofMinutes(15).toMillis(), Duration.ofSeconds(3).toMillis())
          .rateLimited(Duration.ofSeconds(5).toMillis())
          .refreshAheadCache(false)
          .retrying(false)
          .build();
    } catch (IOException | ParseException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot use the JWKS " + jwks + " (FHIR_AUTH_JWKS or FHIR_AUTH_ISSUERS): "
          + e.getMessage(), e);
    }
  }

  String issuer() {
    return issuer;
  }

  DefaultJWTProcessor<SecurityContext> processor() {
    return processor;
  }

  /** Whether the issuer still publishes {@code keyId}: a rotated-out key invalidates the tokens it signed. */
  boolean publishes(String keyId) {
    try {
      return !keys.get(new JWKSelector(new JWKMatcher.Builder().keyID(keyId).build()), null).isEmpty();
    } catch (KeySourceException e) {
      return false;
    }
  }
}
