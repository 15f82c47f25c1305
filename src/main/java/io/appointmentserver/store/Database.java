package io.appointmentserver.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL the server runs on: an external one ({@code FHIR_DB_URL}) or an embedded one
 * started from Maven-shipped binaries with its data in {@code <dataDir>/pg}. Migrates the schema
 * with Flyway and hands out a HikariCP pool.
 */
public final class Database implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Database.class);

  private final EmbeddedPostgres embedded;
  /** The lock on {@code <dataDir>/server.lock} while the embedded PostgreSQL runs; null for an external one. */
  private final java.nio.channels.FileChannel dataDirLock;
  private final HikariDataSource pool;
  /** Where the pool's connections go, for a connection of its own ({@link #connect}). */
  private final Login login;

  /** A PostgreSQL's JDBC URL and the user and password to log in with. */
  public record Login(String url, String user, String password) {}

  private Database(EmbeddedPostgres embedded, java.nio.channels.FileChannel dataDirLock, HikariDataSource pool,
      Login login) {
    this.embedded = embedded;
    this.dataDirLock = dataDirLock;
    this.pool = pool;
    this.login = login;
  }

  /** Opens the external database when {@code external}'s URL is set, else starts the embedded one. */
  public static Database open(Login external, Path dataDir, int poolSize) {
    return open(external, dataDir, poolSize, true);
  }

  /** {@code fsync} false: the embedded PostgreSQL does not flush commits to disk (see README). */
  public static Database open(Login external, Path dataDir, int poolSize, boolean fsync) {
    EmbeddedPostgres embedded = null;
    java.nio.channels.FileChannel lock = null;
    String url = external.url();
    String user = external.user();
    String password = external.password();
    if (url == null) {
      lock = lockDataDir(dataDir);
      try {
        embedded = startEmbedded(dataDir.resolve("pg"), 0, fsync);
      } catch (RuntimeException | Error e) {
        closeQuietly(lock);
        throw e;
      }
      url = embedded.getJdbcUrl("postgres", "postgres");
      user = "postgres";
      password = "";
    } else {
      requireReachable(url, user, password);
    }
    HikariDataSource pool = pool(url, user, password, poolSize);
    Database db = new Database(embedded, lock, pool, new Login(url, user, password));
    try {
      db.migrate();
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
    return db;
  }

  /**
   * Two servers on one data directory would start two PostgreSQLs on the same files: the second
   * is refused here, by an OS lock that goes with the process (also when it is killed), with the
   * first one's pid in the message.
   */
  private static java.nio.channels.FileChannel lockDataDir(Path dataDir) {
    Path file = dataDir.resolve("server.lock");
    java.nio.channels.FileChannel ch = null;
    try {
      Files.createDirectories(dataDir);
      ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE);
      java.nio.channels.FileLock held;
      try {
        held = ch.tryLock();
      } catch (java.nio.channels.OverlappingFileLockException sameProcess) {
        held = null;
      }
      if (held == null) {
        String pid = Files.readString(file).trim();
        ch.close();
        throw new DataDirectoryInUseException("FHIR_DATA_DIR " + dataDir.toAbsolutePath().normalize()
            + " is in use by another running server" + (pid.isEmpty() ? "" : " (pid " + pid + ")")
            + "; stop it or choose another FHIR_DATA_DIR");
      }
      ch.truncate(0);
      ch.write(java.nio.ByteBuffer.wrap(String.valueOf(ProcessHandle.current().pid()).getBytes(
          java.nio.charset.StandardCharsets.US_ASCII)));
      return ch;
    } catch (IOException e) {
      closeQuietly(ch);
      throw new UncheckedIOException("cannot lock FHIR_DATA_DIR " + dataDir.toAbsolutePath().normalize()
          + " (" + e.getMessage() + ")", e);
    }
  }

  private static void closeQuietly(java.nio.channels.FileChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // closing releases the lock; nothing else to do
      }
    }
  }

  /**
   * One connection before the pool is made: an external database that cannot be reached is one
   * clear start-up error, not the pool's retries and Flyway's stack traces.
   */
  private static void requireReachable(String url, String user, String password) {
    java.util.Properties props = new java.util.Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    props.setProperty("connectTimeout", "5");
    try (Connection c = new org.postgresql.Driver().connect(url, props)) {
      if (c == null) {
        throw new SQLException("not a PostgreSQL JDBC URL");
      }
    } catch (SQLException e) {
      int q = url.indexOf('?');
      throw new DatabaseUnreachableException("the database at FHIR_DB_URL " + (q < 0 ? url : url.substring(0, q))
          + " cannot be reached: " + e.getMessage(), e);
    }
  }

  /** The external database did not answer at start-up. */
  public static final class DatabaseUnreachableException extends RuntimeException {
    DatabaseUnreachableException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Starts a PostgreSQL from the embedded binaries on {@code dir}, keeping what is there.
   * {@code port} 0 picks a free port. Commits are synchronous and flushed to disk: an
   * acknowledged write survives a crash of the server, of PostgreSQL and of the machine.
   */
  public static EmbeddedPostgres startEmbedded(Path dir, int port) {
    return startEmbedded(dir, port, true);
  }

  public static EmbeddedPostgres startEmbedded(Path dir, int port, boolean fsync) {
    try {
      Files.createDirectories(dir);
      EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
          .setDataDirectory(dir)
          .setCleanDataDirectory(false)
          // the embedded binaries start PostgreSQL with -F (no fsync) and asynchronous commits, fine
          // for throwaway test databases but not for data: turn both back on
          .setServerConfig("fsync", fsync ? "on" : "off")
          .setServerConfig("synchronous_commit", "on")
          .setServerConfig("max_connections", "200")
          .setServerConfig("shared_buffers", "256MB");
      if (port > 0) {
        builder.setPort(port);
      }
      EmbeddedPostgres pg = builder.start();
      log.info("embedded PostgreSQL on port {} with data in {}", pg.getPort(), dir.toAbsolutePath());
      return pg;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded PostgreSQL in " + dir, e);
    }
  }

  private static HikariDataSource pool(String url, String user, String password, int size) {
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(url);
    cfg.setUsername(user);
    cfg.setPassword(password);
    cfg.setMaximumPoolSize(size);
    cfg.setMinimumIdle(Math.min(4, size));
    cfg.setPoolName("fhir");
    // Fail fast while the database is away instead of letting requests hang: a request waits at
    // most this long for a connection and then gets a 503.
    cfg.setConnectionTimeout(2_000);
    cfg.setValidationTimeout(1_000);
    // PostgreSQL's default, said outright: else Hikari asks the first connection for it (within the
    // validation timeout), and on a loaded machine a timeout there left the pool unable to set up any
    // connection ("Transaction isolation level -1 not supported")
    cfg.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
    // Start even if the database is not there yet; the pool keeps trying.
    cfg.setInitializationFailTimeout(-1);
    cfg.addDataSourceProperty("connectTimeout", "2");
    cfg.addDataSourceProperty("socketTimeout", "30");
    cfg.addDataSourceProperty("tcpKeepAlive", "true");
    cfg.addDataSourceProperty("reWriteBatchedInserts", "true");
    cfg.addDataSourceProperty("ApplicationName", "appointment-server");
    return new HikariDataSource(cfg);
  }

  private void migrate() {
    Flyway.configure()
        .dataSource(pool)
        .locations("classpath:db/migration")
        .load()
        .migrate();
  }

  /** A connection of its own, outside the pool (the read cache lease's). */
  public Connection connect() throws SQLException {
    java.util.Properties props = new java.util.Properties();
    props.setProperty("user", login.user());
    props.setProperty("password", login.password());
    props.setProperty("connectTimeout", "2");
    props.setProperty("tcpKeepAlive", "true");
    props.setProperty("ApplicationName", "appointment-server lease");
    return new org.postgresql.Driver().connect(login.url(), props);
  }

  /** The pool's meters (connections active, idle, pending, acquire times) from HikariCP's own tracker. */
  public void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
    pool.setMetricRegistry(registry);
  }

  public DataSource dataSource() {
    return pool;
  }

  /** True when a trivial query answers within a second. */
  public boolean isReachable() {
    try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
      st.setQueryTimeout(1);
      st.execute("SELECT 1");
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  @Override
  public void close() {
    pool.close();
    if (embedded != null) {
      try {
        embedded.close();
      } catch (IOException e) {
        log.warn("embedded PostgreSQL did not stop cleanly", e);
      }
    }
    closeQuietly(dataDirLock); // last: the PostgreSQL on it has stopped
  }
}
