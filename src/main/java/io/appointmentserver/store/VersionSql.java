package io.appointmentserver.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The statements that write a version of a resource, its current row and its history row
 * together: a first version's insert, and the conditional update that replaces the current one.
 */
final class VersionSql {
  private VersionSql() {}

  static final String INSERT = """
      WITH cur AS (
        INSERT INTO resource (res_type, res_id, version, last_updated, deleted, body, tags)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT DO NOTHING
        RETURNING res_type, res_id, version, last_updated, deleted, body, tags)
      INSERT INTO resource_history (res_type, res_id, version, last_updated, deleted, body, tags, method)
      SELECT res_type, res_id, version, last_updated, deleted, body, tags, ?::text FROM cur""";

  /**
   * The version check and the write of an existing resource in one round trip: the first of the
   * local references whose target is missing (checked first: a missing reference is refused before
   * a stale If-Match), the replaced version's tags and body for the guard (context check, change
   * rules), the history row, and the digest of the index rows. One row always comes back: its
   * second column is null when nothing was written (a missing reference, another version, or the
   * same content: then the sixth is true and the current version is the answer).
   *
   * <p>The same content: the current body is the new JSON with only its version and time
   * ({@code frame}: the text before the version, and after the time's closing quote) different.
   * Compared as text in the statement, so that a no-op costs no round trip more than a write.
   */
  private static final String UPDATE = """
      WITH missing AS (
        SELECT r.t || '/' || r.i AS ref FROM unnest(?::text[], ?::text[]) AS r(t, i)
         WHERE NOT EXISTS (SELECT 1 FROM resource x
                            WHERE x.res_type = r.t AND x.res_id = r.i AND NOT x.deleted)
         LIMIT 1),
      frame AS (SELECT ?::text AS head, ?::text AS tail),
      old AS (
        SELECT o.tags, o.body, o.last_updated, coalesce(f.tail IS NOT NULL AND o.body IS NOT NULL
                 AND length(o.body) > length(f.head) + length(f.tail)
                 AND left(o.body, length(f.head)) = f.head AND right(o.body, length(f.tail)) = f.tail
                 AND strpos(substr(o.body, length(f.head) + 1,
                                   greatest(0, length(o.body) - length(f.head) - length(f.tail))), '"') = 0,
                 false) AS unchanged
          FROM resource o, frame f
         WHERE o.res_type = ? AND o.res_id = ? AND o.version = ? AND o.deleted = ? AND NOT EXISTS (SELECT 1 FROM missing)
        FOR UPDATE OF o),
      cur AS (
        UPDATE resource r SET version = ?, last_updated = ?, deleted = ?, body = ?, tags = coalesce(?, old.tags)
          FROM old WHERE r.res_type = ? AND r.res_id = ? AND NOT old.unchanged
        RETURNING r.res_type, r.res_id, r.version, r.last_updated, r.deleted, r.body, r.tags),
      hist AS (
        INSERT INTO resource_history (res_type, res_id, version, last_updated, deleted, body, tags, method)
        SELECT res_type, res_id, version, last_updated, deleted, body, tags, ?::text FROM cur)
      SELECT (SELECT ref FROM missing), cur.res_id, old.tags, old.body,
             (SELECT s.rows_digest FROM search_indexed s WHERE s.res_type = cur.res_type AND s.res_id = cur.res_id
                 FOR KEY SHARE),
             old.unchanged, old.last_updated
        FROM (VALUES (1)) AS one(x) LEFT JOIN old ON true LEFT JOIN cur ON true""";

  /** {@link #UPDATE} that also stores an audit event when it updates (its CTEs come before the last SELECT). */
  private static final String UPDATE_AUDITED = AuditEvents.withUpdate(UPDATE, "cur");

  private static final String CURRENT_VERSION = """
      SELECT version, deleted FROM resource WHERE res_type = ? AND res_id = ?""";

  /** A version as a write finds it: its number, and whether it is a tombstone. */
  record Base(long version, boolean deleted) {}

  /**
   * What the conditional update requires: that the current version still is {@code base}, that
   * each of {@code references} names a resource, and that {@code guard} allows the version it replaces;
   * {@code frame} (may be null) makes an update with the same content a no-op.
   */
  record Condition(Base base, ReferenceChecks.Targets references, Write.Guard guard, Write.Frame frame) {
    /** Without a frame: the update always writes (a deletion). */
    Condition(Base base, ReferenceChecks.Targets references, Write.Guard guard) {
      this(base, references, guard, null);
    }
  }

  /**
   * What an update replaced: the old version's access tags, and its index rows' digest (for
   * {@link ResourceStore.Indexer#index}); {@link #NOTHING} for a first version. {@code unchanged}:
   * the current version, when the update would have written the same content again (and did not).
   */
  record Replaced(String[] tags, byte[] indexedDigest, StoredResource unchanged) {
    static final Replaced NOTHING = new Replaced(null, null, null);
  }

  /** Inserts {@code first}, a first version: false when {@code type/id} is taken. */
  static boolean insert(Connection c, StoredResource first) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(INSERT)) {
      bindInsert(ps, first);
      return ps.executeUpdate() == 1;
    }
  }

  static void bindInsert(PreparedStatement ps, StoredResource first) throws SQLException {
    ps.setString(1, first.type());
    ps.setString(2, first.id());
    ps.setLong(3, first.version());
    ps.setObject(4, Sql.ts(first.lastUpdated()));
    ps.setBoolean(5, false);
    ps.setString(6, first.json());
    ps.setObject(7, first.tags());
    ps.setString(8, first.method());
  }

  /**
   * The conditional update to {@code next}; its {@code tags} null keep the old ones (deletions).
   * Null when the version was not {@code when.base()} any more. {@code event}: an audit event
   * stored by the same statement when it updates, or null.
   */
  static Replaced update(Connection c, Condition when, StoredResource next, AuditEvents.Event event)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(event == null ? UPDATE : UPDATE_AUDITED)) {
      int i = 1;
      ps.setArray(i++, c.createArrayOf("text", when.references().types()));
      ps.setArray(i++, c.createArrayOf("text", when.references().ids()));
      Write.Frame frame = when.frame();
      // the current version's text up to its time
      ps.setString(i++, frame == null ? null : frame.head() + when.base().version() + "\",\"lastUpdated\":\"");
      ps.setString(i++, frame == null ? null : frame.tail());
      ps.setString(i++, next.type());
      ps.setString(i++, next.id());
      ps.setLong(i++, when.base().version());
      ps.setBoolean(i++, when.base().deleted());
      ps.setLong(i++, next.version());
      ps.setObject(i++, Sql.ts(next.lastUpdated()));
      ps.setBoolean(i++, next.deleted());
      ps.setString(i++, next.json());
      ps.setObject(i++, next.tags(), java.sql.Types.ARRAY);
      ps.setString(i++, next.type());
      ps.setString(i++, next.id());
      ps.setString(i++, next.method());
      if (event != null) {
        AuditEvents.bindWithUpdate(ps, i, event);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        String missing = rs.getString(1);
        if (missing != null) {
          throw new MissingReferenceException(missing);
        }
        boolean unchanged = rs.getBoolean(6);
        if (rs.getString(2) == null && !unchanged) {
          return null;
        }
        String[] oldTags = Sql.tags(rs, 3);
        String oldBody = rs.getString(4);
        // a no-op too is refused outside the user's context: it answers the current version
        if (!when.guard().allows(oldTags, oldBody)) {
          throw new GuardRefusedException();
        }
        if (unchanged) {
          Version at = new Version(next.type(), next.id(), when.base().version(),
              rs.getObject(7, java.time.OffsetDateTime.class).toInstant(), false);
          return new Replaced(oldTags, null, new StoredResource(at, oldBody, oldTags));
        }
        return new Replaced(oldTags, rs.getBytes(5), null);
      }
    }
  }

  /** The current version of {@code type/id}, or null when there is none. */
  static Base current(Connection c, String type, String id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(CURRENT_VERSION)) {
      ps.setString(1, type);
      ps.setString(2, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new Base(rs.getLong(1), rs.getBoolean(2)) : null;
      }
    }
  }
}
