package io.appointmentserver.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The versions as they came: history pages ({@link HistoryQuery}), and what changed since a
 * time, for the caches of stored conformance resources and SearchParameters.
 */
public final class ResourceHistory {
  private final Sql db;

  ResourceHistory(Sql db) {
    this.db = db;
  }

  private static final String COUNTS = """
      SELECT res_type, count(*) FROM resource WHERE NOT deleted GROUP BY res_type
      UNION ALL SELECT 'AuditEvent', count(*) FROM audit_event""";

  /**
   * How many resources of each type exist now (not deleted), the audit trail's events counted as
   * AuditEvents; types with none are left out.
   */
  public java.util.Map<String, Long> counts() {
    return db.run(c -> {
      java.util.Map<String, Long> out = new java.util.TreeMap<>();
      try (PreparedStatement ps = c.prepareStatement(COUNTS); ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (rs.getLong(2) > 0) {
            out.merge(rs.getString(1), rs.getLong(2), Long::sum);
          }
        }
      }
      return out;
    });
  }

  /** How many versions {@code q} finds. */
  public int count(HistoryQuery q) {
    String sql = "SELECT count(*) FROM " + q.from() + q.where();
    return db.run(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        q.bind(ps);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getInt(1);
        }
      }
    });
  }

  /** Newest first: the versions at positions [offset, offset + limit). */
  public List<StoredResource> page(HistoryQuery q, int offset, int limit) {
    String sql = "SELECT res_type, res_id, version, last_updated, deleted, body, tags, method FROM " + q.from()
        + q.where() + " ORDER BY last_updated DESC, res_type, res_id, version DESC OFFSET ? LIMIT ?";
    return db.run(c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        int i = q.bind(ps);
        ps.setInt(i++, offset);
        ps.setInt(i, limit);
        List<StoredResource> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new StoredResource(new Version(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getObject(4, OffsetDateTime.class).toInstant(), rs.getBoolean(5)),
                rs.getString(6), Sql.tags(rs, 7), rs.getString(8)));
          }
        }
        return out;
      }
    });
  }

  private static final String CHANGED_SINCE = """
      SELECT res_type, res_id, deleted, body, last_updated FROM resource
       WHERE res_type = ANY(?::text[]) AND last_updated > ?""";

  /** A resource as it is now (json null when deleted), and when it became so. */
  public record Current(String type, String id, boolean deleted, String json, Instant lastUpdated) {}

  /** The resources of {@code types} whose current version was written after {@code since}, deletions included. */
  public List<Current> changedSince(Collection<String> types, Instant since) {
    return db.run(c -> {
      try (PreparedStatement ps = c.prepareStatement(CHANGED_SINCE)) {
        ps.setArray(1, c.createArrayOf("text", types.toArray()));
        ps.setObject(2, Sql.ts(since));
        List<Current> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new Current(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getString(4),
                rs.getObject(5, OffsetDateTime.class).toInstant()));
          }
        }
        return out;
      }
    });
  }

  private static final String HISTORY_FINGERPRINT = """
      SELECT count(*) || '@' || coalesce(max(last_updated)::text, '') FROM resource_history
       WHERE res_type = ANY(?::text[])""";

  /**
   * Changes whenever a resource of {@code types} is written or deleted by any process: the number
   * of their versions and the time of the newest (writes only append history rows; {@code $expunge}
   * only removes them, which changes the number as well).
   */
  public String fingerprint(Collection<String> types) {
    return db.run(c -> {
      try (PreparedStatement ps = c.prepareStatement(HISTORY_FINGERPRINT)) {
        ps.setArray(1, c.createArrayOf("text", types.toArray()));
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getString(1);
        }
      }
    });
  }
}
