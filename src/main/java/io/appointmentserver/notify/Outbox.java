package io.appointmentserver.notify;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The outbox's SQL (migration V120): a change recorded with its deliveries in the write's
 * transaction ({@link #record}); deliveries leased by one process at a time ({@link #lease},
 * {@code FOR UPDATE SKIP LOCKED}, the lease running out when its process dies), in order per
 * Subscription and resource; then removed when sent, or put off with backoff when not.
 */
final class Outbox {
  /** The PostgreSQL channel told (on commit) that deliveries wait: every process listens. */
  static final String DELIVERIES = "fhir_subscription_deliveries";
  /** The channel told (on commit) that a Subscription was written: every process reads them again. */
  static final String SUBSCRIPTIONS = "fhir_subscriptions";

  private Outbox() {}

  /**
   * A delivery leased for sending: of which change, to which Subscription, how often tried before;
   * {@code json}, the version as stored (null when it is gone: expunged).
   */
  record Leased(long changeId, String subscriptionId, int attempts, String type, String id, long version,
      String json) {}

  private static final String RECORD = """
      WITH ch AS (INSERT INTO subscription_change (res_type, res_id, version) VALUES (?, ?, ?) RETURNING id)
      INSERT INTO subscription_delivery (change_id, subscription_id, res_key)
      SELECT ch.id, s, ? FROM ch, unnest(?::text[]) AS s, (SELECT pg_notify(?, '')) AS n""";

  /** Records that {@code type/id} version {@code version} goes to {@code subscriptionIds}, in the caller's transaction. */
  static void record(Connection c, String type, String id, long version, List<String> subscriptionIds)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(RECORD)) {
      ps.setString(1, type);
      ps.setString(2, id);
      ps.setLong(3, version);
      ps.setString(4, type + "/" + id);
      ps.setArray(5, c.createArrayOf("text", subscriptionIds.toArray()));
      ps.setString(6, DELIVERIES);
      ps.executeUpdate();
    }
  }

  /** Tells every process, once the caller's transaction commits, that the Subscriptions changed. */
  static void subscriptionsChanged(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, '')")) {
      ps.setString(1, SUBSCRIPTIONS);
      ps.execute();
    }
  }

  // Due, not leased by a live process, and no earlier one of its Subscription and resource that waits
  // (leased, or put off after a failure): a run of one resource's deliveries is leased together, in
  // order, and sent in order. The advisory lock (until the statement commits) keeps a second process
  // from leasing the later part of a run that this statement is leasing the start of.
  private static final String LEASE = """
      WITH due AS (
        SELECT d.change_id, d.subscription_id FROM subscription_delivery d
         WHERE d.due <= now() AND (d.leased_until IS NULL OR d.leased_until < now())
           AND NOT EXISTS (SELECT 1 FROM subscription_delivery e WHERE e.subscription_id = d.subscription_id
                            AND e.res_key = d.res_key AND e.change_id < d.change_id
                            AND (e.due > now() OR e.leased_until >= now()))
           AND pg_try_advisory_xact_lock(hashtextextended(d.subscription_id || ' ' || d.res_key, 120))
         ORDER BY d.change_id LIMIT ? FOR UPDATE OF d SKIP LOCKED)
      UPDATE subscription_delivery d SET leased_until = now() + make_interval(secs => ?)
        FROM due, subscription_change ch
       WHERE d.change_id = due.change_id AND d.subscription_id = due.subscription_id AND ch.id = d.change_id
      RETURNING d.change_id, d.subscription_id, d.attempts, ch.res_type, ch.res_id, ch.version,
        (SELECT h.body FROM resource_history h WHERE h.res_type = ch.res_type AND h.res_id = ch.res_id
            AND h.version = ch.version)""";

  /**
   * Leases up to {@code limit} deliveries for {@code leaseSeconds}, each with the version it sends
   * (read from the history in the same statement, not one query per delivery).
   */
  static List<Leased> lease(Connection c, int limit, double leaseSeconds) throws SQLException {
    List<Leased> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(LEASE)) {
      ps.setInt(1, limit);
      ps.setDouble(2, leaseSeconds);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Leased(rs.getLong(1), rs.getString(2), rs.getInt(3), rs.getString(4), rs.getString(5),
              rs.getLong(6), rs.getString(7)));
        }
      }
    }
    out.sort(java.util.Comparator.comparingLong(Leased::changeId)); // RETURNING keeps no order
    return out;
  }

  /** Removes delivered (or no longer wanted) deliveries, and their changes when nothing else waits for them. */
  static void done(Connection c, List<Leased> delivered) throws SQLException {
    if (delivered.isEmpty()) {
      return;
    }
    Array changes = c.createArrayOf("bigint", delivered.stream().map(Leased::changeId).toArray(Long[]::new));
    try (PreparedStatement ps = c.prepareStatement("""
        DELETE FROM subscription_delivery d USING unnest(?::bigint[], ?::text[]) AS x(c, s)
         WHERE d.change_id = x.c AND d.subscription_id = x.s""")) {
      ps.setArray(1, changes);
      ps.setArray(2, c.createArrayOf("text", delivered.stream().map(Leased::subscriptionId).toArray(String[]::new)));
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement("""
        DELETE FROM subscription_change ch WHERE ch.id = ANY(?::bigint[])
           AND NOT EXISTS (SELECT 1 FROM subscription_delivery d WHERE d.change_id = ch.id)""")) {
      ps.setArray(1, changes);
      ps.executeUpdate();
    }
  }

  /** Gives leased deliveries back untried (they followed a failed one of the same resource). */
  static void release(Connection c, List<Leased> untried) throws SQLException {
    if (untried.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement("""
        UPDATE subscription_delivery d SET leased_until = NULL FROM unnest(?::bigint[], ?::text[]) AS x(c, s)
         WHERE d.change_id = x.c AND d.subscription_id = x.s""")) {
      ps.setArray(1, c.createArrayOf("bigint", untried.stream().map(Leased::changeId).toArray(Long[]::new)));
      ps.setArray(2, c.createArrayOf("text", untried.stream().map(Leased::subscriptionId).toArray(String[]::new)));
      ps.executeUpdate();
    }
  }

  /** A failed attempt: tried again after {@code delaySeconds}; returns the attempts made so far. */
  static int failed(Connection c, Leased d, double delaySeconds, String error) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        UPDATE subscription_delivery SET attempts = attempts + 1, due = now() + make_interval(secs => ?),
               leased_until = NULL, last_error = ? WHERE change_id = ? AND subscription_id = ? RETURNING attempts""")) {
      ps.setDouble(1, delaySeconds);
      ps.setString(2, error);
      ps.setLong(3, d.changeId());
      ps.setString(4, d.subscriptionId());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getInt(1) : 0;
      }
    }
  }

  /** Drops everything waiting for Subscription {@code id} (it is off, in error, ended or gone). */
  static void drop(Connection c, String id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM subscription_delivery WHERE subscription_id = ?")) {
      ps.setString(1, id);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement("""
        DELETE FROM subscription_change ch WHERE NOT EXISTS (SELECT 1 FROM subscription_delivery d WHERE d.change_id = ch.id)
           AND ch.recorded < clock_timestamp() - interval '1 minute'""")) {
      ps.executeUpdate();
    }
  }

  /** Puts {@code d} off by {@code delaySeconds} without counting an attempt (no receiver in this process). */
  static void postpone(Connection c, Leased d, double delaySeconds) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        UPDATE subscription_delivery SET due = now() + make_interval(secs => ?), leased_until = NULL
         WHERE change_id = ? AND subscription_id = ?""")) {
      ps.setDouble(1, delaySeconds);
      ps.setLong(2, d.changeId());
      ps.setString(3, d.subscriptionId());
      ps.executeUpdate();
    }
  }

  /** Makes what waits for Subscription {@code id} due now, and tells every process (a receiver just came). */
  static void wake(Connection c, String id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "UPDATE subscription_delivery SET due = now() WHERE subscription_id = ? AND due > now()")) {
      ps.setString(1, id);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, '')")) {
      ps.setString(1, DELIVERIES);
      ps.execute();
    }
  }
}
