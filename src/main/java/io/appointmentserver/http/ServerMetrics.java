package io.appointmentserver.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The server's meters, scraped at {@code /metrics} in the Prometheus text format: requests
 * ({@code fhir_requests_seconds}, by interaction, resource type and status, with histogram
 * buckets), the JVM's, and what the other layers bind (database pool, caches, reindexing). One
 * registry per server, so that servers in one JVM (the tests') keep their own counts.
 */
public final class ServerMetrics implements AutoCloseable {
  /** Latency buckets: a fixed few, so a series costs a dozen counters, not Micrometer's 70+. */
  private static final Duration[] BUCKETS = {
      Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
      Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
      Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
      Duration.ofSeconds(10)};

  private record Key(String interaction, String type, int status) {}

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  /** Bounded by the label values: interactions × known types × statuses. */
  private final ConcurrentHashMap<Key, Timer> timers = new ConcurrentHashMap<>();
  private final JvmGcMetrics gc = new JvmGcMetrics();

  public ServerMetrics() {
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  void record(Interaction interaction, int status, long nanos) {
    Key key = new Key(interaction.name(), interaction.type(), status);
    Timer timer = timers.get(key);
    if (timer == null) {
      timer = timers.computeIfAbsent(key, k -> Timer.builder("fhir.requests")
          .description("HTTP requests by FHIR interaction, resource type and status")
          .tag("interaction", k.interaction())
          .tag("type", k.type())
          .tag("status", Integer.toString(k.status()))
          .serviceLevelObjectives(BUCKETS)
          .register(registry));
    }
    timer.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** The Prometheus text exposition of every meter. */
  String scrape() {
    return registry.scrape();
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
