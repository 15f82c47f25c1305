package io.appointmentserver.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.sql.DataSource;

import static io.appointmentserver.store.Sql.tags;
import static io.appointmentserver.store.Sql.ts;

/**
 * The database behind a narrow interface: read, vread, history and the write path.
 *
 * <p>A write is one transaction: check that the references exist, compare the version the
 * change was based on, then update the current row and append the history row in one
 * statement. The version check is the {@code WHERE version = ?} of that statement, so several
 * server processes on one database stay correct without any in-memory state.
 */
public final class ResourceStore {
  static final int MAX_ATTEMPTS = 20;

  private final Sql db;
  private final Clock clock;
  private final BookingSql bookingSql;
  private final ResourceIds ids;
  private final Indexer indexer;
  private final ResourceReads reads;
  private final ResourceHistory history;
  private final ReadCache cache; // null: every read asks the database

  /** Renders the JSON of a resource once its id, version and lastUpdated are known. */
  @FunctionalInterface
  public interface Renderer {
    String render(String id, long version, Instant lastUpdated);
  }

  /**
   * A written version, whether the write created the resource (201) or not (200), and the other
   * appointments it overlaps (under {@link Bookings.Mode#WARN}).
   */
  public record WriteResult(StoredResource resource, boolean created, List<String> overlaps) {}

  public ResourceStore(DataSource ds, Clock clock) {
    this(ds, clock, Bookings.Mode.WARN);
  }

  public ResourceStore(DataSource ds, Clock clock, Bookings.Mode overlapMode) {
    this(ds, clock, overlapMode, Indexer.NONE);
  }

  public ResourceStore(DataSource ds, Clock clock, Bookings.Mode overlapMode, Indexer indexer) {
    this(ds, clock, overlapMode, indexer, null);
  }

  /** {@code cache}: the current versions kept in memory while this process holds their lease; null for none. */
  public ResourceStore(DataSource ds, Clock clock, Bookings.Mode overlapMode, Indexer indexer, ReadCache cache) {
    this.db = new Sql(ds);
    this.cache = cache;
    this.clock = clock;
    this.bookingSql = new BookingSql(overlapMode);
    this.ids = new ResourceIds(db);
    this.indexer = indexer;
    this.reads = new ResourceReads(db, cache);
    this.history = new ResourceHistory(db);
  }

  /** read and vread. */
  public ResourceReads reads() {
    return reads;
  }

  /** History pages, and what changed since a time. */
  public ResourceHistory history() {
    return history;
  }

  /** Ids for creates that must know theirs before they are written (a transaction Bundle's). */
  public ResourceIds ids() {
    return ids;
  }

  /** Keeps the search index in step with every version written, inside the write's transaction. */
  @FunctionalInterface
  public interface Indexer {
    Indexer NONE = (c, written, model, indexedDigest) -> {};

    /**
     * {@code model} is the written version as the caller's model object when it has one (the
     * object its {@link Renderer} serialized), so that the JSON need not be parsed again; else null.
     * {@code indexedDigest} is the resource's {@code search_indexed.rows_digest} as the update read
     * it with the resource's row locked (every writer of index rows locks it), null when unknown.
     */
    void index(Connection c, StoredResource written, Object model, byte[] indexedDigest) throws SQLException;

    /**
     * For a batch of first versions ({@link #batched}): what {@link #writeAll} needs of one, taken
     * now, while {@code model} is at hand (by default the model itself).
     */
    default Object rows(StoredResource written, Object model) {
      return model;
    }

    /** Indexes first versions whose {@link #rows} were taken before (by default one at a time). */
    default void writeAll(Connection c, List<StoredResource> written, List<Object> rows) throws SQLException {
      for (int i = 0; i < written.size(); i++) {
        index(c, written.get(i), rows.get(i), null);
      }
    }
  }

  // ---------------------------------------------------------------- writes

  /**
   * Runs the write of {@code type/id} with the {@link ReadCache} told: the key is marked before it
   * starts, and when its transaction ends (the store's own, or the {@link TransactionScope} it is
   * part of) the committed version goes into the cache, before the response is sent.
   */
  private <T> T cached(String type, String id, java.util.function.Supplier<T> write,
      java.util.function.Function<T, StoredResource> written) {
    if (cache == null) {
      return write.get();
    }
    long generation = cache.beginWrite(type, id);
    T result = null;
    try {
      result = write.get();
      return result;
    } finally {
      StoredJson s = result == null ? null : cacheable(written.apply(result));
      db.whenEnded(committed -> cache.endWrite(type, id, committed ? s : null, generation));
    }
  }

  /** A create's version goes into the cache once committed. */
  private WriteResult created(long generation, WriteResult result) {
    if (cache != null) {
      StoredJson s = cacheable(result.resource());
      if (s != null) {
        db.whenEnded(committed -> {
          if (committed) {
            cache.created(s, generation);
          }
        });
      }
    }
    return result;
  }

  private static StoredJson cacheable(StoredResource r) {
    if (r == null || r.tags() == null) {
      return null; // tags kept from the old version: not known here
    }
    return new StoredJson(r.type(), r.id(), r.version(), r.lastUpdated(), r.deleted(),
        r.json() == null ? null : r.json().getBytes(java.nio.charset.StandardCharsets.UTF_8), r.tags());
  }

  private static final String INSERT = """
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
   * second column is null when nothing was written (a missing reference, or another version).
   */
  private static final String UPDATE = """
      WITH missing AS (
        SELECT r.t || '/' || r.i AS ref FROM unnest(?::text[], ?::text[]) AS r(t, i)
         WHERE NOT EXISTS (SELECT 1 FROM resource x
                            WHERE x.res_type = r.t AND x.res_id = r.i AND NOT x.deleted)
         LIMIT 1),
      old AS (
        SELECT tags, body FROM resource
         WHERE res_type = ? AND res_id = ? AND version = ? AND deleted = ? AND NOT EXISTS (SELECT 1 FROM missing)
        FOR UPDATE),
      cur AS (
        UPDATE resource r SET version = ?, last_updated = ?, deleted = ?, body = ?, tags = coalesce(?, old.tags)
          FROM old WHERE r.res_type = ? AND r.res_id = ?
        RETURNING r.res_type, r.res_id, r.version, r.last_updated, r.deleted, r.body, r.tags,
          old.tags AS old_tags, old.body AS old_body),
      hist AS (
        INSERT INTO resource_history (res_type, res_id, version, last_updated, deleted, body, tags, method)
        SELECT res_type, res_id, version, last_updated, deleted, body, tags, ?::text FROM cur)
      SELECT (SELECT ref FROM missing), cur.res_id, cur.old_tags, cur.old_body,
             (SELECT s.rows_digest FROM search_indexed s WHERE s.res_type = cur.res_type AND s.res_id = cur.res_id
                 FOR KEY SHARE)
        FROM (VALUES (1)) AS one(x) LEFT JOIN cur ON true""";

  /** {@link #UPDATE} that also stores an audit event when it updates (its CTEs come before the last SELECT). */
  private static final String UPDATE_AUDITED = AuditEvents.withUpdate(UPDATE, "cur");

  private static final String CURRENT_VERSION = """
      SELECT version, deleted FROM resource WHERE res_type = ? AND res_id = ?""";

  /**
   * What a write must know of the version it replaces: {@code allows(oldTags, oldJson)} is asked inside
   * the write's transaction, with the row locked; false rolls the write back.
   */
  @FunctionalInterface
  public interface Guard {
    Guard NONE = (oldTags, oldJson) -> true;

    /** False (or an exception) refuses the write; {@code oldJson} is null for a tombstone. */
    boolean allows(String[] oldTags, String oldJson);
  }

  /**
   * The audit events of a write, made once its id, version and access tags are known and stored
   * in the same transaction: acknowledged means audited.
   */
  @FunctionalInterface
  public interface AuditTrail {
    AuditTrail NONE = (written, tags) -> List.of();

    List<AuditEvents.Event> eventsFor(StoredResource written, String[] tags);
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

  /** Refused by a {@link Guard}: nothing was written. */
  public static final class GuardRefusedException extends RuntimeException {
    public GuardRefusedException() {
      super("refused by guard", null, false, false);
    }
  }

  /** Creates a resource with a server-assigned id. */
  public WriteResult create(String type, Collection<String> references, String[] tags, Bookings bookings,
      Renderer renderer, Object model, AuditTrail audit) {
    return create(type, null, references, tags, bookings, renderer, model, audit);
  }

  /**
   * Creates a resource with a server-assigned id, or with {@code assigned} when the id had to be
   * known before (from {@link ResourceIds#newId}, for a transaction Bundle whose entries refer to it).
   */
  public WriteResult create(String type, String assigned, Collection<String> references, String[] tags,
      Bookings bookings, Renderer renderer, Object model, AuditTrail audit) {
    List<Queued> queued = queue.get();
    if (queued != null && assigned != null && bookings == null && references.isEmpty()) {
      return queue(queued, type, assigned, tags, renderer, model, audit);
    }
    long generation = cache == null ? 0 : cache.generation();
    return created(generation, db.transaction(c -> {
      ReferenceChecks.check(c, references);
      for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        String id = assigned != null ? assigned : ResourceIds.nextId(c);
        Instant now = now();
        String json = renderer.render(id, 1, now);
        // a client may already have chosen this id with PUT: then take the next one
        if (insert(c, type, id, 1, now, json, tags, "POST")) {
          StoredResource written = new StoredResource(type, id, 1, now, false, json, tags, "POST");
          indexer.index(c, written, model, null);
          List<String> overlaps = bookingSql.book(c, type, id, bookings);
          AuditEvents.insert(c, audit.eventsFor(written, tags));
          return new WriteResult(written, true, overlaps);
        }
        if (assigned != null) {
          // a client chose the same id with PUT since newId looked
          throw new VersionConflictException(type, id, 0, 1L);
        }
      }
      throw new IllegalStateException("no free id for " + type + " after " + MAX_ATTEMPTS + " attempts");
    }));
  }

  // ---------------------------------------------------------------- batched creates

  /** How many queued creates are written at once: bounds what a large Bundle holds in memory. */
  private static final int BATCH = 200;

  /** A create queued by {@link #batched}: the version, its index rows, its audit events. */
  private record Queued(StoredResource written, Object rows, List<AuditEvents.Event> events) {}

  private final ThreadLocal<List<Queued>> queue = new ThreadLocal<>();

  /**
   * Runs {@code work} (within a {@link TransactionScope} transaction, e.g. a transaction Bundle)
   * with the creates it makes on this thread with an assigned id and no bookings queued instead
   * of written one by one: every {@link #BATCH} of them, at {@link #flush} and when {@code work}
   * returns, they go to the database together in JDBC batches (the current and history rows,
   * the index rows, the audit events: a few round trips instead of three per create). A queued
   * create's id turning out to be taken fails the whole transaction as a single create would.
   * The caller flushes before anything that reads what it wrote.
   */
  public <T> T batched(java.util.function.Supplier<T> work) {
    if (queue.get() != null) {
      return work.get();
    }
    queue.set(new ArrayList<>());
    try {
      T result = work.get();
      flush();
      return result;
    } finally {
      queue.remove();
    }
  }

  private WriteResult queue(List<Queued> queued, String type, String id, String[] tags, Renderer renderer,
      Object model, AuditTrail audit) {
    Instant now = now();
    String json = renderer.render(id, 1, now);
    StoredResource written = new StoredResource(type, id, 1, now, false, json, tags, "POST");
    queued.add(new Queued(written, indexer.rows(written, model), audit.eventsFor(written, tags)));
    if (queued.size() >= BATCH) {
      flush();
    }
    return new WriteResult(written, true, List.of());
  }

  /** Writes the creates queued by {@link #batched} so far. */
  public void flush() {
    List<Queued> queued = queue.get();
    if (queued == null || queued.isEmpty()) {
      return;
    }
    List<Queued> items = new ArrayList<>(queued);
    queued.clear();
    db.run(c -> {
      try (PreparedStatement ps = c.prepareStatement(INSERT)) {
        for (Queued q : items) {
          StoredResource w = q.written();
          bindInsert(ps, w.type(), w.id(), 1, w.lastUpdated(), w.json(), w.tags(), "POST");
          ps.addBatch();
        }
        int[] counts = ps.executeBatch();
        for (int i = 0; i < counts.length; i++) {
          if (counts[i] == 0) {
            // a client chose the same id with PUT since newIds looked
            StoredResource w = items.get(i).written();
            throw new VersionConflictException(w.type(), w.id(), 0, 1L);
          }
        }
      }
      List<StoredResource> written = new ArrayList<>(items.size());
      List<Object> rows = new ArrayList<>(items.size());
      List<AuditEvents.Event> events = new ArrayList<>();
      for (Queued q : items) {
        written.add(q.written());
        rows.add(q.rows());
        events.addAll(q.events());
      }
      indexer.writeAll(c, written, rows);
      AuditEvents.insert(c, events);
      return null;
    });
  }

  /**
   * Writes a new version of {@code type/id}, creating it when it does not exist.
   * {@code expectedVersion} (from If-Match) must be the current version when given; {@code guard}
   * must allow the version being replaced.
   */
  public WriteResult update(String type, String id, Long expectedVersion,
      Collection<String> references, String[] tags, Bookings bookings, Guard guard, Renderer renderer,
      Object model, AuditTrail audit) {
    return cached(type, id, () -> db.transaction(c -> {
      ReferenceChecks.Targets refs = ReferenceChecks.split(references, type, id);
      for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        long base;
        boolean exists;
        boolean baseDeleted = false;
        if (expectedVersion != null && attempt == 0) {
          // the hot path: trust If-Match, let the UPDATE's WHERE clause verify it
          base = expectedVersion;
          exists = true;
        } else {
          long[] cur = currentVersion(c, type, id);
          exists = cur != null;
          base = exists ? cur[0] : 0;
          baseDeleted = exists && cur[1] == 1;
          if (expectedVersion != null && (!exists || base != expectedVersion)) {
            throw new VersionConflictException(type, id, expectedVersion, exists ? base : null);
          }
        }
        long version = base + 1;
        Instant now = now();
        String json = renderer.render(id, version, now);
        StoredResource stored = new StoredResource(type, id, version, now, false, json, tags, "PUT");
        // an update's one audit event goes in the UPDATE statement, stored only if it updates: no round trip of its own
        List<AuditEvents.Event> events = audit.eventsFor(stored, tags);
        AuditEvents.Event withUpdate = exists && events.size() == 1 ? events.get(0) : null;
        Replaced replaced;
        if (exists) {
          replaced = update(c, refs, type, id, base, baseDeleted, version, now, false, json, tags, guard, "PUT",
              withUpdate);
        } else {
          ReferenceChecks.check(c, refs);
          replaced = insert(c, type, id, version, now, json, tags, "PUT") ? Replaced.NOTHING : null;
        }
        if (replaced != null) {
          indexer.index(c, stored, model, replaced.indexedDigest());
          List<String> overlaps = bookingSql.book(c, type, id, bookings);
          if (withUpdate == null) {
            AuditEvents.insert(c, events);
          }
          // re-creating a deleted resource counts as a create
          return new WriteResult(stored, !exists || baseDeleted, overlaps);
        }
        // somebody else wrote in between: look again
      }
      throw new IllegalStateException("too much contention on " + type + "/" + id);
    }), WriteResult::resource);
  }

  /**
   * Deletes {@code type/id} by writing a tombstone version (which keeps the access tags of the
   * version it ends). Returns null when the resource never existed, the existing tombstone when
   * it is already deleted.
   */
  public StoredResource delete(String type, String id, Long expectedVersion, Guard guard, AuditTrail audit,
      Bookings bookings) {
    return cached(type, id, () -> db.transaction(c -> {
      for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        long[] cur = currentVersion(c, type, id);
        if (expectedVersion != null && (cur == null || cur[0] != expectedVersion)) {
          throw new VersionConflictException(type, id, expectedVersion, cur == null ? null : cur[0]);
        }
        if (cur == null) {
          return null;
        }
        if (cur[1] == 1) {
          StoredResource tombstone = ResourceReads.read(c, type, id);
          if (!guard.allows(tombstone.tags(), null)) {
            throw new GuardRefusedException();
          }
          return tombstone;
        }
        Instant now = now();
        Replaced replaced = update(c, ReferenceChecks.Targets.NONE, type, id, cur[0], false, cur[0] + 1, now, true, null, null, guard,
            "DELETE", null);
        if (replaced != null) {
          StoredResource tombstone = new StoredResource(type, id, cur[0] + 1, now, true, null, replaced.tags(),
              "DELETE");
          indexer.index(c, tombstone, null, replaced.indexedDigest());
          bookingSql.book(c, type, id, bookings);
          AuditEvents.insert(c, audit.eventsFor(tombstone, replaced.tags()));
          return tombstone;
        }
      }
      throw new IllegalStateException("too much contention on " + type + "/" + id);
    }), tombstone -> tombstone);
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

  private static boolean insert(Connection c, String type, String id, long version, Instant now, String json,
      String[] tags, String method) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(INSERT)) {
      bindInsert(ps, type, id, version, now, json, tags, method);
      return ps.executeUpdate() == 1;
    }
  }

  private static void bindInsert(PreparedStatement ps, String type, String id, long version, Instant now, String json,
      String[] tags, String method) throws SQLException {
    ps.setString(1, type);
    ps.setString(2, id);
    ps.setLong(3, version);
    ps.setObject(4, ts(now));
    ps.setBoolean(5, false);
    ps.setString(6, json);
    ps.setObject(7, tags);
    ps.setString(8, method);
  }

  /**
   * What an update replaced: the old version's access tags, and its index rows' digest (for
   * {@link Indexer#index}); {@link #NOTHING} for a first version.
   */
  private record Replaced(String[] tags, byte[] indexedDigest) {
    static final Replaced NOTHING = new Replaced(null, null);
  }

  /**
   * The conditional update; {@code tags} null keeps the old ones (deletions). Null when the
   * version was not {@code base} any more. {@code event}: an audit event stored by the same
   * statement when it updates, or null.
   */
  private static Replaced update(Connection c, ReferenceChecks.Targets refs, String type, String id, long base,
      boolean baseDeleted, long version, Instant now, boolean deleted, String json, String[] tags, Guard guard,
      String method, AuditEvents.Event event) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(event == null ? UPDATE : UPDATE_AUDITED)) {
      int i = 1;
      ps.setArray(i++, c.createArrayOf("text", refs.types()));
      ps.setArray(i++, c.createArrayOf("text", refs.ids()));
      ps.setString(i++, type);
      ps.setString(i++, id);
      ps.setLong(i++, base);
      ps.setBoolean(i++, baseDeleted);
      ps.setLong(i++, version);
      ps.setObject(i++, ts(now));
      ps.setBoolean(i++, deleted);
      ps.setString(i++, json);
      ps.setObject(i++, tags, java.sql.Types.ARRAY);
      ps.setString(i++, type);
      ps.setString(i++, id);
      ps.setString(i++, method);
      if (event != null) {
        AuditEvents.bindWithUpdate(ps, i, event);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        String missing = rs.getString(1);
        if (missing != null) {
          throw new MissingReferenceException(missing);
        }
        if (rs.getString(2) == null) {
          return null;
        }
        String[] oldTags = tags(rs, 3);
        if (!guard.allows(oldTags, rs.getString(4))) {
          throw new GuardRefusedException();
        }
        return new Replaced(oldTags, rs.getBytes(5));
      }
    }
  }

  /** [version, deleted ? 1 : 0] or null. */
  private static long[] currentVersion(Connection c, String type, String id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(CURRENT_VERSION)) {
      ps.setString(1, type);
      ps.setString(2, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new long[] {rs.getLong(1), rs.getBoolean(2) ? 1 : 0} : null;
      }
    }
  }

  // ---------------------------------------------------------------- plumbing

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }
}
