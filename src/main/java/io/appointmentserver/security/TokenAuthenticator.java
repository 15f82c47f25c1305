package io.appointmentserver.security;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import io.appointmentserver.security.Principal.Context;
import io.appointmentserver.security.Principal.UserType;
import io.appointmentserver.store.StoreUnavailableException;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bearer token authentication: RS256 or ES256 JWTs from one of the trusted issuers, each checked
 * with its own keys ({@link IssuerKeys}); the token's {@code iss} says which. Nimbus JOSE+JWT does
 * all the cryptography and claim checks. Verified tokens are cached until they expire, so a client
 * sending the same token again costs a map lookup. Citizens (user type PATIENT) get the configured
 * citizen privileges beside their token's roles: eHealth's citizen realm gives them none.
 */
public final class TokenAuthenticator {
  /**
   * What the server trusts: {@code issuers} (empty: dev mode, the server's own key), the
   * {@code audience} tokens must name (null: any), the clock skew allowed for {@code exp} and
   * {@code nbf}, and the privileges every PATIENT user has beside the roles of their token.
   */
  public record Settings(List<TrustedIssuer> issuers, String audience, long clockSkewSeconds,
      Set<String> citizenPrivileges) {}

  /** By {@code iss}: the issuers whose tokens are accepted. */
  private final Map<String, IssuerKeys> issuers;
  /** Tokens already verified, with the issuer and the id of the key that signed them. */
  private final Cache<TokenKey, Verified> verified;
  private final long clockSkewSeconds;
  private final Set<String> citizenPrivileges;

  private TokenAuthenticator(Map<String, IssuerKeys> issuers, Settings settings) {
    this.issuers = Map.copyOf(issuers);
    this.clockSkewSeconds = settings.clockSkewSeconds();
    this.citizenPrivileges = Set.copyOf(settings.citizenPrivileges());
    verified = Caffeine.newBuilder().maximumSize(50_000).expireAfterWrite(Duration.ofMinutes(10))
        .executor(Runnable::run) // upkeep on the caller: no thread of the common pool woken for it (see ReadCache)
        .build();
  }

  /**
   * From the configuration: each issuer with its JWKS (an http(s) URL or {@code file:}); without
   * any, the server runs in dev mode on its own key in {@code dataDir}.
   */
  public static TokenAuthenticator create(Settings settings, Path dataDir) {
    Set<String> aud = settings.audience() == null ? null : Set.of(settings.audience());
    Map<String, IssuerKeys> byIssuer = new LinkedHashMap<>();
    if (settings.issuers().isEmpty()) {
      byIssuer.put(DevKeys.ISSUER, new IssuerKeys(DevKeys.ISSUER, new ImmutableJWKSet<>(DevKeys.publicKeys(dataDir)),
          aud, settings.clockSkewSeconds()));
    }
    for (TrustedIssuer t : settings.issuers()) {
      IssuerKeys keys = new IssuerKeys(t.issuer(), IssuerKeys.source(t.jwks()), aud, settings.clockSkewSeconds());
      if (byIssuer.put(t.issuer(), keys) != null) {
        throw new IllegalArgumentException("the issuer " + t.issuer() + " is configured twice");
      }
    }
    return new TokenAuthenticator(byIssuer, settings);
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
        && cached.issuer().publishes(cached.keyId())) {
      return cached.principal();
    }
    JWTClaimsSet claims;
    String keyId;
    IssuerKeys issuer;
    try {
      SignedJWT jwt = SignedJWT.parse(token);
      keyId = jwt.getHeader().getKeyID();
      // the unverified iss only picks whose keys check the signature; that issuer's processor checks iss again
      String iss = jwt.getJWTClaimsSet().getIssuer();
      issuer = iss == null ? null : issuers.get(iss);
      if (issuer == null) {
        throw new AuthenticationException("Invalid token: " + (iss == null ? "no issuer (iss)"
            : "the issuer " + iss + " is not trusted"));
      }
      claims = issuer.processor().process(jwt, null);
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
    verified.put(key, new Verified(p, issuer, keyId));
    return p;
  }

  private record Verified(Principal principal, IssuerKeys issuer, String keyId) {}

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

  private Principal principal(JWTClaimsSet claims) {
    try {
      Set<String> roles = new LinkedHashSet<>();
      Map<String, Object> realm = claims.getJSONObjectClaim("realm_access");
      if (realm != null && realm.get("roles") instanceof List<?> list) {
        list.forEach(r -> roles.add(String.valueOf(r)));
      }
      UserType userType = UserType.of(claims.getStringClaim("user_type"));
      if (userType == UserType.PATIENT) {
        roles.addAll(citizenPrivileges);
      }
      Map<String, Object> ctx = claims.getJSONObjectClaim("context");
      Context context = ctx == null ? Context.NONE : new Context(str(ctx, "organization_id"),
          str(ctx, "care_team_id"), str(ctx, "patient_id"), str(ctx, "episode_of_care_id"));
      long exp = claims.getExpirationTime().getTime() / 1000;
      return new Principal(new Principal.Identity(claims.getSubject(), claims.getStringClaim("user_id"),
          userType, claims.getStringClaim("name")), Set.copyOf(roles), context,
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
