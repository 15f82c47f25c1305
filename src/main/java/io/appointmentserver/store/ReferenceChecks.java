package io.appointmentserver.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A write's local references must name resources here that are not deleted: the first that does
 * not is refused ({@link MissingReferenceException}).
 */
final class ReferenceChecks {
  private ReferenceChecks() {}

  /** Local references ({@code Type/id}) as the two arrays that the statements unnest together. */
  record Targets(String[] types, String[] ids) {
    static final Targets NONE = new Targets(new String[0], new String[0]);
  }

  private static final String FIRST_MISSING_REFERENCE = """
      SELECT r.t || '/' || r.i FROM unnest(?::text[], ?::text[]) AS r(t, i)
       WHERE NOT EXISTS (SELECT 1 FROM resource x
                          WHERE x.res_type = r.t AND x.res_id = r.i AND NOT x.deleted)
       LIMIT 1""";

  /** {@code references} ({@code Type/id}) as targets, without {@code self}: a resource may refer to itself. */
  static Targets split(Collection<String> references, String selfType, String selfId) {
    if (references.isEmpty()) {
      return Targets.NONE;
    }
    List<String> types = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (String ref : references) {
      int slash = ref.indexOf('/');
      String t = ref.substring(0, slash);
      String i = ref.substring(slash + 1);
      if (t.equals(selfType) && i.equals(selfId)) {
        continue;
      }
      types.add(t);
      ids.add(i);
    }
    return new Targets(types.toArray(String[]::new), ids.toArray(String[]::new));
  }

  /** Checks all of {@code references} ({@code Type/id}). */
  static void check(Connection c, Collection<String> references) throws SQLException {
    check(c, split(references, null, null));
  }

  static void check(Connection c, Targets refs) throws SQLException {
    if (refs.types().length == 0) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(FIRST_MISSING_REFERENCE)) {
      ps.setArray(1, c.createArrayOf("text", refs.types()));
      ps.setArray(2, c.createArrayOf("text", refs.ids()));
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          throw new MissingReferenceException(rs.getString(1));
        }
      }
    }
  }
}
