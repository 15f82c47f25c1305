package io.appointmentserver;

import com.nimbusds.jwt.JWTClaimsSet;
import io.appointmentserver.security.DevKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code token}: prints a token that a server in dev mode (no {@code FHIR_AUTH_*} set) on the same
 * {@code FHIR_DATA_DIR} accepts, with the claims eHealth tokens carry.
 */
@Command(name = "token", mixinStandardHelpOptions = true,
    description = "Print a dev-mode bearer token (signed with the key in FHIR_DATA_DIR)")
final class TokenCommand implements Callable<Integer> {
  @Option(names = "--user-type", defaultValue = "SYSTEM",
      description = "PRACTITIONER, PATIENT, SYSTEM, SSL, ... (default: ${DEFAULT-VALUE})")
  String userType;

  @Option(names = "--roles", split = ",", defaultValue = "Appointment.*,Patient.*",
      description = "privileges (realm roles), comma separated (default: ${DEFAULT-VALUE})")
  List<String> roles;

  @Option(names = "--care-team", description = "context care team, e.g. CareTeam/35102 or an absolute URL")
  String careTeam;

  @Option(names = "--patient", description = "context patient, e.g. Patient/240")
  String patient;

  @Option(names = "--organization", description = "context organization")
  String organization;

  @Option(names = "--episode-of-care", description = "context episode of care")
  String episodeOfCare;

  @Option(names = "--user-id", description = "user_id claim (default: a random Practitioner URL)")
  String userId;

  @Option(names = "--name", defaultValue = "Dev User")
  String name;

  @Option(names = "--lifetime", defaultValue = "3600", description = "seconds (default: ${DEFAULT-VALUE})")
  long lifetime;

  @Option(names = "--claims", description = "a JSON file of claims (e.g. a recorded token's) to sign as they are,"
      + " valid from now for --lifetime; the other options are then ignored")
  Path claimsFile;

  @Override
  public Integer call() throws IOException, ParseException {
    Config config = Config.fromEnvironment();
    Path dataDir = dataDir(config);
    if (claimsFile != null) {
      return print(dataDir, recorded(claimsFile, lifetime));
    }
    String base = config.effectiveBaseUrl(config.port());
    Map<String, Object> context = new LinkedHashMap<>();
    put(context, "organization_id", absolute(base, organization));
    put(context, "care_team_id", absolute(base, careTeam));
    put(context, "patient_id", absolute(base, patient));
    put(context, "episode_of_care_id", absolute(base, episodeOfCare));
    long now = System.currentTimeMillis();
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .jwtID(UUID.randomUUID().toString())
        .subject(UUID.randomUUID().toString())
        .issueTime(new Date(now))
        .notBeforeTime(new Date(now - 1000))
        .expirationTime(new Date(now + lifetime * 1000))
        .claim("typ", "Bearer")
        .claim("realm_access", Map.of("roles", roles))
        .claim("user_type", userType)
        .claim("user_id", userId != null ? absolute(base, userId) : base + "/Practitioner/dev")
        .claim("name", name);
    if (!context.isEmpty()) {
      claims.claim("context", context);
    }
    return print(dataDir, claims.build());
  }

  /**
   * FHIR_DATA_DIR as serve reads it (relative: to the working directory); without the setting and
   * without a key there, the data directory of the dev-mode server started last (it records it),
   * so that the README's token command works from any folder.
   */
  private static Path dataDir(Config config) {
    Path dir = config.dataDir();
    if (System.getenv("FHIR_DATA_DIR") == null && !Files.exists(DevKeys.file(dir))) {
      Optional<Path> served = DevKeys.lastServed();
      if (served.isPresent()) {
        System.err.println("no dev key in " + dir.toAbsolutePath().normalize() + "; using the data directory of the"
            + " dev server started last (" + DevKeys.servedRecord() + ")");
        return served.get();
      }
    }
    return dir;
  }

  /** Prints the token, and on stderr which key signed it (a refused token is then seen to come from another key). */
  private static int print(Path dataDir, JWTClaimsSet claims) {
    Path keyFile = DevKeys.file(dataDir).toAbsolutePath().normalize();
    boolean existed = Files.exists(keyFile);
    String token = DevKeys.sign(dataDir, claims);
    System.err.println("signed with the dev key " + DevKeys.load(dataDir).getKeyID() + " in " + keyFile
        + (existed ? "" : " (new: no server has run on FHIR_DATA_DIR " + keyFile.getParent()
            + " yet; one started there accepts it)"));
    System.out.println(token);
    return 0;
  }

  /** The claims of {@code file} with a new issue and expiry time. */
  static JWTClaimsSet recorded(Path file, long lifetimeSeconds) throws IOException, ParseException {
    JWTClaimsSet claims = JWTClaimsSet.parse(Files.readString(file));
    long now = System.currentTimeMillis();
    return new JWTClaimsSet.Builder(claims)
        .issueTime(new Date(now))
        .expirationTime(new Date(now + lifetimeSeconds * 1000))
        .build();
  }

  private static String absolute(String base, String ref) {
    return ref == null || ref.startsWith("http://") || ref.startsWith("https://") ? ref : base + "/" + ref;
  }

  private static void put(Map<String, Object> m, String k, String v) {
    if (v != null) {
      m.put(k, v);
    }
  }
}
