package io.appointmentserver.support;

import io.appointmentserver.AppointmentServer;
import io.appointmentserver.Config;
import io.appointmentserver.store.Database;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The server the tests talk to over HTTP: one embedded PostgreSQL and one server for the whole
 * test run (started on first use), plus extra servers on the same database when a test needs a
 * different configuration.
 */
public final class TestServer {
  private static EmbeddedPostgres pg;
  private static AppointmentServer server;
  private static Path dataDir;

  private TestServer() {}

  public static synchronized AppointmentServer shared() {
    if (server == null) {
      try {
        dataDir = Files.createTempDirectory("fhir-test");
        pg = Database.startEmbedded(dataDir.resolve("pg"), 0);
        server = AppointmentServer.start(baseConfig());
      } catch (Exception e) {
        throw new IllegalStateException("test server did not start", e);
      }
    }
    return server;
  }

  /** Base URL of the shared server, e.g. {@code http://127.0.0.1:41234/fhir}. */
  public static String base() {
    return shared().baseUrl();
  }

  public static synchronized EmbeddedPostgres postgres() {
    shared();
    return pg;
  }

  /**
   * The configuration of the shared server: the test database, a free port, no public base, and
   * the built-in eHealth IG (as the server runs by default: without it, a resource claiming an
   * eHealth profile is refused, the profile being unknown).
   */
  public static Config config() {
    shared();
    return baseConfig();
  }

  private static Config baseConfig() {
    Map<String, String> env = new HashMap<>();
    env.put("FHIR_HOST", "127.0.0.1");
    env.put("FHIR_PORT", "0");
    env.put("FHIR_DATA_DIR", dataDir.toString());
    env.put("FHIR_DB_POOL_SIZE", "8");
    // Subscriptions may call the tests' receivers; retries quick, so that a failing one errs in a second or two
    env.put("FHIR_SUBSCRIPTION_ENDPOINTS", "http://127.0.0.1:");
    env.put("FHIR_SUBSCRIPTION_RETRY_MS", "100");
    env.put("FHIR_SUBSCRIPTION_RETRY_MAX_MS", "300");
    env.put("FHIR_SUBSCRIPTION_ATTEMPTS", "6");
    return Config.from(env).withDatabase(pg.getJdbcUrl("postgres", "postgres"), "postgres", "");
  }

  /** Another server process on the same database, configured differently; close it after use. */
  public static AppointmentServer another(UnaryOperator<Config> change) throws Exception {
    shared();
    return AppointmentServer.start(change.apply(baseConfig()));
  }

  /** The data directory of the shared server (where its dev signing key lives). */
  public static Path dataDir() {
    shared();
    return dataDir;
  }

  /**
   * A SYSTEM token with every privilege, accepted by the shared server and its siblings. It lives
   * five minutes and a whole test run can take longer on a busy machine: signed anew each minute.
   */
  public static synchronized String systemToken() {
    if (systemToken == null || System.nanoTime() - systemTokenSignedAt > 60_000_000_000L) {
      systemToken = Tokens.system(dataDir());
      systemTokenSignedAt = System.nanoTime();
    }
    return systemToken;
  }

  private static String systemToken;
  private static long systemTokenSignedAt;

  /**
   * A new, empty database {@code name} in the test PostgreSQL (dropped first if it exists), for a
   * server whose versions must start from scratch; {@code config} pointed at it.
   */
  public static synchronized Config withFreshDatabase(Config config, String name) throws java.sql.SQLException {
    if (!name.matches("[a-z_][a-z0-9_]*")) {
      throw new IllegalArgumentException("not a plain database name: " + name);
    }
    try (java.sql.Connection c = postgres().getPostgresDatabase().getConnection();
         java.sql.Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + name);
      st.execute("CREATE DATABASE " + name);
    }
    return config.withDatabase(pg.getJdbcUrl("postgres", name), "postgres", "");
  }

  /** The folder shared with the project (seed, IG), beside the checkout. */
  public static Path sharedDir() {
    return Path.of(System.getProperty("shared.dir", "../shared"));
  }
}
