package io.appointmentserver.support;

import com.nimbusds.jwt.JWTClaimsSet;
import io.appointmentserver.security.DevKeys;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Tokens for tests, signed with the dev key of a server's data directory. */
public final class Tokens {
  private Tokens() {}

  /** A SYSTEM user with every privilege on every type. */
  public static String system(Path dataDir) {
    List<String> roles = new ArrayList<>();
    for (String type : Json.FHIR.getResourceTypes()) {
      roles.add(type + ".*");
    }
    // five minutes, as a real token; TestServer.systemToken() signs it anew each minute
    return sign(dataDir, "SYSTEM", roles, Map.of(), null, 300);
  }

  /** A recorded token's claims, signed with the dev key of {@code dataDir} and valid from now. */
  public static String resign(Path dataDir, String recordedToken) {
    return resign(dataDir, recordedToken, IgExchange.RECORDED_BASE, List.of());
  }

  /**
   * The same, with the recorded server base ({@code http://localhost:8080/fhir}) in the claims
   * replaced by {@code base} and {@code extraRoles} added to the realm roles.
   */
  public static String resign(Path dataDir, String recordedToken, String base, List<String> extraRoles) {
    return resign(dataDir, recordedToken, base, extraRoles, Map.of());
  }

  /** The same, with the claims of {@code claims} replacing the recorded ones (after the base was replaced). */
  @SuppressWarnings("unchecked")
  public static String resign(Path dataDir, String recordedToken, String base, List<String> extraRoles,
      Map<String, Object> claims) {
    try {
      String json = com.nimbusds.jwt.JWTParser.parse(recordedToken).getJWTClaimsSet().toString()
          .replace(IgExchange.RECORDED_BASE.replace("/", "\\/"), base.replace("/", "\\/"))
          .replace(IgExchange.RECORDED_BASE, base);
      JWTClaimsSet recorded = JWTClaimsSet.parse(json);
      Map<String, Object> realm = new LinkedHashMap<>(recorded.getJSONObjectClaim("realm_access"));
      List<Object> roles = new ArrayList<>((List<Object>) realm.getOrDefault("roles", List.of()));
      roles.addAll(extraRoles);
      realm.put("roles", roles);
      long now = System.currentTimeMillis();
      JWTClaimsSet.Builder b = new JWTClaimsSet.Builder(recorded).claim("realm_access", realm)
          .issueTime(new Date(now)).expirationTime(new Date(now + 300_000));
      claims.forEach(b::claim);
      return DevKeys.sign(dataDir, b.build());
    } catch (java.text.ParseException e) {
      throw new IllegalArgumentException("not a JWT: " + recordedToken, e);
    }
  }

  /** {@code context} keys as in eHealth tokens: organization_id, care_team_id, patient_id, episode_of_care_id. */
  public static String sign(Path dataDir, String userType, List<String> roles, Map<String, String> context,
      String userId, long lifetimeSeconds) {
    long now = System.currentTimeMillis();
    JWTClaimsSet.Builder b = new JWTClaimsSet.Builder()
        .jwtID(UUID.randomUUID().toString())
        .subject(UUID.randomUUID().toString())
        .issueTime(new Date(now))
        .expirationTime(new Date(now + lifetimeSeconds * 1000))
        .claim("realm_access", Map.of("roles", roles))
        .claim("user_type", userType)
        .claim("name", "Test User");
    if (userId != null) {
      b.claim("user_id", userId);
    }
    if (!context.isEmpty()) {
      b.claim("context", new LinkedHashMap<>(context));
    }
    return DevKeys.sign(dataDir, b.build());
  }
}
