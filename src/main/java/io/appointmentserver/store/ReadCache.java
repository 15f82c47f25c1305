package io.appointmentserver.store;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The current version of recently read and written resources, kept in memory so that a read by
 * id needs no database round trip. It answers only while this process holds the database's
 * exclusive read-cache lease ({@link ReadCacheLease}): then no other server process is connected
 * to the database, every write goes through this process's {@link ResourceStore}, and the store
 * keeps the entries in step with them:
 * <ul>
 * <li>a write of {@code type/id} marks the key before its transaction starts, which drops the
 * entry; while marked, reads of the key go to the database and nothing fills it; when the
 * transaction ends the committed version goes in (nothing after a rollback) and the mark goes.
 * So a read never gets from here a version older than one committed before the read began, not
 * even between a write's commit and its response;</li>
 * <li>a read that missed takes a {@link #ticket} before its query and may {@link #fill} the entry
 * with what it read only if no write of this process began or ended and the lease did not change
 * since (the {@code epoch}), the key is not marked, and no entry is there: a reader that loaded
 * a version racing a writer never leaves it in place of the writer's (even one evicted
 * meanwhile). A fill that would replace an entry keeps the newer version;</li>
 * <li>a hit checks the lease after taking the entry: the lease is dropped ({@link #deactivate})
 * before it is released to another process, so an entry returned while it is still held was
 * current when taken. A dropped lease empties the cache; {@link #activate} (exclusive again)
 * starts from an empty one.</li>
 * </ul>
 * Bounded by the bytes of the JSON kept; entries go least recently used first (Caffeine).
 */
public final class ReadCache {
  /** How long a confirmation of the lease (a round trip on its connection) lets the cache answer. */
  static final long LEASE_VALIDITY_NANOS = 2_000_000_000L;

  private final Cache<String, StoredJson> entries;
  /** Keys with writes in flight, and how many. */
  private final ConcurrentHashMap<String, Integer> writing = new ConcurrentHashMap<>();
  /** Moves on every write's start and end and on every change of the lease (see {@link #fill}). */
  private final AtomicLong epoch = new AtomicLong();
  private volatile boolean active;
  private volatile long validUntil;
  /** Moves whenever the lease is taken or dropped: a write begun under another one keeps nothing here. */
  private volatile long generation;

  public ReadCache(long maxBytes) {
    entries = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((String k, StoredJson v) -> 2 * k.length() + (v.json() == null ? 0 : v.json().length) + 200)
        // upkeep (eviction, the write buffer) on the writing thread: handed to the common pool it
        // woke a thread of its own for every few writes (a futex and a context switch each)
        .executor(Runnable::run)
        .recordStats()
        .build();
  }

  /** Hits, misses, evictions and the bytes held, as {@code cache_*{cache="read"}} and {@code fhir_read_cache_bytes}. */
  public void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
    io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics.monitor(registry, entries, "read");
    io.micrometer.core.instrument.Gauge.builder("fhir.read.cache.bytes", entries,
            c -> c.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L))
        .description("bytes of stored JSON the read cache holds").register(registry);
  }

  static String key(String type, String id) {
    return type + '/' + id;
  }

  /** The current version of {@code type/id} (a tombstone if deleted), or null: ask the database. */
  StoredJson get(String type, String id) {
    if (!active) {
      return null;
    }
    StoredJson s = entries.getIfPresent(key(type, id));
    // the lease is checked after the lookup: still held now, so the entry was current then
    return s != null && active && System.nanoTime() - validUntil < 0 ? s : null;
  }

  /** Taken before a read's query, for {@link #fill}. */
  long ticket() {
    return epoch.get();
  }

  /** What a read found in the database, kept if nothing could have made it stale since {@code ticket}. */
  void fill(StoredJson s, long ticket) {
    if (!active) {
      return;
    }
    String key = key(s.type(), s.id());
    writing.compute(key, (k, n) -> {
      if (n == null && active && epoch.get() == ticket) {
        entries.asMap().merge(k, s, ReadCache::newer);
      }
      return n;
    });
  }

  /**
   * A write of {@code type/id} begins: the entry goes, and stays out until {@link #endWrite},
   * which gets the returned generation.
   */
  long beginWrite(String type, String id) {
    long g = generation;
    writing.compute(key(type, id), (k, n) -> {
      epoch.incrementAndGet();
      entries.invalidate(k);
      return n == null ? 1 : n + 1;
    });
    return g;
  }

  /**
   * The write's transaction ended: {@code committed} is the version it wrote, null if it rolled
   * back; kept if the lease was held all along (a version written while another process could
   * write too may be older than the current one).
   */
  void endWrite(String type, String id, StoredJson committed, long generation) {
    writing.compute(key(type, id), (k, n) -> {
      epoch.incrementAndGet();
      if (n == null || n == 1) {
        if (committed != null && active && generation == this.generation) {
          entries.asMap().merge(k, committed, ReadCache::newer);
        }
        return null;
      }
      entries.invalidate(k); // another write of the key is still in flight
      return n - 1;
    });
  }

  /** The generation a create takes before its transaction, for {@link #created}. */
  long generation() {
    return generation;
  }

  /** A created resource (a new id, which no read could have kept): kept once committed. */
  void created(StoredJson s, long generation) {
    endWrite(s.type(), s.id(), s, beginWrite(s.type(), s.id()) == generation ? generation : -1);
  }

  private static StoredJson newer(StoredJson a, StoredJson b) {
    return b.version() > a.version() ? b : a;
  }

  /** The lease is held exclusively (again): answer from an empty cache. */
  void activate(long confirmedAt) {
    generation++;
    entries.invalidateAll();
    epoch.incrementAndGet();
    validUntil = confirmedAt + LEASE_VALIDITY_NANOS;
    active = true;
  }

  /** The lease was confirmed by a round trip sent at {@code sentAt} ({@link System#nanoTime}). */
  void confirm(long sentAt) {
    validUntil = sentAt + LEASE_VALIDITY_NANOS;
  }

  /** The lease is about to go, or is gone: answer nothing more, before anything else. */
  void deactivate() {
    active = false;
    generation++;
    epoch.incrementAndGet();
    entries.invalidateAll();
  }

  /** Whether reads are answered from memory now. */
  public boolean active() {
    return active && System.nanoTime() - validUntil < 0;
  }
}
