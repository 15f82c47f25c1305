package io.appointmentserver.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * How the store's classes reach the database: a statement on a connection of its own, or one
 * transaction (either of them the {@link TransactionScope}'s when one is open), with SQL errors
 * translated ({@link SqlErrors}).
 */
final class Sql {
  private final DataSource ds;

  Sql(DataSource ds) {
    this.ds = ds;
  }

  @FunctionalInterface
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  @FunctionalInterface
  interface RowMapper<T> {
    T map(ResultSet rs) throws SQLException;
  }

  <T> T query(String sql, String id, RowMapper<T> mapper) {
    return run(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          return mapper.map(rs);
        }
      }
    });
  }

  <T> T query(String sql, String type, String id, RowMapper<T> mapper) {
    return run(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, type);
        ps.setString(2, id);
        try (ResultSet rs = ps.executeQuery()) {
          return mapper.map(rs);
        }
      }
    });
  }

  <T> T query(String sql, String type, String id, long version, RowMapper<T> mapper) {
    return run(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, type);
        ps.setString(2, id);
        ps.setLong(3, version);
        try (ResultSet rs = ps.executeQuery()) {
          return mapper.map(rs);
        }
      }
    });
  }

  <T> T run(Work<T> work) {
    try (Connection c = ds.getConnection()) {
      try {
        return work.run(c);
      } catch (SQLException e) {
        StoreUnavailableException lost = SqlErrors.ifLost(c, e);
        if (lost != null) {
          throw lost;
        }
        throw e;
      }
    } catch (SQLException e) {
      throw SqlErrors.translate(e);
    }
  }

  /** Runs {@code work} in one transaction; it commits only if {@code work} returns. */
  <T> T transaction(Work<T> work) {
    try (Connection c = ds.getConnection()) {
      // the pool resets auto-commit when the connection goes back
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
        StoreUnavailableException lost = e instanceof SQLException sql ? SqlErrors.ifLost(c, sql) : null;
        if (lost != null) {
          throw lost;
        }
        throw e;
      }
    } catch (SQLException e) {
      throw SqlErrors.translate(e);
    }
  }

  /**
   * Runs {@code action} with whether the transaction a write just took part in committed: when it
   * ends (a {@link TransactionScope}'s), or now.
   */
  void whenEnded(Consumer<Boolean> action) {
    if (ds instanceof TransactionScope scope) {
      scope.afterEnd(action);
    } else {
      action.accept(true); // the store's own transaction committed (it returned)
    }
  }

  static OffsetDateTime ts(Instant i) {
    return OffsetDateTime.ofInstant(i, ZoneOffset.UTC);
  }

  static String[] tags(ResultSet rs, int column) throws SQLException {
    java.sql.Array a = rs.getArray(column);
    return a == null ? new String[0] : (String[]) a.getArray();
  }
}
