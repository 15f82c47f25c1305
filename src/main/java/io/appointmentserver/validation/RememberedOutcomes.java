package io.appointmentserver.validation;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.hl7.fhir.utilities.validation.ValidationMessage;

/**
 * Recent outcomes by the JSON validated, bounded by bytes (Caffeine drops the least likely
 * reused): validation resolves no references, so the same content against the same definitions
 * gives the same outcome. One per generation and kind of content.
 */
final class RememberedOutcomes {
  /**
   * Bytes (estimated: two per character, plus the messages) of the outcomes a generation
   * remembers, of whole contents and of free text, and the largest resource (JSON characters)
   * it remembers one for.
   */
  static final long RECENT_BYTES = 12L << 20;
  static final long RECENT_FREE_TEXT_BYTES = 4L << 20;
  static final int RECENT_MAX_LENGTH = 100_000;

  private final Cache<String, List<ValidationMessage>> cache;

  /** An outcome cache of at most {@code bytes} (estimated) of keys and messages. */
  RememberedOutcomes(long bytes) {
    cache = Caffeine.newBuilder()
        .maximumWeight(bytes)
        .weigher((String json, List<ValidationMessage> messages) -> {
          long w = 64 + 2L * json.length();
          for (ValidationMessage m : messages) {
            w += 256 + 2L * (length(m.getMessage()) + length(m.getLocation()) + length(m.getMessageId()));
          }
          return (int) Math.min(Integer.MAX_VALUE, w);
        })
        .executor(Runnable::run) // its upkeep on the calling thread, as the server's other caches
        .build();
  }

  /** The outcome remembered for {@code json}, or null. */
  List<ValidationMessage> get(String json) {
    return cache.getIfPresent(json);
  }

  /** Remembers the outcome for {@code json}, unless it is longer than {@link #RECENT_MAX_LENGTH}. */
  void put(String json, List<ValidationMessage> messages) {
    if (json.length() <= RECENT_MAX_LENGTH) {
      cache.put(json, messages);
    }
  }

  private static int length(String s) {
    return s == null ? 0 : s.length();
  }

  /** For /metrics: outcomes found among the remembered ones, and contents validated anew; of all generations. */
  static final class Counts {
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();

    /** As {@code cache_gets_total{cache="validation"}}. */
    void register(MeterRegistry registry) {
      FunctionCounter.builder("cache.gets", hits, LongAdder::sum)
          .tags("cache", "validation", "result", "hit")
          .register(registry);
      FunctionCounter.builder("cache.gets", misses, LongAdder::sum)
          .tags("cache", "validation", "result", "miss")
          .register(registry);
    }
  }
}
