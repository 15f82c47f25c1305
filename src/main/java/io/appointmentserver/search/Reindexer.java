package io.appointmentserver.search;

import io.appointmentserver.store.SqlErrors;
import io.appointmentserver.store.StoredResource;
import io.appointmentserver.store.Version;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the stored resources indexed under the search parameters as they are now: the
 * SearchParameter resources written through the API (in this process or another one on the same
 * database) take effect without a restart, and the resources of a type whose parameters changed
 * are indexed again by a background job.
 *
 * <p>The job is a pass over a type's resources in id order, a batch of {@value #BATCH} per
 * transaction: the batch locks the type's progress row in {@code search_reindex} (so that
 * processes running the same pass take turns instead of doing the work twice), then the
 * resources after the progress row's {@code after_id} that are not indexed under the current
 * fingerprint, {@code FOR UPDATE}: a write of one of them waits for the batch, or the batch for
 * the write, and the batch then indexes the written version; either way the rows are replaced in
 * one statement, never doubled. The progress commits with its batch: a restart goes on where the
 * pass was. A write made under the old definitions in another process before it saw the change
 * is caught by the pass that process starts when it sees the change.
 */
public final class Reindexer {
  private static final Logger log = LoggerFactory.getLogger(Reindexer.class);
  static final int BATCH = 200;
  private static final long POLL_MILLIS = 5_000;
  private static final long LOG_MILLIS = 10_000;
  public static final String SEARCH_PARAMETER = "SearchParameter";

  /** Where the stored SearchParameters come from: the store. */
  public interface Source {
    /** Changes whenever a SearchParameter is written or deleted (by any process). */
    String fingerprint();

    /** The SearchParameter resources as they are now, deleted ones left out. */
    List<IBaseResource> current();
  }

  private final DataSource ds;
  private final SearchIndex index;
  private final SearchParameters params;
  private final Source source;
  private final AtomicBoolean closing = new AtomicBoolean();
  /** For /metrics: resources this process indexed again, and its passes under way. */
  private final AtomicLong reindexed = new AtomicLong();
  private final AtomicInteger passes = new AtomicInteger();
  /** Types to index again, and whether a finished pass under the same fingerprint is done again. */
  private final BlockingQueue<Map.Entry<String, Boolean>> queue = new LinkedBlockingQueue<>();
  private final CompletableFuture<Long> startUp = new CompletableFuture<>();
  private final Object refreshLock = new Object();
  private volatile String seen;
  private Thread worker;

  public Reindexer(DataSource ds, SearchIndex index, SearchParameters params, Source source) {
    this.ds = ds;
    this.index = index;
    this.params = params;
    this.source = source;
  }

  /**
   * Reads the stored SearchParameters, then starts the background job: first a pass over each
   * type that has resources (a pass a restart interrupted goes on where it was; finding the
   * resources not indexed under the current definitions costs one scan of the type: a database
   * written before the index, definitions changed while the server was down, a version written
   * by a process that died before it saw a change), then the passes the changes found later ask
   * for.
   */
  public void start() {
    refresh(false);
    worker = new Thread(this::run, "search-reindex");
    worker.setDaemon(true);
    worker.setPriority(Thread.MIN_PRIORITY);
    worker.start();
  }

  /** Completes when the passes of the start-up are done, with how many resources they indexed. */
  public CompletableFuture<Long> startUp() {
    return startUp;
  }

  /**
   * A SearchParameter was written or deleted here: the definitions are read again at once, so the
   * next search and write of this process use them.
   */
  public void changed() {
    refresh(true);
  }

  /** Reads the stored SearchParameters again if their fingerprint changed; queues the types that changed. */
  private void refresh(boolean enqueue) {
    synchronized (refreshLock) {
      try {
        String now = source.fingerprint();
        if (now.equals(seen)) {
          return;
        }
        Set<String> changed = params.useStored(source.current());
        seen = now;
        if (enqueue && !changed.isEmpty()) {
          log.info("search parameters changed for {}: indexing their resources again", changed);
          changed.forEach(t -> queue.add(Map.entry(t, true)));
        }
      } catch (RuntimeException e) {
        log.warn("stored search parameters not read: {}", e.toString());
      }
    }
  }

  private void run() {
    long total = 0;
    try {
      for (String type : params.types()) {
        if (closing.get()) {
          break;
        }
        total += pass(type, true);
      }
      if (total > 0) {
        log.info("search index: {} stored resources indexed at start-up", total);
      }
      startUp.complete(total);
    } catch (RuntimeException e) {
      if (!closing.get()) {
        log.error("search index: the start-up reindex failed", e);
      }
      startUp.completeExceptionally(e);
    }
    while (!closing.get()) {
      try {
        Map.Entry<String, Boolean> next = queue.poll(POLL_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        refresh(true); // another process may have changed them
        if (next != null) {
          pass(next.getKey(), next.getValue());
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        if (!closing.get()) {
          log.error("search index: reindexing failed; tried again with the next change or restart", e);
        }
      }
    }
  }

  /** Stops the job after its current batch (which commits or rolls back as a whole). */
  public void close() {
    closing.set(true);
    if (worker != null) {
      worker.interrupt();
      try {
        worker.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---------------------------------------------------------------- passes asked for

  /**
   * {@code $mark-all-resources-for-reindexing}: a full pass over each of {@code types} that has
   * resources (every resource indexed again, whatever its rows), recorded at once and run by the
   * background job, where a restart goes on with it. Returns how many resources were marked.
   */
  public long markAll(java.util.Collection<String> types) {
    long marked = 0;
    for (String type : types) {
      try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(MARK)) {
        ps.setString(1, type);
        ps.setString(2, params.fingerprint(type));
        ps.setString(3, type);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            marked += rs.getLong(1);
            queue.add(Map.entry(type, false));
          }
        }
      } catch (SQLException e) {
        throw SqlErrors.translate(e);
      }
    }
    return marked;
  }

  /** What {@link #runPending} did: resources indexed, and the passes still under way after it. */
  public record PassResult(long indexed, int unfinished) {}

  /**
   * {@code $perform-reindexing-pass}: runs the passes under way (asked for, or started by changed
   * parameters) in the caller's thread for up to {@code maxMillis}; the background job does the
   * rest. Batches of one type take turns with the job's (the progress row's lock): nothing twice.
   */
  public PassResult runPending(long maxMillis) {
    long deadline = System.currentTimeMillis() + maxMillis;
    long done = 0;
    for (String type : unfinished()) {
      int[] n;
      while (System.currentTimeMillis() < deadline && !closing.get()
          && (n = batch(type, params.fingerprint(type), false)) != null) {
        done += n[0];
        reindexed.addAndGet(n[0]);
      }
    }
    return new PassResult(done, unfinished().size());
  }

  private List<String> unfinished() {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT res_type FROM search_reindex WHERE finished IS NULL ORDER BY started");
        ResultSet rs = ps.executeQuery()) {
      List<String> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      return out;
    } catch (SQLException e) {
      throw SqlErrors.translate(e);
    }
  }

  // ---------------------------------------------------------------- one pass

  private static final String PROGRESS = """
      SELECT fingerprint, after_id, finished IS NOT NULL, full_pass FROM search_reindex WHERE res_type = ? FOR UPDATE""";

  /** A new pass; a requested full pass under way goes on from the start, under the new definitions. */
  private static final String START = """
      INSERT INTO search_reindex (res_type, fingerprint, after_id, indexed, started, updated, finished)
      VALUES (?, ?, '', 0, now(), now(), NULL)
      ON CONFLICT (res_type) DO UPDATE SET fingerprint = excluded.fingerprint, after_id = '', indexed = 0,
        started = now(), updated = now(), finished = NULL,
        full_pass = search_reindex.full_pass AND search_reindex.finished IS NULL,
        total = CASE WHEN search_reindex.full_pass AND search_reindex.finished IS NULL THEN search_reindex.total END""";

  /** A requested full pass over the type (when it has resources): its progress row, from the start. */
  private static final String MARK = """
      INSERT INTO search_reindex (res_type, fingerprint, after_id, indexed, started, updated, finished, full_pass, total)
      SELECT ?, ?, '', 0, now(), now(), NULL, true, count(*) FROM resource WHERE res_type = ? AND NOT deleted
      HAVING count(*) > 0
      ON CONFLICT (res_type) DO UPDATE SET fingerprint = excluded.fingerprint, after_id = '', indexed = 0,
        started = now(), updated = now(), finished = NULL, full_pass = true, total = excluded.total
      RETURNING total""";

  /** The resources of a pass's next batch: those not indexed under the fingerprint, or all in a full pass. */
  private static final String STALE = """
      SELECT r.res_id, r.version, r.last_updated, r.body FROM resource r
       WHERE r.res_type = ? AND r.res_id > ? AND NOT r.deleted
         AND (? OR NOT EXISTS (SELECT 1 FROM search_indexed s
                          WHERE s.res_type = r.res_type AND s.res_id = r.res_id AND s.fingerprint = ?))
       ORDER BY r.res_id
       LIMIT ?
       FOR UPDATE OF r""";

  private static final String ADVANCE = """
      UPDATE search_reindex SET after_id = ?, indexed = indexed + ?, updated = now(),
        finished = CASE WHEN ? THEN now() END
       WHERE res_type = ?""";

  /**
   * Indexes the resources of {@code type} not indexed under its current fingerprint. A pass of
   * the same fingerprint that a restart interrupted (or another process runs) goes on; a finished
   * one is done again only when {@code again}. Returns how many resources this process indexed.
   */
  long pass(String type, boolean again) {
    passes.incrementAndGet();
    try {
      return passOf(type, again);
    } finally {
      passes.decrementAndGet();
    }
  }

  private long passOf(String type, boolean again) {
    long done = 0;
    long loggedAt = System.currentTimeMillis();
    boolean first = true;
    while (!closing.get()) {
      String fingerprint = params.fingerprint(type);
      int[] n = batch(type, fingerprint, first && again);
      if (n == null) {
        break; // nothing to do, or the pass is finished
      }
      first = false;
      done += n[0];
      reindexed.addAndGet(n[0]);
      if (System.currentTimeMillis() - loggedAt > LOG_MILLIS) {
        loggedAt = System.currentTimeMillis();
        log.info("search index: {} resources of {} indexed again so far", done, type);
      }
    }
    if (done > 0) {
      log.info("search index: {} resources of {} indexed under its current parameters", done, type);
    }
    return done;
  }

  /** One batch in one transaction: {indexed} or null when the pass is (now) finished. */
  private int[] batch(String type, String fingerprint, boolean restart) {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try {
        Progress at = progress(c, type, fingerprint, restart);
        if (at == null) {
          c.commit();
          return null;
        }
        String after = at.after();
        List<StoredResource> stale = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(STALE)) {
          ps.setString(1, type);
          ps.setString(2, after);
          ps.setBoolean(3, at.full());
          ps.setString(4, fingerprint);
          ps.setInt(5, BATCH);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              stale.add(new StoredResource(new Version(type, rs.getString(1), rs.getLong(2), rs.getObject(3, OffsetDateTime.class).toInstant(), false),
                  rs.getString(4), null));
            }
          }
        }
        for (StoredResource s : stale) {
          index.index(c, s, null, true, null);
        }
        boolean finished = stale.size() < BATCH;
        try (PreparedStatement ps = c.prepareStatement(ADVANCE)) {
          ps.setString(1, stale.isEmpty() ? after : stale.get(stale.size() - 1).id());
          ps.setLong(2, stale.size());
          ps.setBoolean(3, finished);
          ps.setString(4, type);
          ps.executeUpdate();
        }
        c.commit();
        return finished && stale.isEmpty() ? null : new int[] {stale.size()};
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw SqlErrors.translate(e);
    }
  }

  /** Where a pass goes on: after this id ('' from the start); {@code full}: every resource, not only stale ones. */
  private record Progress(String after, boolean full) {}

  /**
   * Locks the type's progress row and returns where the pass goes on, or null when there is
   * nothing to do (a finished pass of this fingerprint, not to be done again).
   */
  private Progress progress(Connection c, String type, String fingerprint, boolean restart) throws SQLException {
    boolean full = false;
    try (PreparedStatement ps = c.prepareStatement(PROGRESS)) {
      ps.setString(1, type);
      try (ResultSet rs = ps.executeQuery()) {
        boolean found = rs.next();
        // a requested full pass under way stays one when the definitions changed meanwhile
        full = found && rs.getBoolean(4) && !rs.getBoolean(3);
        if (found && rs.getString(1).equals(fingerprint)) {
          if (!rs.getBoolean(3)) {
            return new Progress(rs.getString(2), rs.getBoolean(4)); // a pass of these definitions is under way: go on with it
          }
          if (!restart) {
            return null;
          }
        }
      }
    }
    // no pass yet, another fingerprint's, or a finished one to do again
    if (!hasResources(c, type)) {
      return null; // nothing stored: nothing to record either
    }
    try (PreparedStatement ps = c.prepareStatement(START)) {
      ps.setString(1, type);
      ps.setString(2, fingerprint);
      ps.executeUpdate();
    }
    // the row exists now: lock it as the other batches do
    try (PreparedStatement ps = c.prepareStatement(PROGRESS)) {
      ps.setString(1, type);
      ps.executeQuery().close();
    }
    return new Progress("", full);
  }

  private static boolean hasResources(Connection c, String type) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM resource WHERE res_type = ? LIMIT 1")) {
      ps.setString(1, type);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  // ---------------------------------------------------------------- status

  /** Reindex progress of this process: {@code fhir_reindex_resources_total}, {@code fhir_reindex_passes}. */
  public void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
    io.micrometer.core.instrument.FunctionCounter.builder("fhir.reindex.resources", reindexed, AtomicLong::get)
        .description("stored resources this process indexed again under changed search parameters")
        .register(registry);
    io.micrometer.core.instrument.Gauge.builder("fhir.reindex.passes", passes, AtomicInteger::get)
        .description("reindex passes this process is running").register(registry);
  }

  /** The passes running or finished in the last hour (any process), for {@code /health}. */
  public List<Map<String, Object>> status() {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement("""
            SELECT res_type, indexed, started, updated, finished, full_pass, total FROM search_reindex
             WHERE finished IS NULL OR finished > now() - interval '1 hour'
             ORDER BY started DESC LIMIT 20""");
        ResultSet rs = ps.executeQuery()) {
      List<Map<String, Object>> out = new ArrayList<>();
      while (rs.next()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", rs.getString(1));
        m.put("indexed", rs.getLong(2));
        if (rs.getBoolean(6)) { // asked for: every resource, so the progress is indexed of total
          m.put("full", true);
          m.put("total", rs.getLong(7));
        }
        m.put("started", String.valueOf(instant(rs, 3)));
        m.put("updated", String.valueOf(instant(rs, 4)));
        Instant finished = instant(rs, 5);
        m.put("state", finished == null ? "running" : "finished");
        if (finished != null) {
          m.put("finished", finished.toString());
        }
        out.add(m);
      }
      return out;
    } catch (SQLException e) {
      throw SqlErrors.translate(e);
    }
  }

  private static Instant instant(ResultSet rs, int col) throws SQLException {
    OffsetDateTime t = rs.getObject(col, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }
}
