package io.appointmentserver.store;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

/**
 * A history query ({@link ResourceHistory}): all of a resource, of a type, of some types
 * ({@code types}) or of the server, within {@code window}; {@code filter} is an extra SQL
 * condition (over {@code tags}) with its parameters, or null.
 */
public record HistoryQuery(String type, String id, String[] types, Window window, Filter filter) {
  /** The versions since {@code since} (null: from the first) up to the snapshot time {@code until}. */
  public record Window(Instant since, Instant until) {}

  /** An SQL condition with its parameters, one for each {@code ?} in it. */
  public record Filter(String sql, List<Object> params) {}

  /** resource_history, with the audit trail when the query may list AuditEvents. */
  String from() {
    boolean audit = type != null ? type.equals(AuditEvents.TYPE)
        : types == null || java.util.Arrays.asList(types).contains(AuditEvents.TYPE);
    return audit ? AuditEvents.HISTORY_WITH_AUDIT : "resource_history";
  }

  String where() {
    StringBuilder w = new StringBuilder(" WHERE last_updated <= ?");
    if (type != null) w.append(" AND res_type = ?");
    if (id != null) w.append(" AND res_id = ?");
    if (types != null) w.append(" AND res_type = ANY(?::text[])");
    if (window.since() != null) w.append(" AND last_updated >= ?");
    if (filter != null) w.append(" AND ").append(filter.sql());
    return w.toString();
  }

  int bind(PreparedStatement ps) throws SQLException {
    int i = 1;
    ps.setObject(i++, Sql.ts(window.until()));
    if (type != null) ps.setString(i++, type);
    if (id != null) ps.setString(i++, id);
    if (types != null) ps.setObject(i++, types);
    if (window.since() != null) ps.setObject(i++, Sql.ts(window.since()));
    if (filter != null) {
      for (Object p : filter.params()) {
        ps.setObject(i++, p);
      }
    }
    return i;
  }
}
