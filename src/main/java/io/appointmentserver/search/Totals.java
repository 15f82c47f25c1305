package io.appointmentserver.search;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** A search's {@code total}: the matches counted, or, for {@code _total=estimate}, estimated beyond a bound. */
final class Totals {
  /** {@code _total=estimate} counts exactly up to this many matches, and estimates beyond. */
  static final int EXACT_ESTIMATE_UP_TO = 1000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private Totals() {}

  /** The rows {@code from} (a FROM clause with its WHERE) selects. */
  static int count(Connection c, Sql from) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT count(*)" + from.text())) {
      Sql.bind(ps, from.params());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  /**
   * {@code _total=estimate}: the count when it is at most {@value #EXACT_ESTIMATE_UP_TO} (what the
   * count reads stops there), else PostgreSQL's estimate of the rows the query returns (from its
   * statistics, no rows read), but never less than that.
   */
  static int estimate(Connection c, Sql from) throws SQLException {
    List<Object> all = new ArrayList<>(from.params());
    all.add(EXACT_ESTIMATE_UP_TO + 1);
    try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM (SELECT 1" + from.text() + " LIMIT ?) m")) {
      Sql.bind(ps, all);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (rs.getInt(1) <= EXACT_ESTIMATE_UP_TO) {
          return rs.getInt(1);
        }
      }
    }
    all.remove(all.size() - 1);
    try (PreparedStatement ps = c.prepareStatement("EXPLAIN (FORMAT JSON) SELECT 1" + from.text())) {
      Sql.bind(ps, all);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        double rows = JSON.readTree(rs.getString(1)).get(0).get("Plan").get("Plan Rows").asDouble();
        return (int) Math.max(EXACT_ESTIMATE_UP_TO + 1, Math.min(rows, Integer.MAX_VALUE));
      }
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("PostgreSQL's plan is not the JSON expected", e);
    }
  }
}
