package io.appointmentserver.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code $expunge}'s SQL: versions removed for good, not tombstoned. Each batch is one
 * transaction of at most {@value #BATCH} versions (or resources), so a large expunge never holds
 * one long transaction; the batches go through the table in key order, each after the last key
 * of the one before.
 *
 * <p>Why it is safe beside concurrent writes: a previous version is a history row whose version
 * is below the current row's; a write only raises the current version, so a row found previous
 * stays previous, and the current row, its history row and its index are never touched. A
 * resource removed whole (a deleted one, or every one for {@code expungeEverything}) is locked
 * first ({@code FOR UPDATE}, the lock every write of it takes): a write racing the expunge either
 * commits first (then the resource is no longer deleted and is left alone) or waits and then
 * finds no resource, and creates it anew at version 1. Removed resources leave the read cache.
 * The audit trail ({@code audit_event}) is never touched.
 */
public final class Expunges {
  /** The most versions, or resources, one transaction removes. */
  static final int BATCH = 500;

  private final Sql db;
  private final ResourceStore.Indexer indexer;
  private final ReadCache cache; // null: none to keep in step

  Expunges(Sql db, ResourceStore.Indexer indexer, ReadCache cache) {
    this.db = db;
    this.indexer = indexer;
    this.cache = cache;
  }

  /** What an expunge covers: every resource, those of one type, one resource, or one version of it. */
  public record Scope(String type, String id, Long version) {
    public static final Scope ALL = new Scope(null, null, null);

    /** The scope's conditions on the columns of {@code alias}, each a {@code ?} bound by {@link #bind}. */
    String where(String alias) {
      return (type == null ? "" : " AND " + alias + ".res_type = ?") + (id == null ? "" : " AND " + alias + ".res_id = ?")
          + (version == null ? "" : " AND " + alias + ".version = ?");
    }

    int bind(PreparedStatement ps, int i) throws SQLException {
      if (type != null) {
        ps.setString(i++, type);
      }
      if (id != null) {
        ps.setString(i++, id);
      }
      if (version != null) {
        ps.setLong(i++, version);
      }
      return i;
    }
  }

  /**
   * Removes up to {@code max} previous versions (history rows below the current version) in
   * {@code scope}: of every resource, or only of deleted ones. Returns how many went.
   */
  public long previousVersions(Scope scope, boolean deletedOnly, long max) {
    String sql = """
        WITH doomed AS (
          SELECT h.res_type, h.res_id, h.version FROM resource_history h
            JOIN resource r ON r.res_type = h.res_type AND r.res_id = h.res_id
           WHERE (h.res_type, h.res_id, h.version) > (?, ?, ?) AND h.version < r.version""" + scope.where("h")
        + (deletedOnly ? " AND r.deleted" : "") + """

           ORDER BY h.res_type, h.res_id, h.version
           LIMIT ?)
        DELETE FROM resource_history h USING doomed d
         WHERE h.res_type = d.res_type AND h.res_id = d.res_id AND h.version = d.version
        RETURNING h.res_type, h.res_id, h.version""";
    String[] after = {"", ""};
    long[] afterVersion = {0};
    long removed = 0;
    while (removed < max) {
      int n = (int) Math.min(BATCH, max - removed);
      int got = db.transaction(c -> {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          ps.setString(1, after[0]);
          ps.setString(2, after[1]);
          ps.setLong(3, afterVersion[0]);
          ps.setInt(scope.bind(ps, 4), n);
          int rows = 0;
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              rows++;
              if (later(rs.getString(1), rs.getString(2), rs.getLong(3), after, afterVersion[0])) {
                after[0] = rs.getString(1);
                after[1] = rs.getString(2);
                afterVersion[0] = rs.getLong(3);
              }
            }
          }
          return rows;
        }
      });
      removed += got;
      if (got < n) {
        break;
      }
    }
    return removed;
  }

  private static boolean later(String type, String id, long version, String[] than, long thanVersion) {
    int t = type.compareTo(than[0]);
    int i = id.compareTo(than[1]);
    return t > 0 || t == 0 && (i > 0 || i == 0 && version > thanVersion);
  }

  /**
   * Removes deleted resources in {@code scope} whole (their tombstone, which is all the history
   * they have left once their previous versions went, their index rows and bookings): up to
   * {@code max} of them. A deleted resource that still has previous versions is left for
   * {@link #previousVersions}. Returns how many versions went.
   */
  public long deletedResources(Scope scope, long max) {
    return resources(scope, true, max);
  }

  /** {@code expungeEverything}: every resource, all its versions, its index rows and bookings. Returns the versions removed. */
  public long everything() {
    return resources(Scope.ALL, false, Long.MAX_VALUE);
  }

  private long resources(Scope scope, boolean deletedOnly, long max) {
    // a deleted resource has one version left (its tombstone) once its previous versions went
    String sql = "SELECT r.res_type, r.res_id FROM resource r WHERE (r.res_type, r.res_id) > (?, ?)" + scope.where("r")
        + (deletedOnly ? """
             AND r.deleted AND NOT EXISTS (SELECT 1 FROM resource_history h
                 WHERE h.res_type = r.res_type AND h.res_id = r.res_id AND h.version < r.version)""" : "")
        // a deleted resource locked by a write is being written again: no longer deleted, skip it
        + " ORDER BY r.res_type, r.res_id LIMIT ? FOR UPDATE" + (deletedOnly ? " SKIP LOCKED" : "");
    String[] after = {"", ""};
    long removed = 0;
    while (removed < max) {
      int n = (int) Math.min(BATCH, max - removed);
      List<String[]> keys = new ArrayList<>();
      List<Long> generations = new ArrayList<>();
      long[] versions = {0};
      try {
        db.transaction(c -> {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, after[0]);
            ps.setString(2, after[1]);
            ps.setInt(scope.bind(ps, 3), n);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                keys.add(new String[] {rs.getString(1), rs.getString(2)});
              }
            }
          }
          if (!keys.isEmpty()) {
            keys.forEach(k -> generations.add(cache == null ? 0 : cache.beginWrite(k[0], k[1])));
            versions[0] = remove(c, keys);
          }
          return null;
        });
      } finally {
        // after the commit (or the rollback): reads go to the database, which has the resources or not
        for (int k = 0; cache != null && k < generations.size(); k++) {
          cache.endWrite(keys.get(k)[0], keys.get(k)[1], null, generations.get(k));
        }
      }
      removed += versions[0];
      if (keys.size() < n) {
        break;
      }
      after[0] = keys.get(keys.size() - 1)[0];
      after[1] = keys.get(keys.size() - 1)[1];
    }
    return removed;
  }

  private static final String[] REMOVE = {
      "DELETE FROM appointment_booking x USING unnest(?::text[], ?::text[]) AS k(t, i) WHERE x.res_type = k.t AND x.res_id = k.i",
      "DELETE FROM resource x USING unnest(?::text[], ?::text[]) AS k(t, i) WHERE x.res_type = k.t AND x.res_id = k.i",
      "DELETE FROM resource_history x USING unnest(?::text[], ?::text[]) AS k(t, i) WHERE x.res_type = k.t AND x.res_id = k.i"};

  /** Every row of the locked resources {@code keys}; returns how many versions (history rows) went. */
  private long remove(Connection c, List<String[]> keys) throws SQLException {
    String[] types = keys.stream().map(k -> k[0]).toArray(String[]::new);
    String[] ids = keys.stream().map(k -> k[1]).toArray(String[]::new);
    indexer.remove(c, types, ids);
    int versions = 0;
    for (String sql : REMOVE) {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setArray(1, c.createArrayOf("text", types));
        ps.setArray(2, c.createArrayOf("text", ids));
        versions = ps.executeUpdate(); // the last statement's: the history rows
      }
    }
    return versions;
  }
}
