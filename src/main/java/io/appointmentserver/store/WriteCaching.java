package io.appointmentserver.store;

import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Keeps the {@link ReadCache} (when there is one) in step with the writes of this process: what
 * a write committed goes into the cache when its transaction ends, before the response is sent.
 */
final class WriteCaching {
  private final Sql db;
  private final ReadCache cache; // null: nothing to keep in step

  WriteCaching(Sql db, ReadCache cache) {
    this.db = db;
    this.cache = cache;
  }

  /**
   * Runs the write of {@code type/id} with the {@link ReadCache} told: the key is marked before it
   * starts, and when its transaction ends (the store's own, or the {@link TransactionScope} it is
   * part of) the committed version goes into the cache, before the response is sent.
   */
  <T> T cached(Write.Target target, Supplier<T> write, Function<T, StoredResource> written) {
    if (cache == null) {
      return write.get();
    }
    String type = target.type();
    String id = target.id();
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

  /** Runs a create; its version goes into the cache once committed. */
  WriteResult created(Supplier<WriteResult> create) {
    long generation = cache == null ? 0 : cache.generation();
    WriteResult result = create.get();
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
    return new StoredJson(r.at(), r.json() == null ? null : r.json().getBytes(java.nio.charset.StandardCharsets.UTF_8), r.tags());
  }
}
