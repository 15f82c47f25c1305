package io.appointmentserver.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;

/** What a failed statement means to the server's callers. */
public final class SqlErrors {
  private SqlErrors() {}

  /**
   * Connection trouble becomes {@link StoreUnavailableException}, a deadlock or serialization
   * failure {@link ConcurrentWriteException}; anything else is a bug.
   */
  public static RuntimeException translate(SQLException e) {
    String state = e.getSQLState();
    if ("40P01".equals(state) || "40001".equals(state)) {
      return new ConcurrentWriteException("Another write to the same resources ran at the same moment and this one"
          + " was rolled back (" + state + "); nothing was changed. Send it again.", e);
    }
    if (e instanceof SQLTransientConnectionException || e instanceof SQLNonTransientConnectionException
        || (state != null && (state.startsWith("08") || state.startsWith("57P") || state.equals("53300")))) {
      return new StoreUnavailableException("The database is not reachable: " + e.getMessage(), e);
    }
    return new IllegalStateException("database error " + state + ": " + e.getMessage(), e);
  }

  /** {@code e} as a {@link StoreUnavailableException} when {@code c} was lost with it, else null. */
  static StoreUnavailableException ifLost(Connection c, SQLException e) {
    return lost(c) ? new StoreUnavailableException("The database connection was lost: " + e.getMessage(), e) : null;
  }

  private static boolean lost(Connection c) {
    try {
      return c.isClosed() || !c.isValid(1);
    } catch (SQLException e) {
      return true;
    }
  }
}
