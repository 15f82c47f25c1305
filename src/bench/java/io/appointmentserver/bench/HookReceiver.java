package io.appointmentserver.bench;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A rest-hook receiver for the Subscriptions benchmark ({@code bench/run.sh}, {@code ONLY=subscriptions}):
 * answers every POST with 200 and records how long after the notified version's {@code meta.lastUpdated}
 * it arrived (the time the server gave the version, just before its transaction committed: so slightly
 * more than commit to receiver). {@code GET /stats} prints the count, p50, p99 and max in ms;
 * {@code GET /stats?reset} starts again.
 *
 * <pre>java -cp appointment-server-bench.jar:appointment-server.jar io.appointmentserver.bench.HookReceiver PORT</pre>
 */
public final class HookReceiver {
  private static final Pattern LAST_UPDATED = Pattern.compile("\"lastUpdated\"\\s*:\\s*\"([^\"]+)\"");

  private HookReceiver() {}

  public static void main(String[] args) throws IOException {
    Recorder recorder = new Recorder(3);
    Histogram[] total = {new Histogram(3)};
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])), 256);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.createContext("/hook", exchange -> {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      long now = System.currentTimeMillis();
      Matcher m = LAST_UPDATED.matcher(body);
      if (m.find()) {
        long at = OffsetDateTime.parse(m.group(1)).toInstant().toEpochMilli();
        recorder.recordValue(Math.max(0, now - at) * 1000); // microseconds
      }
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    server.createContext("/stats", exchange -> {
      Histogram h;
      synchronized (total) {
        total[0].add(recorder.getIntervalHistogram());
        h = total[0].copy();
        if ("reset".equals(exchange.getRequestURI().getQuery())) {
          total[0] = new Histogram(3);
        }
      }
      byte[] out = String.format("RECEIVED count=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f%n", h.getTotalCount(),
          h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0)
          .getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, out.length);
      try (OutputStream o = exchange.getResponseBody()) {
        o.write(out);
      }
    });
    server.start();
    System.out.println("receiver on port " + args[0]);
  }
}
