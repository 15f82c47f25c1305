package io.appointmentserver;

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
    return sign(dataDir, "SYSTEM", roles, Map.of(), null, 300);
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
