package io.appointmentserver.store;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Several store calls in one database transaction: a conditional write (lock, search, write)
 * and a transaction Bundle (all its entries). While {@link #run} runs on a thread, every
 * connection this DataSource hands out on that thread is the transaction's connection, whose
 * {@code close}, {@code commit}, {@code rollback} and {@code setAutoCommit} do nothing: the
 * store's and the searcher's own transactions become part of it, unchanged (the pattern of
 * Spring's {@code TransactionAwareDataSourceProxy}). Outside {@link #run} it is the pool.
 */
public final class TransactionScope implements DataSource {
  private final DataSource pool;
  private final ThreadLocal<Bound> bound = new ThreadLocal<>();

  /** The transaction of a thread: its connection (as handed out) and what waits for its commit. */
  private record Bound(Connection shared, List<Runnable> afterCommit, List<Consumer<Boolean>> afterEnd) {}

  public TransactionScope(DataSource pool) {
    this.pool = pool;
  }

  /**
   * Runs {@code work} in one transaction, which commits if it returns and rolls back if it
   * throws; within another {@code run} on the same thread it is part of that one.
   */
  public <T> T run(Supplier<T> work) {
    if (bound.get() != null) {
      return work.get();
    }
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(false);
      Bound b = new Bound(shared(c), new ArrayList<>(), new ArrayList<>());
      bound.set(b);
      T result;
      boolean committed = false;
      try {
        result = work.get();
        c.commit();
        committed = true;
      } catch (RuntimeException | Error e) {
        try {
          c.rollback();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      } finally {
        bound.remove();
        for (Consumer<Boolean> action : b.afterEnd()) {
          action.accept(committed);
        }
      }
      b.afterCommit().forEach(Runnable::run);
      return result;
    } catch (SQLException e) {
      throw SqlErrors.translate(e);
    }
  }

  /** Whether the calling thread is in {@link #run}. */
  public boolean active() {
    return bound.get() != null;
  }

  /** Runs {@code action} once the current transaction has committed (at once outside one). */
  public void afterCommit(Runnable action) {
    Bound b = bound.get();
    if (b == null) {
      action.run();
    } else {
      b.afterCommit().add(action);
    }
  }

  /**
   * Runs {@code action} when the current transaction ends, with whether it committed (at once,
   * with true, outside one: the caller's own transaction has committed then).
   */
  public void afterEnd(Consumer<Boolean> action) {
    Bound b = bound.get();
    if (b == null) {
      action.accept(true);
    } else {
      b.afterEnd().add(action);
    }
  }

  /**
   * Takes a transaction-scoped advisory lock on {@code key} (a 64-bit hash of it), held until
   * the transaction ends: the writers that lock the same key, in any server process on the
   * database, take turns. Only within {@link #run}.
   */
  public void lock(String key) {
    Bound b = bound.get();
    if (b == null) {
      throw new IllegalStateException("an advisory lock needs a transaction");
    }
    try (PreparedStatement ps = b.shared().prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
      ps.setLong(1, hash(key));
      ps.execute();
    } catch (SQLException e) {
      throw SqlErrors.translate(e);
    }
  }

  private static long hash(String key) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      long h = 0;
      for (int i = 0; i < 8; i++) {
        h = (h << 8) | (d[i] & 0xff);
      }
      return h;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The transaction's connection as the store sees it: it cannot end the transaction. */
  private static Connection shared(Connection c) {
    InvocationHandler h = (proxy, method, args) -> {
      switch (method.getName()) {
        case "close", "commit", "setAutoCommit":
          return null;
        case "rollback":
          if (args == null || args.length == 0) {
            return null; // the whole transaction: the outermost run decides
          }
          break;
        default:
          break;
      }
      try {
        return method.invoke(c, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    };
    return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, h);
  }

  @Override
  public Connection getConnection() throws SQLException {
    Bound b = bound.get();
    return b != null ? b.shared() : pool.getConnection();
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    Bound b = bound.get();
    return b != null ? b.shared() : pool.getConnection(username, password);
  }

  @Override
  public PrintWriter getLogWriter() throws SQLException {
    return pool.getLogWriter();
  }

  @Override
  public void setLogWriter(PrintWriter out) throws SQLException {
    pool.setLogWriter(out);
  }

  @Override
  public void setLoginTimeout(int seconds) throws SQLException {
    pool.setLoginTimeout(seconds);
  }

  @Override
  public int getLoginTimeout() throws SQLException {
    return pool.getLoginTimeout();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    return pool.getParentLogger();
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    return iface.isInstance(this) ? iface.cast(this) : pool.unwrap(iface);
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) throws SQLException {
    return iface.isInstance(this) || pool.isWrapperFor(iface);
  }
}
