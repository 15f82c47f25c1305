package io.appointmentserver.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real Keycloak for the identity tests: the distribution that Maven unpacks into
 * {@code target/keycloak}, started once per test JVM on first use ({@code kc.sh start-dev} on an
 * in-memory database, on free loopback ports) with the realms {@code ehealth} (professionals) and
 * {@code nemlogin} (citizens) from {@code src/test/resources/keycloak/*-realm.json}, and stopped
 * with the JVM. Its output goes to {@code target/keycloak.log}.
 *
 * <p>Users have their user name as password: in {@code ehealth} {@code practitioner},
 * {@code system}, {@code noroles}; in {@code nemlogin} {@code citizen} (PATIENT, no privilege
 * roles, the context patient {@code Patient/kc-citizen}).
 */
public final class KeycloakServer {
  public static final String REALM = "ehealth";
  /** eHealth's citizens' realm, beside the professionals' in the same Keycloak. */
  public static final String CITIZEN_REALM = "nemlogin";
  public static final String CLIENT_ID = "fhir-test";

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String KEY_PROVIDER = "org.keycloak.keys.KeyProvider";
  private static final String ADMIN_USER = "admin";
  private static final String ADMIN_PASSWORD = UUID.randomUUID().toString();
  private static final int ATTEMPTS = 2;

  private static Process process;
  private static String base;
  private static Duration startup;

  private KeycloakServer() {}

  /** {@code http://127.0.0.1:PORT/realms/ehealth}: the {@code iss} of the realm's tokens. */
  public static String issuer() {
    return issuer(REALM);
  }

  /** The {@code iss} of {@code realm}'s tokens. */
  public static String issuer(String realm) {
    return base() + "/realms/" + realm;
  }

  /** The realm's JSON Web Key Set. */
  public static String jwksUrl() {
    return issuer() + "/protocol/openid-connect/certs";
  }

  public static String tokenUrl() {
    return issuer() + "/protocol/openid-connect/token";
  }

  /** How long the start took (process start until the realm's discovery document answered). */
  public static synchronized Duration startupTime() {
    base();
    return startup;
  }

  /** A fresh access token for a user of the realm (password grant of the public test client). */
  public static String token(String username) {
    return token(username, username);
  }

  public static String token(String username, String password) {
    return token(REALM, username, password);
  }

  /** A fresh access token for a user of {@code realm}. */
  public static String token(String realm, String username, String password) {
    HttpResponse<String> r = Http.send("POST", issuer(realm) + "/protocol/openid-connect/token", form(Map.of(
        "grant_type", "password", "client_id", CLIENT_ID, "username", username, "password", password)),
        "Content-Type", "application/x-www-form-urlencoded");
    if (r.statusCode() != 200) {
      throw new IllegalStateException("no token for " + username + ": " + r.statusCode() + " " + r.body());
    }
    return json(r.body()).get("access_token").asText();
  }

  /** The realm's current key set, as JSON. */
  public static JsonNode jwks() {
    HttpResponse<String> r = Http.get(jwksUrl());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("JWKS: " + r.statusCode() + " " + r.body());
    }
    return json(r.body());
  }

  /** The kids of the realm's signing keys (use sig) that are in the JWKS now. */
  public static Set<String> signingKids() {
    Set<String> kids = new HashSet<>();
    for (JsonNode k : jwks().path("keys")) {
      if ("sig".equals(k.path("use").asText()) && "RSA".equals(k.path("kty").asText())) {
        kids.add(k.path("kid").asText());
      }
    }
    return kids;
  }

  /** The decoded JOSE header of a JWT. */
  public static JsonNode header(String jwt) {
    return json(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[0]), StandardCharsets.UTF_8));
  }

  /** The decoded claims of a JWT (no signature check). */
  public static JsonNode claims(String jwt) {
    return json(new String(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), StandardCharsets.UTF_8));
  }

  /**
   * Rotates the realm's RSA signing key through the admin REST API: adds a new
   * {@code rsa-generated} key provider with a higher priority and removes the old ones, so that
   * new tokens carry a new {@code kid} and the old key is gone from the JWKS.
   *
   * @return the kid of the new signing key
   */
  public static synchronized String rotateKeys() {
    String admin = adminToken();
    String realmAdmin = base() + "/admin/realms/" + REALM;
    String realmId = json(adminCall("GET", realmAdmin, null, admin, 200)).get("id").asText();
    JsonNode providers = json(adminCall("GET", realmAdmin + "/components?type=" + KEY_PROVIDER, null, admin, 200));
    List<String> old = new ArrayList<>();
    long priority = 0;
    for (JsonNode c : providers) {
      if ("rsa-generated".equals(c.path("providerId").asText())) {
        old.add(c.get("id").asText());
        priority = Math.max(priority, c.path("config").path("priority").path(0).asLong(0));
      }
    }
    Set<String> before = signingKids();

    ObjectNode component = MAPPER.createObjectNode();
    component.put("name", "rsa-rotated-" + System.currentTimeMillis());
    component.put("providerId", "rsa-generated");
    component.put("providerType", KEY_PROVIDER);
    component.put("parentId", realmId);
    ObjectNode config = component.putObject("config");
    config.putArray("priority").add(String.valueOf(priority + 100));
    config.putArray("keySize").add("2048");
    config.putArray("algorithm").add("RS256");
    config.putArray("active").add("true");
    config.putArray("enabled").add("true");
    adminCall("POST", realmAdmin + "/components", component.toString(), admin, 201);
    for (String id : old) {
      adminCall("DELETE", realmAdmin + "/components/" + id, null, admin, 204);
    }

    Set<String> after = signingKids();
    Set<String> added = new HashSet<>(after);
    added.removeAll(before);
    if (added.size() != 1 || !after.equals(added)) {
      throw new IllegalStateException("key rotation left the JWKS at " + after + " (before: " + before + ")");
    }
    return added.iterator().next();
  }

  /** An access token of Keycloak's admin in the master realm: another issuer, another key. */
  public static String masterRealmToken() {
    return adminToken();
  }

  private static String adminToken() {
    HttpResponse<String> r = Http.send("POST", base() + "/realms/master/protocol/openid-connect/token",
        form(Map.of("grant_type", "password", "client_id", "admin-cli",
            "username", ADMIN_USER, "password", ADMIN_PASSWORD)),
        "Content-Type", "application/x-www-form-urlencoded");
    if (r.statusCode() != 200) {
      throw new IllegalStateException("no admin token: " + r.statusCode() + " " + r.body());
    }
    return json(r.body()).get("access_token").asText();
  }

  private static String adminCall(String method, String url, String body, String token, int expected) {
    HttpResponse<String> r = body == null
        ? Http.send(method, url, null, "Authorization", "Bearer " + token)
        : Http.send(method, url, body, "Authorization", "Bearer " + token, "Content-Type", "application/json");
    if (r.statusCode() != expected) {
      throw new IllegalStateException(method + " " + url + ": " + r.statusCode() + " " + r.body());
    }
    return r.body();
  }

  // --- process ---------------------------------------------------------------------------------

  private static synchronized String base() {
    if (base == null) {
      start();
    }
    return base;
  }

  private static void start() {
    Path home = Path.of(System.getProperty("keycloak.home", "target/keycloak/keycloak-26.5.6"));
    Path kc = home.resolve("bin/kc.sh");
    if (!Files.isRegularFile(kc)) {
      throw new IllegalStateException("no Keycloak distribution at " + home.toAbsolutePath()
          + ": run the Maven build (mvn process-test-resources unpacks it into target/keycloak)");
    }
    // .ci/run exports KEYCLOAK_JAVA_HOME when it had to look for a JDK 21+
    String env = System.getenv("KEYCLOAK_JAVA_HOME");
    Path javaHome = Path.of(env != null && !env.isBlank() ? env
        : System.getProperty("keycloak.java.home", "/usr/lib/jvm/temurin-25-jdk-amd64"));
    if (!Files.isExecutable(javaHome.resolve("bin/java"))) {
      throw new IllegalStateException("Keycloak needs Java 21 or newer; none at " + javaHome
          + " (set -Dkeycloak.java.home=...)");
    }
    Path log = Path.of(System.getProperty("keycloak.log", "target/keycloak.log"));
    try {
      Path imports = home.resolve("data/import");
      Files.createDirectories(imports);
      for (String name : new String[] {REALM, CITIZEN_REALM}) {
        String file = name + "-realm.json";
        try (InputStream realm = KeycloakServer.class.getResourceAsStream("/keycloak/" + file)) {
          if (realm == null) {
            throw new IllegalStateException("keycloak/" + file + " is not on the test class path");
          }
          Files.copy(realm, imports.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      Files.createDirectories(log.toAbsolutePath().getParent());
      Files.writeString(log, "");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }

    IllegalStateException failure = null;
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        startOnce(kc, javaHome, log);
        Runtime.getRuntime().addShutdownHook(new Thread(KeycloakServer::stop, "keycloak-stop"));
        return;
      } catch (IllegalStateException e) {
        // most likely a port taken between choosing it and Keycloak binding it: once more
        stop();
        failure = failure == null ? e : failure;
        if (failure != e) {
          failure.addSuppressed(e);
        }
      }
    }
    throw failure;
  }

  private static void startOnce(Path kc, Path javaHome, Path log) {
    int port = freePort();
    int managementPort = freePort();
    String url = "http://127.0.0.1:" + port;
    // The watchdog shell ends Keycloak when this JVM goes away without running its shutdown hooks
    // (kill -9), so that no Keycloak outlives the build.
    String watchdog = String.join("\n",
        "\"$@\" &",
        "kc=$!",
        "trap 'kill -TERM $kc 2>/dev/null; wait $kc; exit 143' TERM INT",
        "while kill -0 \"$OWNER_PID\" 2>/dev/null && kill -0 $kc 2>/dev/null; do sleep 1; done",
        "kill -TERM $kc 2>/dev/null",
        "wait $kc");
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", watchdog, "keycloak",
        "bash", kc.toAbsolutePath().toString(), "start-dev",
        "--http-host=127.0.0.1", "--http-port=" + port, "--http-management-port=" + managementPort,
        "--hostname-strict=false", "--db=dev-mem", "--import-realm");
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("KC_") || k.startsWith("KEYCLOAK_") || k.startsWith("JAVA_OPTS"));
    env.put("JAVA_HOME", javaHome.toString());
    env.put("JAVA_OPTS_KC_HEAP", "-Xms64m -Xmx512m");
    env.put("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN_USER);
    env.put("KC_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD);
    env.put("OWNER_PID", String.valueOf(ProcessHandle.current().pid()));
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));

    long t0 = System.nanoTime();
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new IllegalStateException("could not run " + kc, e);
    }
    String discovery = url + "/realms/" + REALM + "/.well-known/openid-configuration";
    long timeout = Long.getLong("keycloak.startTimeoutSeconds", 180);
    long deadline = t0 + TimeUnit.SECONDS.toNanos(timeout);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("Keycloak exited with " + process.exitValue() + " while starting; "
            + tail(log));
      }
      try {
        HttpResponse<String> r = Http.get(discovery);
        if (r.statusCode() == 200 && json(r.body()).path("issuer").asText().equals(url + "/realms/" + REALM)
            && Http.get(url + "/realms/" + CITIZEN_REALM + "/.well-known/openid-configuration").statusCode() == 200) {
          base = url;
          startup = Duration.ofNanos(System.nanoTime() - t0);
          System.out.println("Keycloak " + url + " ready in " + startup.toMillis() + " ms (log: " + log + ")");
          return;
        }
      } catch (IllegalStateException notYet) {
        // connection refused until it listens
      }
      sleep(500);
    }
    throw new IllegalStateException("Keycloak did not answer " + discovery + " within " + timeout + " s; "
        + tail(log));
  }

  /** Ends Keycloak and everything it started, politely first. */
  static synchronized void stop() {
    Process p = process;
    if (p == null) {
      return;
    }
    process = null;
    base = null;
    List<ProcessHandle> tree = p.descendants().collect(Collectors.toList());
    tree.forEach(ProcessHandle::destroy);
    p.destroy();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    for (ProcessHandle h : tree) {
      try {
        h.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (Exception e) {
        h.destroyForcibly();
      }
    }
    try {
      if (!p.waitFor(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        p.destroyForcibly();
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  // --- helpers ---------------------------------------------------------------------------------

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return "last lines of " + log + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "see " + log;
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String form(Map<String, String> fields) {
    return fields.entrySet().stream()
        .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
            + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }

  private static JsonNode json(String s) {
    try {
      return MAPPER.readTree(s);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + s, e);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
