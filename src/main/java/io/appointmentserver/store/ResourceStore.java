package io.appointmentserver.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import javax.sql.DataSource;

/**
 * The database as the rest of the server holds it: one object that makes the store's parts, each
 * a class with one job, and hands them out: {@link #reads} (read, vread), {@link #history}
 * (history pages, what changed since a time), {@link #ids} (ids assigned before a create) and
 * {@link #writes} (create, update, delete: every write happens in {@link ResourceWrites}).
 */
public final class ResourceStore {
  private final ResourceReads reads;
  private final ResourceHistory history;
  private final ResourceIds ids;
  private final ResourceWrites writes;
  private final Expunges expunges;

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
    Sql db = new Sql(ds);
    this.reads = new ResourceReads(db, cache);
    this.history = new ResourceHistory(db);
    this.ids = new ResourceIds(db);
    this.writes = new ResourceWrites(db, clock, indexer, new BookingSql(overlapMode), cache);
    this.expunges = new Expunges(db, indexer, cache);
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

  /** create, update and delete; the batched creates of a Bundle; the audit events of reads. */
  public ResourceWrites writes() {
    return writes;
  }

  /** {@code $expunge}: versions removed for good. */
  public Expunges expunges() {
    return expunges;
  }

  /** Keeps the search index in step with every version written, inside the write's transaction. */
  @FunctionalInterface
  public interface Indexer {
    Indexer NONE = (c, written, model, indexedDigest) -> {};

    /** Indexes a version again that was indexed before (its rows are replaced), e.g. after its meta changed. */
    default void reindex(Connection c, StoredResource written, byte[] indexedDigest) throws SQLException {
      index(c, written, null, indexedDigest);
    }

    /**
     * {@code model} is the written version as the caller's model object when it has one (the
     * object its {@link Write.Renderer} serialized), so that the JSON need not be parsed again; else null.
     * {@code indexedDigest} is the resource's {@code search_indexed.rows_digest} as the update read
     * it with the resource's row locked (every writer of index rows locks it), null when unknown.
     */
    void index(Connection c, StoredResource written, Object model, byte[] indexedDigest) throws SQLException;

    /**
     * For a batch of first versions ({@link ResourceWrites#batched}): what {@link #writeAll} needs
     * of one, taken now, while {@code model} is at hand (by default the model itself).
     */
    default Object rows(StoredResource written, Object model) {
      return model;
    }

    /** Removes the index rows of the resources {@code types[i]/ids[i]} ({@code $expunge}), in the caller's transaction. */
    default void remove(Connection c, String[] types, String[] ids) throws SQLException {}

    /** Indexes first versions whose {@link #rows} were taken before (by default one at a time). */
    default void writeAll(Connection c, List<StoredResource> written, List<Object> rows) throws SQLException {
      for (int i = 0; i < written.size(); i++) {
        index(c, written.get(i), rows.get(i), null);
      }
    }
  }
}
