package io.appointmentserver.store;

import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The creates of a large transaction Bundle, queued on its thread and written together in JDBC
 * batches ({@link ResourceWrites#batched}).
 */
final class BatchedCreates {
  /** How many queued creates are written at once: bounds what a large Bundle holds in memory. */
  private static final int BATCH = 200;

  /** A create queued by {@link #batched}: the version, its index rows, its audit events. */
  private record Queued(StoredResource written, Object rows, List<AuditEvents.Event> events) {}

  private final ThreadLocal<List<Queued>> queue = new ThreadLocal<>();
  private final Sql db;
  private final ResourceStore.Indexer indexer;

  BatchedCreates(Sql db, ResourceStore.Indexer indexer) {
    this.db = db;
    this.indexer = indexer;
  }

  /** See {@link ResourceWrites#batched}. */
  <T> T batched(Supplier<T> work) {
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

  /** Whether {@code create} is queued: made within {@link #batched}, with an assigned id, no bookings, no references to check. */
  boolean takes(Write create) {
    Write.Content content = create.content();
    return queue.get() != null && create.target().id() != null && content.bookings() == null
        && content.references().isEmpty();
  }

  /** Queues {@code create} ({@link #takes}) as written at {@code now}. */
  WriteResult queue(Write create, Instant now) {
    String type = create.target().type();
    String id = create.target().id();
    Write.Content content = create.content();
    String json = content.renderer().render(id, 1, now);
    StoredResource written = new StoredResource(new Version(type, id, 1, now, false), json, content.tags(), "POST");
    List<Queued> queued = queue.get();
    queued.add(new Queued(written, indexer.rows(written, content.model()),
        create.audit().eventsFor(written, content.tags())));
    if (queued.size() >= BATCH) {
      flush();
    }
    return new WriteResult(written, true, List.of(), false);
  }

  /** Writes the creates queued by {@link #batched} so far. */
  void flush() {
    List<Queued> queued = queue.get();
    if (queued == null || queued.isEmpty()) {
      return;
    }
    List<Queued> items = new ArrayList<>(queued);
    queued.clear();
    db.run(c -> {
      try (PreparedStatement ps = c.prepareStatement(VersionSql.INSERT)) {
        for (Queued q : items) {
          VersionSql.bindInsert(ps, q.written());
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
}
