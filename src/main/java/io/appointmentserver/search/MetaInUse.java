package io.appointmentserver.search;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The tags, security labels and profiles in use on the current resources of some types (the
 * type and system levels of {@code $meta}), read from the index rows of {@code _tag},
 * {@code _security} and {@code _profile} rather than from the resources themselves, each type
 * narrowed by the user's context like a search of it.
 */
public final class MetaInUse {
  /** A tag or security label ({@code param} {@code _tag} or {@code _security}), or a profile ({@code _profile}, no system). */
  public record Entry(String param, String system, String code) {}

  /** At most this many distinct entries: a server with more has no use for the list. */
  public static final int LIMIT = 1000;

  private final DataSource ds;

  public MetaInUse(DataSource ds) {
    this.ds = ds;
  }

  /**
   * The distinct entries over {@code types}, each with the condition of its context (over the
   * resource's {@code tags}; {@link Sql#TRUE} when the user is not limited), sorted.
   */
  public List<Entry> of(Map<String, Sql> typesWithContext) {
    if (typesWithContext.isEmpty()) {
      return List.of();
    }
    // the types the user sees whole are one condition on res_type, the others one each
    List<String> whole = new ArrayList<>();
    List<Sql> perType = new ArrayList<>();
    for (Map.Entry<String, Sql> t : typesWithContext.entrySet()) {
      if (t.getValue().equals(Sql.TRUE)) {
        whole.add(t.getKey());
      } else {
        perType.add(select(a -> Sql.of(a + ".res_type = ?", t.getKey()), t.getValue()));
      }
    }
    if (!whole.isEmpty()) {
      perType.add(select(a -> Sql.array(a + ".res_type = ANY(?::text[])", whole), Sql.TRUE));
    }
    Sql sql = new Sql.Builder().add("SELECT DISTINCT param, system, code FROM (")
        .join(" UNION ", perType)
        .add(") m ORDER BY param, system NULLS FIRST, code LIMIT " + LIMIT)
        .build();
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql.text())) {
      Sql.bind(ps, sql.params());
      List<Entry> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Entry(rs.getString(1), rs.getString(2), rs.getString(3)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException("Could not read the tags in use", e);
    }
  }

  /**
   * The tags, security labels and profiles of the current resources of the types {@code type}
   * selects (given the alias of an index table: the condition is put on the index rows, whose
   * indexes lead with the type) that {@code context} (over the resource {@code r}) lets through.
   */
  private static Sql select(java.util.function.Function<String, Sql> type, Sql context) {
    return new Sql.Builder()
        .add("SELECT i.param, i.system, i.code FROM search_token i JOIN resource r"
            + " ON r.res_type = i.res_type AND r.res_id = i.res_id"
            + " WHERE i.param IN ('_tag', '_security') AND NOT r.deleted AND ").add(type.apply("i").and(context))
        .add(" UNION SELECT u.param, NULL, u.uri FROM search_uri u JOIN resource r"
            + " ON r.res_type = u.res_type AND r.res_id = u.res_id"
            + " WHERE u.param = '_profile' AND NOT r.deleted AND ").add(type.apply("u").and(context))
        .build();
  }
}
