package io.appointmentserver.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may answer reads from memory ({@link ReadCache}): the one server process on a database
 * that holds a session-level advisory lock on {@link #KEY} exclusively, on a connection of its
 * own kept open. Every other process that connects (server, bulk load) holds the same lock
 * shared for its lifetime and takes it before it serves or writes anything, so while one
 * process caches, no other can write.
 *
 * <ul>
 * <li>At start a process LISTENs on {@link #CHANNEL}, then tries the lock exclusively (only when
 * it has a cache). If another holds it, it NOTIFYs the channel and waits for the lock shared,
 * sending the NOTIFY again every half second (one sent before the holder listened is not lost
 * for long); {@link #acquire} returns once it holds either.</li>
 * <li>The holder, on a notification from another session, first stops answering from its cache
 * ({@link ReadCache#deactivate}: a read that took an entry before still checks the lease after,
 * and one that took it earlier was answered with what was current when it asked), then takes
 * the lock shared and releases the exclusive one. It never holds nothing.</li>
 * <li>A process holding it shared tries the exclusive lock (alongside its shared one) every
 * second; it gets it only when no other session holds the lock, i.e. when every other process
 * has gone (a process releases its lease last, after its connection pool). It then starts
 * from an empty cache.</li>
 * <li>The holder confirms the lease by a round trip on its connection every quarter second; the
 * cache answers for {@link ReadCache#LEASE_VALIDITY_NANOS} after the last confirmation was sent.
 * A lost connection (PostgreSQL restarted or stopped, the session killed) ends the lease at once;
 * the process connects again and takes the lock shared (another process may hold it now), then
 * tries exclusively as above.</li>
 * </ul>
 * What this does not cover: a holder whose connection is cut silently (a network partition)
 * answers for up to {@link ReadCache#LEASE_VALIDITY_NANOS} after the last confirmation; and a
 * process that crashes while PostgreSQL is committing one of its writes releases its lease
 * when its connections drop, possibly just before that commit becomes visible.
 */
public final class ReadCacheLease implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReadCacheLease.class);

  /** The advisory lock (a fixed 64-bit key: "appointment-server read cache"). */
  static final long KEY = 0x5245414443414348L;
  static final String CHANNEL = "appointment_server_read_cache";
  private static final long WAIT_FOR_HOLDER_MS = 60_000;

  /** Opens a connection outside the pool, for the lease alone. */
  @FunctionalInterface
  public interface Connector {
    Connection connect() throws SQLException;
  }

  private final Connector connector;
  private final ReadCache cache; // null: this process never caches, it only holds the lock shared
  private final Thread thread;
  private final CountDownLatch held = new CountDownLatch(1);
  private volatile boolean closed;
  private volatile Connection connection;
  private volatile SQLException startError;

  private ReadCacheLease(Connector connector, ReadCache cache) {
    this.connector = connector;
    this.cache = cache;
    this.thread = new Thread(this::run, "read-cache-lease");
    this.thread.setDaemon(true);
  }

  /**
   * Takes the lease (exclusive if {@code cache} is not null and nobody else is connected, else
   * shared) and keeps it until {@link #close}; returns once it is held.
   */
  public static ReadCacheLease acquire(Connector connector, ReadCache cache) {
    ReadCacheLease lease = new ReadCacheLease(connector, cache);
    lease.thread.start();
    try {
      if (!lease.held.await(WAIT_FOR_HOLDER_MS + 10_000, TimeUnit.MILLISECONDS) || lease.startError != null) {
        lease.close();
        throw new StoreUnavailableException("could not take the read cache lease"
            + (lease.startError == null ? "" : ": " + lease.startError.getMessage()), lease.startError);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      lease.close();
      throw new IllegalStateException(e);
    }
    return lease;
  }

  private void run() {
    boolean first = true;
    while (!closed) {
      try (Connection c = connector.connect()) {
        connection = c;
        hold(c);
      } catch (SQLException | RuntimeException e) {
        if (cache != null) {
          cache.deactivate();
        }
        if (closed) {
          return;
        }
        if (first) {
          startError = e instanceof SQLException sql ? sql : new SQLException(e);
          held.countDown();
          return;
        }
        log.warn("read cache lease lost ({}); the cache answers nothing until it is taken again", e.toString());
        sleep(500);
      } finally {
        connection = null;
      }
      first = false;
    }
  }

  /** Takes the lock on {@code c}, then keeps it (and the cache's right to answer) while it can. */
  private void hold(Connection c) throws SQLException {
    PGConnection pg = c.unwrap(PGConnection.class);
    int self = pg.getBackendPID();
    try (Statement st = c.createStatement()) {
      st.execute("LISTEN " + CHANNEL);
    }
    boolean exclusive = cache != null && lock(c, "pg_try_advisory_lock");
    if (!exclusive) {
      waitShared(c);
    }
    long confirmed = System.nanoTime();
    if (exclusive) {
      cache.activate(confirmed);
      log.info("read cache on: no other server process is connected to the database");
    }
    held.countDown();
    long lastTry = System.nanoTime();
    while (!closed) {
      long sent = System.nanoTime();
      try (Statement st = c.createStatement()) {
        st.setQueryTimeout(5);
        st.execute("SELECT 1");
      }
      if (exclusive) {
        cache.confirm(sent);
      }
      PGNotification[] notes = pg.getNotifications(250);
      boolean asked = false;
      for (PGNotification n : notes == null ? new PGNotification[0] : notes) {
        asked |= n.getPID() != self;
      }
      if (exclusive && asked) {
        cache.deactivate(); // first: no read is answered from memory from here on
        lock(c, "pg_advisory_lock_shared");
        unlock(c, "pg_advisory_unlock");
        exclusive = false;
        log.info("read cache off: another server process connected to the database");
      } else if (!exclusive && cache != null && !asked && System.nanoTime() - lastTry > 1_000_000_000L) {
        lastTry = System.nanoTime();
        if (lock(c, "pg_try_advisory_lock")) { // besides our shared one: nobody else holds it
          unlock(c, "pg_advisory_unlock_shared");
          exclusive = true;
          cache.activate(System.nanoTime());
          log.info("read cache on: no other server process is connected to the database");
        }
      }
    }
  }

  /** Asks the holder to let go until the lock is held shared. */
  private void waitShared(Connection c) throws SQLException {
    long start = System.nanoTime();
    long lastNotify = 0;
    while (!lock(c, "pg_try_advisory_lock_shared")) {
      if (closed) {
        throw new SQLException("closed while waiting for the read cache lease");
      }
      if (System.nanoTime() - lastNotify > 500_000_000L) {
        try (Statement st = c.createStatement()) {
          st.execute("NOTIFY " + CHANNEL);
        }
        lastNotify = System.nanoTime();
      }
      if (System.nanoTime() - start > WAIT_FOR_HOLDER_MS * 1_000_000L) {
        throw new SQLException("the server process holding the read cache lease does not let go");
      }
      sleep(20);
    }
  }

  private static boolean lock(Connection c, String function) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + function + "(?)")) {
      ps.setLong(1, KEY);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return !"f".equals(rs.getString(1)); // the blocking forms return void
      }
    }
  }

  private static void unlock(Connection c, String function) throws SQLException {
    if (!lock(c, function)) {
      throw new SQLException(function + " found no lock to release");
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops answering from memory and releases the lock (call after the connection pool is closed). */
  @Override
  public void close() {
    closed = true;
    if (cache != null) {
      cache.deactivate();
    }
    Connection c = connection;
    if (c != null) {
      try {
        c.close(); // ends the session, and with it the lock
      } catch (SQLException e) {
        log.debug("closing the read cache lease's connection", e);
      }
    }
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
