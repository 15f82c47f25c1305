package io.appointmentserver.security;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.appointmentserver.security.Principal.Context;
import io.appointmentserver.security.Principal.UserType;
import io.appointmentserver.store.StoreUnavailableException;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bearer token authentication: RS256 or ES256 JWTs from the configured issuer, keys from its
 * JWKS (cached; an unknown {@code kid} makes a rate-limited refetch, so key rotation needs no
 * restart). Nimbus JOSE+JWT does all the cryptography and claim checks; "none" and HMAC
 * algorithms are never accepted. Verified tokens are cached until they expire, so a client
 * sending the same token again costs a map lookup.
 */
public final class TokenAuthenticator {
  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
  private final JWKSource<SecurityContext> keys;
  /** Tokens already verified, with the id of the key that signed them. */
  private final Cache<TokenKey, Verified> verified;
  private final long clockSkewSeconds;
  private final String issuer;

  private TokenAuthenticator(String issuer, JWKSource<SecurityContext> keys, Set<String> audience,
      long clockSkewSeconds) {
    this.issuer = issuer;
    this.keys = keys;
    this.clockSkewSeconds = clockSkewSeconds;
    processor.setJWSKeySelector(
        new JWSVerificationKeySelector<>(Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256), keys));
    DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
        audience, new JWTClaimsSet.Builder().issuer(issuer).build(), Set.of("exp", "iss"), null);
    claims.setMaxClockSkew((int) clockSkewSeconds);
    processor.setJWTClaimsSetVerifier(claims);
    verified = Caffeine.newBuilder().maximumSize(50_000).expireAfterWrite(Duration.ofMinutes(10))
        .executor(Runnable::run) // upkeep on the caller: no thread of the common pool woken for it (see ReadCache)
        .build();
  }

  /**
   * From the configuration: {@code jwks} is an http(s) URL or {@code file:}; with neither issuer
   * nor JWKS the server runs in dev mode on its own key in {@code dataDir}.
   */
  public static TokenAuthenticator create(String issuer, String jwks, String audience, long clockSkewSeconds,
      Path dataDir) {
    Set<String> aud = audience == null ? null : Set.of(audience);
    if (issuer == null && jwks == null) {
      return new TokenAuthenticator(DevKeys.ISSUER, new ImmutableJWKSet<>(DevKeys.publicKeys(dataDir)), aud,
          clockSkewSeconds);
    }
    if (issuer == null || jwks == null) {
      throw new IllegalArgumentException("FHIR_AUTH_ISSUER and FHIR_AUTH_JWKS must be set together");
    }
    JWKSource<SecurityContext> keys;
    try {
      if (jwks.startsWith("file:")) {
        keys = new ImmutableJWKSet<>(JWKSet.load(Path.of(URI.create(jwks)).toFile()));
      } else {
        URL url = URI.create(jwks).toURL();
        keys = JWKSourceBuilder.create(url, new DefaultResourceRetriever(2_000, 2_000, 1 << 20))
            .cache(Duration.ofMinutes(15).toMillis(), Duration.ofSeconds(3).toMillis())
            .rateLimited(Duration.ofSeconds(5).toMillis())
            .refreshAheadCache(false)
            .retrying(false)
            .build();
      }
    } catch (IOException | ParseException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot use FHIR_AUTH_JWKS " + jwks + ": " + e.getMessage(), e);
    }
    return new TokenAuthenticator(issuer, keys, aud, clockSkewSeconds);
  }

  public String issuer() {
    return issuer;
  }

  /** The principal of {@code authorization} (the header's value), or a 401. */
  public Principal authenticate(String authorization) {
    if (authorization == null || authorization.isBlank()) {
      throw new AuthenticationException("Missing Authorization header with a Bearer token");
    }
    if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new AuthenticationException("The Authorization header must be 'Bearer <token>'");
    }
    String token = authorization.substring(7).trim();
    long now = System.currentTimeMillis() / 1000;
    TokenKey key = new TokenKey(token);
    Verified cached = verified.getIfPresent(key);
    if (cached != null && now <= cached.principal().expiresAtEpochSecond() + clockSkewSeconds
        && keyStillPublished(cached.keyId())) {
      return cached.principal();
    }
    JWTClaimsSet claims;
    String keyId;
    try {
      SignedJWT jwt = SignedJWT.parse(token);
      keyId = jwt.getHeader().getKeyID();
      claims = processor.process(jwt, null);
    } catch (RateLimitReachedException e) {
      throw new AuthenticationException("Invalid token: signed with a key the issuer does not publish");
    } catch (KeySourceException e) {
      throw new StoreUnavailableException("The identity provider's keys cannot be fetched: " + e.getMessage(), e);
    } catch (ParseException e) {
      throw new AuthenticationException("Malformed token: " + e.getMessage());
    } catch (BadJOSEException | JOSEException e) {
      throw new AuthenticationException("Invalid token: " + e.getMessage());
    }
    Principal p = principal(claims);
    verified.put(key, new Verified(p, keyId));
    return p;
  }

  private record Verified(Principal principal, String keyId) {}

  /**
   * A token as the cache's key: equal only to the very same token, hashed on the last characters
   * of its signature, which differ from token to token anyway. String's own hash would read the
   * whole token (a kilobyte) on every request; only verified tokens get into the cache, so
   * nobody can choose what collides.
   */
  private record TokenKey(String token) {
    @Override
    public int hashCode() {
      int h = 0;
      for (int i = Math.max(0, token.length() - 24); i < token.length(); i++) {
        h = 31 * h + token.charAt(i);
      }
      return h;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof TokenKey k && k.token.equals(token);
    }
  }

  /** A rotated-out key invalidates the tokens it signed, even those verified before. */
  private boolean keyStillPublished(String keyId) {
    try {
      return !keys.get(new JWKSelector(new JWKMatcher.Builder().keyID(keyId).build()), null).isEmpty();
    } catch (KeySourceException e) {
      return false;
    }
  }

  private static Principal principal(JWTClaimsSet claims) {
    try {
      Set<String> roles = new LinkedHashSet<>();
      Map<String, Object> realm = claims.getJSONObjectClaim("realm_access");
      if (realm != null && realm.get("roles") instanceof List<?> list) {
        list.forEach(r -> roles.add(String.valueOf(r)));
      }
      Map<String, Object> ctx = claims.getJSONObjectClaim("context");
      Context context = ctx == null ? Context.NONE : new Context(str(ctx, "organization_id"),
          str(ctx, "care_team_id"), str(ctx, "patient_id"), str(ctx, "episode_of_care_id"));
      long exp = claims.getExpirationTime().getTime() / 1000;
      return new Principal(new Principal.Identity(claims.getSubject(), claims.getStringClaim("user_id"),
          UserType.of(claims.getStringClaim("user_type")), claims.getStringClaim("name")), Set.copyOf(roles), context,
          exp);
    } catch (ParseException e) {
      throw new AuthenticationException("Token claims of the wrong type: " + e.getMessage());
    }
  }

  private static String str(Map<String, Object> m, String key) {
    Object v = m.get(key);
    return v == null || v.toString().isBlank() ? null : v.toString();
  }
}
