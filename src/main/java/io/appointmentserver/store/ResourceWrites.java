package io.appointmentserver.store;

import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

/**
 * The write path: create, update and delete, each one {@link Write}.
 *
 * <p>A write is one transaction: check that the references exist, compare the version the
 * change was based on, then update the current row and append the history row in one
 * statement ({@link VersionSql}). The version check is the {@code WHERE version = ?} of that
 * statement, so several server processes on one database stay correct without any in-memory
 * state. In the same transaction the {@link ResourceStore.Indexer} indexes the new version,
 * {@link BookingSql} books what it books and its audit events are stored.
 */
public final class ResourceWrites {
  /** How often a write tries again: for a free id, or when another write came in between. */
  static final int MAX_ATTEMPTS = 20;

  private final Sql db;
  private final Clock clock;
  private final ResourceStore.Indexer indexer;
  private final BookingSql bookings;
  private final WriteCaching caching;
  private final BatchedCreates batches;

  /** {@code cache}: the current versions kept in memory while this process holds their lease; null for none. */
  ResourceWrites(Sql db, Clock clock, ResourceStore.Indexer indexer, BookingSql bookings, ReadCache cache) {
    this.db = db;
    this.clock = clock;
    this.indexer = indexer;
    this.bookings = bookings;
    this.caching = new WriteCaching(db, cache);
    this.batches = new BatchedCreates(db, indexer);
  }

  /**
   * Creates a resource ({@link Write#creating}): with a server-assigned id, or with the target's
   * id when it had to be known before (from {@link ResourceIds#newId}, for a transaction Bundle
   * whose entries refer to it).
   */
  public WriteResult create(Write w) {
    if (batches.takes(w)) {
      return batches.queue(w, now());
    }
    String type = w.target().type();
    String assigned = w.target().id();
    Write.Content content = w.content();
    return caching.created(() -> db.transaction(c -> {
      ReferenceChecks.check(c, content.references());
      for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        String id = assigned != null ? assigned : ResourceIds.nextId(c);
        Instant now = now();
        String json = content.renderer().render(id, 1, now);
        StoredResource written = new StoredResource(new Version(type, id, 1, now, false), json, content.tags(), "POST");
        // a client may already have chosen this id with PUT: then take the next one
        if (VersionSql.insert(c, written)) {
          indexer.index(c, written, content.model(), null);
          List<String> overlaps = bookings.book(c, type, id, content.bookings());
          AuditEvents.insert(c, w.audit().eventsFor(written, content.tags()));
          return new WriteResult(written, true, overlaps, false);
        }
        if (assigned != null) {
          // a client chose the same id with PUT since newId looked
          throw new VersionConflictException(type, id, 0, 1L);
        }
      }
      throw new IllegalStateException("no free id for " + type + " after " + MAX_ATTEMPTS + " attempts");
    }));
  }

  /**
   * Writes a new version of the target, creating it when it does not exist. Its
   * {@code expectedVersion} (from If-Match) must be the current version when given; the
   * {@link Write.Guard} must allow the version being replaced.
   */
  public WriteResult update(Write w) {
    String type = w.target().type();
    String id = w.target().id();
    Long expectedVersion = w.target().expectedVersion();
    Write.Content content = w.content();
    return caching.cached(w.target(), () -> db.transaction(c -> {
      ReferenceChecks.Targets refs = ReferenceChecks.split(content.references(), type, id);
      for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        VersionSql.Base base;
        if (expectedVersion != null && attempt == 0) {
          // the hot path: trust If-Match, let the UPDATE's WHERE clause verify it
          base = new VersionSql.Base(expectedVersion, false);
        } else {
          base = VersionSql.current(c, type, id);
          if (expectedVersion != null && (base == null || base.version() != expectedVersion)) {
            throw new VersionConflictException(type, id, expectedVersion, base == null ? null : base.version());
          }
        }
        boolean exists = base != null;
        long version = exists ? base.version() + 1 : 1;
        Instant now = now();
        String json = content.renderer().render(id, version, now);
        StoredResource stored = new StoredResource(new Version(type, id, version, now, false),
            json, content.tags(), "PUT");
        // an update's one audit event goes in the UPDATE statement, stored only if it updates: no round trip of its own
        List<AuditEvents.Event> events = w.audit().eventsFor(stored, content.tags());
        AuditEvents.Event withUpdate = exists && events.size() == 1 ? events.get(0) : null;
        VersionSql.Replaced replaced;
        if (exists) {
          replaced = VersionSql.update(c, new VersionSql.Condition(base, refs, w.guard(),
              content.renderer().frame(id)), stored, withUpdate);
          if (replaced != null && replaced.unchanged() != null) {
            return unchanged(c, w, replaced.unchanged());
          }
        } else {
          ReferenceChecks.check(c, refs);
          replaced = VersionSql.insert(c, stored) ? VersionSql.Replaced.NOTHING : null;
        }
        if (replaced != null) {
          indexer.index(c, stored, content.model(), replaced.indexedDigest());
          List<String> overlaps = bookings.book(c, type, id, content.bookings());
          if (withUpdate == null) {
            AuditEvents.insert(c, events);
          }
          // re-creating a deleted resource counts as a create
          return new WriteResult(stored, !exists || base.deleted(), overlaps, false);
        }
        // somebody else wrote in between: look again
      }
      throw new IllegalStateException("too much contention on " + type + "/" + id);
    }), WriteResult::resource);
  }

  /**
   * An update with the content of the current version: no new version, no index or booking
   * change; the answer is the current version (the model gets its id, version and time), and the
   * update is audited as asked.
   */
  private static WriteResult unchanged(java.sql.Connection c, Write w, StoredResource current)
      throws java.sql.SQLException {
    w.content().renderer().render(current.id(), current.version(), current.lastUpdated());
    AuditEvents.insert(c, w.audit().eventsForUnchanged(current, current.tags()));
    return new WriteResult(current, false, List.of(), true);
  }

  /**
   * Deletes the target ({@link Write#deleting}) by writing a tombstone version (which keeps the
   * access tags of the version it ends). Returns null when the resource never existed, the
   * existing tombstone when it is already deleted.
   */
  public StoredResource delete(Write w) {
    String type = w.target().type();
    String id = w.target().id();
    Long expectedVersion = w.target().expectedVersion();
    return caching.cached(w.target(), () -> db.transaction(c -> {
      for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        VersionSql.Base cur = VersionSql.current(c, type, id);
        if (expectedVersion != null && (cur == null || cur.version() != expectedVersion)) {
          throw new VersionConflictException(type, id, expectedVersion, cur == null ? null : cur.version());
        }
        if (cur == null) {
          return null;
        }
        if (cur.deleted()) {
          StoredResource tombstone = ResourceReads.read(c, type, id);
          if (!w.guard().allows(tombstone.tags(), null)) {
            throw new GuardRefusedException();
          }
          return tombstone;
        }
        long version = cur.version() + 1;
        Instant now = now();
        StoredResource next = new StoredResource(new Version(type, id, version, now, true), null, null, "DELETE");
        VersionSql.Replaced replaced = VersionSql.update(c,
            new VersionSql.Condition(cur, ReferenceChecks.Targets.NONE, w.guard()), next, null);
        if (replaced != null) {
          StoredResource tombstone = new StoredResource(new Version(type, id, version, now, true),
              null, replaced.tags(), "DELETE");
          indexer.index(c, tombstone, null, replaced.indexedDigest());
          bookings.book(c, type, id, w.content().bookings());
          AuditEvents.insert(c, w.audit().eventsFor(tombstone, replaced.tags()));
          return tombstone;
        }
      }
      throw new IllegalStateException("too much contention on " + type + "/" + id);
    }), tombstone -> tombstone);
  }

  /**
   * Runs {@code work} (within a {@link TransactionScope} transaction, e.g. a transaction Bundle)
   * with the creates it makes on this thread with an assigned id and no bookings queued instead
   * of written one by one: every {@code BatchedCreates.BATCH} of them, at {@link #flush} and when {@code work}
   * returns, they go to the database together in JDBC batches (the current and history rows,
   * the index rows, the audit events: a few round trips instead of three per create). A queued
   * create's id turning out to be taken fails the whole transaction as a single create would.
   * The caller flushes before anything that reads what it wrote.
   */
  public <T> T batched(Supplier<T> work) {
    return batches.batched(work);
  }

  /** Writes the creates queued by {@link #batched} so far. */
  public void flush() {
    batches.flush();
  }

  /**
   * Refuses ({@link MissingReferenceException}) the first of {@code references} ({@code Type/id})
   * that is not a resource here: for writes that check theirs together once all are written.
   */
  public void checkReferencesExist(Collection<String> references) {
    db.run(c -> {
      ReferenceChecks.check(c, references);
      return null;
    });
  }

  /** Appends audit events (read events, batched) in one COPY. */
  public void appendAudit(List<AuditEvents.Event> events) {
    if (!events.isEmpty()) {
      db.run(c -> {
        AuditEvents.copy(c, events);
        return null;
      });
    }
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }

  private static final String LOCK_CURRENT = """
      SELECT r.version, r.last_updated, r.deleted, r.body, r.tags,
             (SELECT s.rows_digest FROM search_indexed s WHERE s.res_type = r.res_type AND s.res_id = r.res_id)
        FROM resource r WHERE r.res_type = ? AND r.res_id = ? FOR UPDATE""";
  private static final String REWRITE = "UPDATE resource SET body = ? WHERE res_type = ? AND res_id = ? AND version = ?";
  private static final String REWRITE_HISTORY =
      "UPDATE resource_history SET body = ? WHERE res_type = ? AND res_id = ? AND version = ?";

  /**
   * Changes the current version of {@code target} in place, without a new version (what
   * {@code $meta-add} and {@code $meta-delete} do to tags, security labels and profiles): its body
   * becomes {@code change} of it, in the current and the history row, and it is indexed again.
   * {@code guard} must allow the version (the user's context). Null when there is no such resource
   * or it is deleted. The one change of a history row: every other write appends (V1's comment);
   * a vread of the current version must show the meta it has now, as the specification's
   * "no new version" for meta changes implies.
   */
  public StoredResource rewrite(Write.Target target, Write.Guard guard, java.util.function.UnaryOperator<String> change) {
    String type = target.type();
    String id = target.id();
    return caching.cached(target, () -> db.transaction(c -> {
      StoredResource before;
      byte[] digest;
      try (PreparedStatement ps = c.prepareStatement(LOCK_CURRENT)) {
        ps.setString(1, type);
        ps.setString(2, id);
        try (java.sql.ResultSet rs = ps.executeQuery()) {
          if (!rs.next() || rs.getBoolean(3)) {
            return null;
          }
          before = new StoredResource(new Version(type, id, rs.getLong(1),
              rs.getObject(2, java.time.OffsetDateTime.class).toInstant(), false), rs.getString(4), Sql.tags(rs, 5));
          digest = rs.getBytes(6);
        }
      }
      if (!guard.allows(before.tags(), before.json())) {
        throw new GuardRefusedException();
      }
      String json = change.apply(before.json());
      for (String sql : new String[] {REWRITE, REWRITE_HISTORY}) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          ps.setString(1, json);
          ps.setString(2, type);
          ps.setString(3, id);
          ps.setLong(4, before.version());
          ps.executeUpdate();
        }
      }
      StoredResource after = new StoredResource(before.at(), json, before.tags());
      indexer.reindex(c, after, digest);
      return after;
    }), r -> r);
  }
}
