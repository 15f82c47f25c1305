package io.appointmentserver.bench;

import io.appointmentserver.bench.LoadGenerator.ClientKind;
import io.appointmentserver.bench.Workloads.Workload;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * What the {@link LoadGenerator}'s clients measured, added up, and the two lines it prints: one
 * for people and a {@code RESULT} line of {@code key=value} pairs, which {@code bench/run.sh} and
 * the other scripts parse.
 */
final class Report {
  /** A histogram of latencies in microseconds, up to an hour, to 3 significant digits. */
  static Histogram latencyHistogram() {
    return new Histogram(3_600_000_000L, 3);
  }

  private final String name;
  private final Workload workload;
  private final ClientKind client;
  private final boolean gzip;
  private final int clients;
  private final int seconds;
  private final Histogram h = latencyHistogram();
  private final Map<String, Long> errors = new TreeMap<>();
  private long ok;
  private long sent;

  /** The report of run {@code name}: {@code clients} clients of {@code workload}, measured for {@code seconds}. */
  Report(String name, Workload workload, ClientKind client, boolean gzip, int clients, int seconds) {
    this.name = name;
    this.workload = workload;
    this.client = client;
    this.gzip = gzip;
    this.clients = clients;
    this.seconds = seconds;
  }

  /** Adds one client's measurements: its latencies, answers as expected, all requests and errors. */
  void add(Histogram latencyMicros, long ok, long sent, Map<String, Long> errors) {
    h.add(latencyMicros);
    this.ok += ok;
    this.sent += sent;
    errors.forEach((k, v) -> this.errors.merge(k, v, Long::sum));
  }

  /** Prints the two lines, with the CPU the load generator used while it measured. */
  void print(double clientCpuPercent) {
    long errorCount = errors.values().stream().mapToLong(Long::longValue).sum();
    double rps = ok / (double) seconds;
    System.out.printf(Locale.ROOT,
        "%s: %d clients, %d s: %.1f requests/s, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms,"
            + " max %.2f ms, %d errors%s, load generator CPU %.0f%% of a core%n",
        name, clients, seconds, rps, ms(50), ms(90), ms(99), ms(99.9), h.getMaxValue() / 1000.0,
        errorCount, errors.isEmpty() ? "" : " " + errors, clientCpuPercent);
    System.out.printf(Locale.ROOT,
        "RESULT label=%s workload=%s client=%s gzip=%s clients=%d seconds=%d ok=%d errors=%d rps=%.1f"
            + " p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f client_cpu_pct=%.1f all=%d%n",
        name, workload, client, gzip, clients, seconds, ok, errorCount, rps, ms(50), ms(90), ms(99),
        ms(99.9), h.getMaxValue() / 1000.0, clientCpuPercent, sent);
  }

  private double ms(double percentile) {
    return h.getValueAtPercentile(percentile) / 1000.0;
  }
}
