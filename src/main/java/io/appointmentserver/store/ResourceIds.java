package io.appointmentserver.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Server-assigned ids: from {@code resource_id_seq}, skipping those a client chose with PUT. */
public final class ResourceIds {
  private final Sql db;

  ResourceIds(Sql db) {
    this.db = db;
  }

  private static final String NEXT_ID = "SELECT nextval('resource_id_seq')";

  private static final String ID_TAKEN = "SELECT 1 FROM resource WHERE res_type = ? AND res_id = ?";

  /** A server-assigned id for a new {@code type} that no resource has yet, for {@link ResourceWrites#create} to use. */
  public String newId(String type) {
    return db.run(c -> {
      for (int attempt = 0; attempt < ResourceWrites.MAX_ATTEMPTS; attempt++) {
        String id = nextId(c);
        try (PreparedStatement ps = c.prepareStatement(ID_TAKEN)) {
          ps.setString(1, type);
          ps.setString(2, id);
          try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
              return id;
            }
          }
        }
      }
      throw new IllegalStateException("no free id for " + type + " after " + ResourceWrites.MAX_ATTEMPTS + " attempts");
    });
  }

  private static final String NEW_IDS = """
      SELECT n.id, EXISTS (SELECT 1 FROM resource r WHERE r.res_type = n.t AND r.res_id = n.id)
        FROM (SELECT u.t, u.ord, nextval('resource_id_seq')::text AS id
                FROM unnest(?::text[]) WITH ORDINALITY AS u(t, ord)) n
       ORDER BY n.ord""";

  /**
   * {@link #newId} for many creates at once (a transaction Bundle's): one round trip; the ids in
   * the order of {@code types}.
   */
  public List<String> newIds(List<String> types) {
    if (types.isEmpty()) {
      return List.of();
    }
    List<String> ids = new ArrayList<>(types.size());
    List<Boolean> taken = new ArrayList<>(types.size());
    db.run(c -> {
      try (PreparedStatement ps = c.prepareStatement(NEW_IDS)) {
        ps.setArray(1, c.createArrayOf("text", types.toArray()));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ids.add(rs.getString(1));
            taken.add(rs.getBoolean(2));
          }
        }
      }
      return null;
    });
    for (int i = 0; i < ids.size(); i++) {
      if (taken.get(i)) {
        ids.set(i, newId(types.get(i))); // a client chose this id with PUT: another one
      }
    }
    return ids;
  }

  /** The sequence's next value, which a client may have chosen with PUT already. */
  static String nextId(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(NEXT_ID); ResultSet rs = ps.executeQuery()) {
      rs.next();
      return Long.toString(rs.getLong(1));
    }
  }
}
