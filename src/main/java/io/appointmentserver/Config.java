package io.appointmentserver;

import io.appointmentserver.security.TrustedIssuer;
import io.appointmentserver.store.Bookings;
import io.appointmentserver.validation.ProfileValidator;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The server's configuration, read once from environment variables (see README) into one
 * immutable value. Flags of the {@code serve} command override the same names.
 *
 * @param host            interface to listen on ({@code FHIR_HOST})
 * @param port            HTTP port ({@code FHIR_PORT}); 0 picks a free port
 * @param dataDir         where the embedded PostgreSQL keeps its data ({@code FHIR_DATA_DIR})
 * @param dbUrl           JDBC URL of an external PostgreSQL; null means embedded
 * @param baseUrl         public base URL; null means "as the request was addressed"
 * @param timeZone        zone of {@code meta.lastUpdated}
 * @param maxBodyBytes    largest accepted request body, after decompression
 * @param checkReferences reject relative references to resources this server does not have
 * @param builtInIg       load the built-in eHealth IG (release 2020.8) at start-up ({@code FHIR_IG}:
 *                        {@code ehealth}, the default, or {@code none})
 * @param igPaths         further IG packages ({@code .tgz}) or folders, comma-separated
 *                        ({@code FHIR_IG_PATH}); their resources replace built-in ones of the same URL
 * @param allowUnknownProfiles a claimed profile the server does not know is a warning, not a 422
 *                        ({@code FHIR_VALIDATION_UNKNOWN_PROFILES=allow})
 * @param conditionalDeleteMultiple a conditional delete deletes every match, not only a single one
 *                        ({@code FHIR_CONDITIONAL_DELETE_MULTIPLE}); else several matches are a 412
 * @param videoMeetingBaseUrl the video meeting service whose meetings the server adds to the video
 *                        appointments it creates ({@code FHIR_VIDEO_MEETING_BASE_URL}); null for none
 * @param searchMaxIncludes the most resources one search page includes ({@code _include},
 *                        {@code _revinclude}, iterated); beyond, a warning entry ({@code FHIR_SEARCH_MAX_INCLUDES})
 * @param validation      which writes go through the instance validator ({@code FHIR_VALIDATION}:
 *                        {@code full}, {@code profiles} or {@code off})
 * @param readCacheMb     megabytes of current versions kept in memory for reads while no other server
 *                        process uses the database ({@code FHIR_READ_CACHE_MB}); 0 turns the cache off
 * @param authIssuers     the trusted token issuers, each with its keys ({@code FHIR_AUTH_ISSUER} and
 *                        {@code FHIR_AUTH_JWKS}, {@code FHIR_AUTH_ISSUERS}); empty: dev mode
 * @param citizenPrivileges the privileges every PATIENT user has beside their token's roles
 *                        ({@code FHIR_CITIZEN_PRIVILEGES}, comma-separated; empty for none)
 * @param logLevel        level of the server's log ({@code FHIR_LOG_LEVEL}: error, warn, info, debug, trace)
 * @param accessLog       where the access log goes ({@code FHIR_ACCESS_LOG}: {@code stderr}, {@code off} or a file)
 * @param expunge         {@code $expunge} is served ({@code FHIR_EXPUNGE=on}); off by default, as in HAPI's
 *                        JPA server: it removes data for good, so a deployment turns it on knowingly
 * @param service         which service the server is ({@code FHIR_SERVICE}): {@code general}, the default, or
 *                        {@code patient}, the eHealth patient service, whose Patients are created only by
 *                        {@code $createPatient} (create, update and delete through REST are a 405)
 * @param personRegister  the person register {@code $createPatient}, {@code $match} and the SKRS update use
 *                        ({@code FHIR_PERSON_REGISTER_*}); its url null: the server's own Person resources
 * @param subscriptions   the Subscriptions' delivery ({@code FHIR_SUBSCRIPTION_*})
 * @param settings        the {@code FHIR_*} variables this was read from (for {@link #with})
 */
public record Config(
    String host,
    int port,
    Path dataDir,
    String dbUrl,
    String dbUser,
    String dbPassword,
    String baseUrl,
    ZoneId timeZone,
    long maxBodyBytes,
    boolean checkReferences,
    int dbPoolSize,
    List<TrustedIssuer> authIssuers,
    String authAudience,
    long authClockSkewSeconds,
    Set<String> citizenPrivileges,
    Bookings.Mode appointmentOverlap,
    boolean embeddedFsync,
    boolean builtInIg,
    List<Path> igPaths,
    boolean allowUnknownProfiles,
    String videoMeetingBaseUrl,
    int searchMaxIncludes,
    boolean conditionalDeleteMultiple,
    ProfileValidator.Mode validation,
    long readCacheMb,
    String logLevel,
    String accessLog,
    boolean expunge,
    Service service,
    PersonRegister personRegister,
    SubscriptionDelivery subscriptions,
    Map<String, String> settings) {

  /** What the server serves: the general DSTU3 server, or the eHealth patient service. */
  public enum Service { GENERAL, PATIENT }

  /**
   * A person register reached over FHIR: {@code url} its base ({@code FHIR_PERSON_REGISTER_URL}), the
   * bearer token sent to it or null ({@code FHIR_PERSON_REGISTER_TOKEN}), how long one attempt may take
   * ({@code FHIR_PERSON_REGISTER_TIMEOUT_MS}) and how often a failed one is repeated
   * ({@code FHIR_PERSON_REGISTER_RETRIES}).
   */
  public record PersonRegister(String url, String token, long timeoutMs, int retries) {}

  /**
   * How Subscriptions deliver: {@code endpoints}, the URL prefixes a rest-hook may call
   * ({@code FHIR_SUBSCRIPTION_ENDPOINTS}, comma-separated; none when unset); a delivery failing
   * {@code attempts} times puts its Subscription in error ({@code FHIR_SUBSCRIPTION_ATTEMPTS}); the
   * first retry after {@code retryMs}, doubling up to {@code retryMaxMs} ({@code FHIR_SUBSCRIPTION_RETRY_MS},
   * {@code FHIR_SUBSCRIPTION_RETRY_MAX_MS}); {@code senders} threads send ({@code FHIR_SUBSCRIPTION_SENDERS}); a process holds the
   * deliveries it sends for {@code leaseSeconds}, after which another takes over a dead one's
   * ({@code FHIR_SUBSCRIPTION_LEASE_SECONDS}; a send may take a third of it).
   */
  public record SubscriptionDelivery(List<String> endpoints, int attempts, long retryMs, long retryMaxMs, int senders,
      long leaseSeconds) {}

  public static Config fromEnvironment() {
    return from(System.getenv());
  }

  public static Config from(Map<String, String> env) {
    int port = Integer.parseInt(env.getOrDefault("FHIR_PORT", "8080"));
    return new Config(
        env.getOrDefault("FHIR_HOST", "127.0.0.1"),
        port,
        Path.of(env.getOrDefault("FHIR_DATA_DIR", "./data")),
        blankToNull(env.get("FHIR_DB_URL")),
        env.getOrDefault("FHIR_DB_USER", "postgres"),
        env.getOrDefault("FHIR_DB_PASSWORD", ""),
        blankToNull(env.get("FHIR_BASE_URL")),
        ZoneId.of(env.getOrDefault("FHIR_TIMEZONE", "Europe/Copenhagen")),
        Long.parseLong(env.getOrDefault("FHIR_MAX_BODY_BYTES", String.valueOf(10L * 1024 * 1024))),
        Boolean.parseBoolean(env.getOrDefault("FHIR_CHECK_REFERENCES", "true")),
        // HikariCP's pool-sizing rule, cores × 2 + 1: more connections than that only queue in the
        // scheduler (16 on 2 cores gave searches a p99 of 23 ms at 8 clients, 5 gives 9 ms)
        Integer.parseInt(env.getOrDefault("FHIR_DB_POOL_SIZE",
            String.valueOf(Runtime.getRuntime().availableProcessors() * 2 + 1))),
        issuers(blankToNull(env.get("FHIR_AUTH_ISSUER")), blankToNull(env.get("FHIR_AUTH_JWKS")),
            env.get("FHIR_AUTH_ISSUERS")),
        blankToNull(env.get("FHIR_AUTH_AUDIENCE")),
        Long.parseLong(env.getOrDefault("FHIR_AUTH_CLOCK_SKEW_SECONDS", "30")),
        privileges(env.getOrDefault("FHIR_CITIZEN_PRIVILEGES", DEFAULT_CITIZEN_PRIVILEGES)),
        Bookings.Mode.valueOf(env.getOrDefault("FHIR_APPOINTMENT_OVERLAP", "warn").trim().toUpperCase(java.util.Locale.ROOT)),
        !env.getOrDefault("FHIR_DB_FSYNC", "on").trim().equalsIgnoreCase("off"),
        builtInIg(env.getOrDefault("FHIR_IG", "ehealth")),
        igPaths(env.get("FHIR_IG_PATH")),
        unknownProfiles(env.getOrDefault("FHIR_VALIDATION_UNKNOWN_PROFILES", "reject")),
        blankToNull(env.get("FHIR_VIDEO_MEETING_BASE_URL")),
        Integer.parseInt(env.getOrDefault("FHIR_SEARCH_MAX_INCLUDES", "1000").trim()),
        Boolean.parseBoolean(env.getOrDefault("FHIR_CONDITIONAL_DELETE_MULTIPLE", "false").trim()),
        ProfileValidator.Mode.parse(env.getOrDefault("FHIR_VALIDATION", "profiles")),
        Long.parseLong(env.getOrDefault("FHIR_READ_CACHE_MB", "64").trim()),
        logLevel(env.getOrDefault("FHIR_LOG_LEVEL", "info")),
        env.getOrDefault("FHIR_ACCESS_LOG", "stderr").trim(),
        onOff("FHIR_EXPUNGE", env.getOrDefault("FHIR_EXPUNGE", "off")),
        service(env.getOrDefault("FHIR_SERVICE", "general")),
        new PersonRegister(blankToNull(env.get("FHIR_PERSON_REGISTER_URL")),
            blankToNull(env.get("FHIR_PERSON_REGISTER_TOKEN")),
            positive("FHIR_PERSON_REGISTER_TIMEOUT_MS", env.getOrDefault("FHIR_PERSON_REGISTER_TIMEOUT_MS", "5000")),
            (int) Math.min(5, Long.parseLong(env.getOrDefault("FHIR_PERSON_REGISTER_RETRIES", "2").trim()))),
        new SubscriptionDelivery(
            Arrays.stream(env.getOrDefault("FHIR_SUBSCRIPTION_ENDPOINTS", "").split(",")).map(String::trim)
                .filter(v -> !v.isEmpty()).toList(),
            (int) positive("FHIR_SUBSCRIPTION_ATTEMPTS", env.getOrDefault("FHIR_SUBSCRIPTION_ATTEMPTS", "8")),
            positive("FHIR_SUBSCRIPTION_RETRY_MS", env.getOrDefault("FHIR_SUBSCRIPTION_RETRY_MS", "1000")),
            positive("FHIR_SUBSCRIPTION_RETRY_MAX_MS", env.getOrDefault("FHIR_SUBSCRIPTION_RETRY_MAX_MS", "600000")),
            (int) positive("FHIR_SUBSCRIPTION_SENDERS", env.getOrDefault("FHIR_SUBSCRIPTION_SENDERS", "4")),
            positive("FHIR_SUBSCRIPTION_LEASE_SECONDS", env.getOrDefault("FHIR_SUBSCRIPTION_LEASE_SECONDS", "60"))),
        // new settings go above this line; the FHIR_* variables themselves are kept for with()
        fhirSettings(env));
  }

  private static Map<String, String> fhirSettings(Map<String, String> env) {
    Map<String, String> settings = new HashMap<>();
    env.forEach((name, value) -> {
      if (name.startsWith("FHIR_")) {
        settings.put(name, value);
      }
    });
    return Map.copyOf(settings);
  }

  /**
   * What citizens (user type PATIENT) may do with their own data when their token grants nothing
   * (eHealth's citizen realm gives them no privilege roles): read their Patient, read and search
   * their appointments (and export them to a calendar), everything on their related persons, read,
   * search, send, mark (patch) and delete their messages; what the eHealth recordings of citizen
   * requests and the patient service's CapabilityStatement show. The patient context still limits
   * every one of them to the citizen's own patient compartment.
   */
  static final String DEFAULT_CITIZEN_PRIVILEGES = "Patient.read,Patient.search,Appointment.read,"
      + "Appointment.search,Appointment$exportAsiCal,RelatedPerson.*,Communication.read,Communication.search,"
      + "Communication.create,Communication.patch,Communication.delete";

  /**
   * The trusted issuers: {@code FHIR_AUTH_ISSUER} with {@code FHIR_AUTH_JWKS} (one, as before),
   * then the entries of {@code FHIR_AUTH_ISSUERS}: comma-separated, each an issuer and, after a
   * space, its JWKS (Keycloak's {@code {issuer}/protocol/openid-connect/certs} when left out).
   */
  private static List<TrustedIssuer> issuers(String issuer, String jwks, String more) {
    List<TrustedIssuer> issuers = new ArrayList<>();
    if ((issuer == null) != (jwks == null)) {
      throw new IllegalArgumentException("FHIR_AUTH_ISSUER and FHIR_AUTH_JWKS must be set together");
    }
    if (issuer != null) {
      issuers.add(new TrustedIssuer(issuer, jwks));
    }
    for (String entry : more == null ? new String[0] : more.split(",")) {
      String[] parts = entry.trim().split("\\s+");
      if (parts[0].isEmpty()) {
        continue;
      }
      if (parts.length > 2) {
        throw new IllegalArgumentException("FHIR_AUTH_ISSUERS: '" + entry.trim()
            + "' is not an issuer and its JWKS separated by a space");
      }
      issuers.add(parts.length == 1 ? TrustedIssuer.keycloak(parts[0]) : new TrustedIssuer(parts[0], parts[1]));
    }
    return List.copyOf(issuers);
  }

  private static Set<String> privileges(String value) {
    return Arrays.stream(value.split(",")).map(String::trim).filter(v -> !v.isEmpty())
        .collect(java.util.stream.Collectors.toUnmodifiableSet());
  }

  /** Whether no issuer is configured: the server accepts only tokens signed with its own dev key. */
  public boolean devMode() {
    return authIssuers.isEmpty();
  }

  private static Service service(String value) {
    return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "general", "" -> Service.GENERAL;
      case "patient" -> Service.PATIENT;
      default -> throw new IllegalArgumentException("FHIR_SERVICE must be general or patient, not " + value);
    };
  }

  private static long positive(String name, String value) {
    long n = Long.parseLong(value.trim());
    if (n <= 0) {
      throw new IllegalArgumentException(name + " must be positive, not " + value);
    }
    return n;
  }

  private static boolean builtInIg(String value) {
    return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "ehealth", "" -> true;
      case "none" -> false;
      default -> throw new IllegalArgumentException("FHIR_IG must be ehealth or none, not " + value);
    };
  }

  private static List<Path> igPaths(String value) {
    if (value == null || value.isBlank()) {
      return List.of();
    }
    return Arrays.stream(value.split(",")).map(String::trim).filter(v -> !v.isEmpty()).map(Path::of).toList();
  }

  private static String logLevel(String value) {
    String level = value.trim().toLowerCase(java.util.Locale.ROOT);
    if (!java.util.List.of("error", "warn", "info", "debug", "trace").contains(level)) {
      throw new IllegalArgumentException("FHIR_LOG_LEVEL must be error, warn, info, debug or trace, not " + value);
    }
    return level;
  }

  private static boolean onOff(String name, String value) {
    return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "on", "true" -> true;
      case "off", "false", "" -> false;
      default -> throw new IllegalArgumentException(name + " must be on or off, not " + value);
    };
  }

  private static boolean unknownProfiles(String value) {
    return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "reject", "" -> false;
      case "allow" -> true;
      default -> throw new IllegalArgumentException(
          "FHIR_VALIDATION_UNKNOWN_PROFILES must be reject or allow, not " + value);
    };
  }

  /** The configured public base URL, or the default for the port the server listens on. */
  public String effectiveBaseUrl(int actualPort) {
    return baseUrl != null ? stripSlash(baseUrl) : "http://localhost:" + actualPort + "/fhir";
  }

  /**
   * This configuration with one setting changed (null removes it), read again by {@link #from}:
   * the one place a setting is parsed, so a new setting needs no copy method.
   */
  /**
   * The broker change events are published to ({@code FHIR_BROKER_URL}, e.g. {@code tcp://127.0.0.1:61616};
   * null when unset), with {@code FHIR_BROKER_USER} and {@code FHIR_BROKER_PASSWORD} when it needs them,
   * and {@code FHIR_BROKER_PAYLOAD}: {@code resource} (the default) or {@code reference}.
   */
  public io.appointmentserver.notify.ChangeEvents.Settings broker() {
    String url = blankToNull(settings.get("FHIR_BROKER_URL"));
    if (url == null) {
      return null;
    }
    String payload = settings.getOrDefault("FHIR_BROKER_PAYLOAD", "resource").trim().toUpperCase(java.util.Locale.ROOT);
    if (!payload.equals("RESOURCE") && !payload.equals("REFERENCE")) {
      throw new IllegalArgumentException("FHIR_BROKER_PAYLOAD must be resource or reference, not " + payload);
    }
    return new io.appointmentserver.notify.ChangeEvents.Settings(url, blankToNull(settings.get("FHIR_BROKER_USER")),
        blankToNull(settings.get("FHIR_BROKER_PASSWORD")),
        io.appointmentserver.notify.ChangeEvents.Payload.valueOf(payload));
  }

  public Config with(String name, String value) {
    return with(new String[] {name, value});
  }

  /** This configuration with several settings changed at once ({@code namesAndValues}: name, value, ...). */
  private Config with(String... namesAndValues) {
    Map<String, String> changed = new HashMap<>(settings);
    for (int i = 0; i < namesAndValues.length; i += 2) {
      if (namesAndValues[i + 1] == null) {
        changed.remove(namesAndValues[i]);
      } else {
        changed.put(namesAndValues[i], namesAndValues[i + 1]);
      }
    }
    return from(changed);
  }

  public Config withPort(int newPort) {
    return with("FHIR_PORT", String.valueOf(newPort));
  }

  public Config withDatabase(String url, String user, String password) {
    return with("FHIR_DB_URL", url).with("FHIR_DB_USER", user).with("FHIR_DB_PASSWORD", password);
  }

  public Config withCheckReferences(boolean check) {
    return with("FHIR_CHECK_REFERENCES", String.valueOf(check));
  }

  public Config withBaseUrl(String url) {
    return with("FHIR_BASE_URL", url);
  }

  /** With one trusted issuer (both set together: one without the other is refused). */
  public Config withAuth(String issuer, String jwks) {
    return with(new String[] {"FHIR_AUTH_ISSUER", issuer, "FHIR_AUTH_JWKS", jwks});
  }

  public Config withAppointmentOverlap(Bookings.Mode mode) {
    return with("FHIR_APPOINTMENT_OVERLAP", mode.name());
  }

  /** This configuration with {@code path} as the one further IG ({@code FHIR_IG_PATH}; null for none). */
  public Config withIgPath(Path path) {
    return with("FHIR_IG_PATH", path == null ? null : path.toString());
  }

  /** This configuration without any IG: neither the built-in one nor {@code FHIR_IG_PATH}. */
  public Config withoutIg() {
    return with("FHIR_IG", "none").with("FHIR_IG_PATH", null);
  }

  public Config withAllowUnknownProfiles(boolean allow) {
    return with("FHIR_VALIDATION_UNKNOWN_PROFILES", allow ? "allow" : "reject");
  }

  public Config withVideoMeetingBaseUrl(String url) {
    return with("FHIR_VIDEO_MEETING_BASE_URL", url);
  }

  public Config withSearchMaxIncludes(int max) {
    return with("FHIR_SEARCH_MAX_INCLUDES", String.valueOf(max));
  }

  public Config withConditionalDeleteMultiple(boolean multiple) {
    return with("FHIR_CONDITIONAL_DELETE_MULTIPLE", String.valueOf(multiple));
  }

  public Config withValidation(ProfileValidator.Mode mode) {
    return with("FHIR_VALIDATION", mode.name().toLowerCase(java.util.Locale.ROOT));
  }

  public Config withExpunge(boolean on) {
    return with("FHIR_EXPUNGE", on ? "on" : "off");
  }

  /** This configuration with the person register at {@code url} (null: the server's own Persons). */
  public Config withPersonRegister(String url, String token, long timeoutMs) {
    return with("FHIR_PERSON_REGISTER_URL", url).with("FHIR_PERSON_REGISTER_TOKEN", token)
        .with("FHIR_PERSON_REGISTER_TIMEOUT_MS", String.valueOf(timeoutMs));
  }

  public Config withService(Service s) {
    return with("FHIR_SERVICE", s.name().toLowerCase(java.util.Locale.ROOT));
  }

  public Config withReadCacheMb(long mb) {
    return with("FHIR_READ_CACHE_MB", String.valueOf(mb));
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }
}
