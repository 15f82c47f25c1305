package io.appointmentserver.bench;

import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A closed-loop HTTP load generator for the server's benchmark (see {@code BENCHMARKS.md} and
 * {@code bench/run.sh}): {@code --clients} threads, each with its own keep-alive connection, send
 * one request after the other for {@code --warmup} + {@code --seconds} seconds; the requests that
 * start and end inside the measured window are counted and their latencies recorded (in
 * microseconds) in an HdrHistogram. It prints a line for people and a {@code RESULT} line of
 * {@code key=value} pairs for scripts.
 *
 * <p>Workloads, built from the seed exchange ({@code --seed}):
 * <ul>
 *   <li>{@code put}: each client creates {@code Appointment/bench-<client>} from the seed body, then
 *       updates it again and again with {@code If-Match: "<version>"}, taking the next version
 *       from the response's ETag; anything but 200 is an error.
 *   <li>{@code edit}: as {@code put}, but every request changes the appointment's {@code comment}
 *       (a counter appended), as a client editing it does: the content is new each time, so the
 *       server cannot answer validation from an outcome it remembers.
 *   <li>{@code room}: as {@code edit}, but the counter goes into the name of the contained
 *       Location (the appointment moves to another room): new content that is not a top-level
 *       free text, so the whole appointment is validated again.
 *   <li>{@code read}: each client creates {@code Appointment/bench-<client>} and then reads it as
 *       JSON; anything but 200 is an error. With {@code --path} it reads that path under
 *       {@code --url} instead and needs no set-up: the same client then measures a static file
 *       server.
 *   <li>{@code create}: POST of the seed body without its id; anything but 201 is an error.
 *   <li>{@code ccreate}: the same as a conditional create: each POST carries an identifier of its
 *       own and {@code If-None-Exist} naming it, so that every one searches (under its advisory
 *       lock) and creates; anything but 201 is an error.
 *   <li>{@code search}: GET {@code --path} with {@code {n}} replaced by a random number below
 *       {@code --range} each time (e.g. a patient of the search benchmark); anything but 200 is an error.
 * </ul>
 * {@code Patient/240}, which the seed appointment refers to, is written first.
 */
@Command(name = "load-generator", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Closed-loop HTTP load generator for the Appointment Server benchmark")
public final class LoadGenerator implements Callable<Integer> {

  enum Workload { put, edit, room, read, create, ccreate, search }

  enum ClientKind { raw, jdk }

  @Option(names = "--url", required = true,
      description = "FHIR base URL, e.g. http://127.0.0.1:8080/fhir (or a static server's root with --path)")
  URI url;

  @Option(names = "--workload", required = true, description = "put, edit, room, read, create, ccreate or search")
  Workload workload;

  @Option(names = "--clients", defaultValue = "8", description = "concurrent connections (default: ${DEFAULT-VALUE})")
  int clients;

  @Option(names = "--seconds", defaultValue = "30", description = "measured seconds (default: ${DEFAULT-VALUE})")
  int seconds;

  @Option(names = "--warmup", defaultValue = "5", description = "unmeasured seconds first (default: ${DEFAULT-VALUE})")
  int warmup;

  @Option(names = "--path", description = "read: GET this path under --url instead of Appointment/<id>; search: the query, with {n}")
  String path;

  @Option(names = "--range", defaultValue = "1",
      description = "search: each request replaces {n} in --path by a random number below this (default: ${DEFAULT-VALUE})")
  int range;

  @Option(names = "--seed", defaultValue = "../shared/seed",
      description = "folder with request-body.json and request-headers.txt (default: ${DEFAULT-VALUE})")
  Path seed;

  @Option(names = "--gzip", description = "send Accept-Encoding: gzip (as the seed client does)")
  boolean gzip;

  @Option(names = "--client", defaultValue = "raw",
      description = "raw: minimal blocking HTTP/1.1 over sockets; jdk: java.net.http.HttpClient (default: ${DEFAULT-VALUE})")
  ClientKind client;

  @Option(names = "--token", description = "bearer token sent with every request to the server"
      + " (e.g. from 'java -jar target/appointment-server.jar token')")
  String token;

  @Option(names = "--label", description = "name in the result lines (default: the workload)")
  String label;

  public static void main(String[] args) {
    System.exit(new CommandLine(new LoadGenerator()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
  }

  // ---------------------------------------------------------------- requests and transports

  /** One HTTP request; {@link HttpConnection} encodes it once per instance. */
  record Request(String method, String path, List<String[]> headers, byte[] body) {
    byte[] encode(String hostHeader) {
      StringBuilder sb = new StringBuilder(512);
      sb.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
      sb.append("Host: ").append(hostHeader).append("\r\n");
      for (String[] h : headers) {
        sb.append(h[0]).append(": ").append(h[1]).append("\r\n");
      }
      if (body != null) {
        sb.append("Content-Length: ").append(body.length).append("\r\n");
      }
      sb.append("\r\n");
      byte[] head = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
      if (body == null) {
        return head;
      }
      byte[] all = new byte[head.length + body.length];
      System.arraycopy(head, 0, all, 0, head.length);
      System.arraycopy(body, 0, all, head.length, body.length);
      return all;
    }
  }

  /** What the load generator looks at in a response: the status and the ETag. */
  record Response(int status, String etag) {}

  /** One client's connection to the server. */
  interface Transport extends Closeable {
    Response send(Request request) throws IOException;

    @Override
    void close();
  }

  /** The same requests through {@code java.net.http.HttpClient} (HTTP/1.1, keep-alive), for comparison. */
  static final class JdkTransport implements Transport {
    private final HttpClient http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    private final URI origin;

    JdkTransport(URI origin) {
      this.origin = origin;
    }

    @Override
    public Response send(Request r) throws IOException {
      HttpRequest.Builder b = HttpRequest.newBuilder(origin.resolve(r.path())).timeout(Duration.ofSeconds(30))
          .method(r.method(), r.body() == null ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofByteArray(r.body()));
      for (String[] h : r.headers()) {
        b.header(h[0], h[1]);
      }
      try {
        HttpResponse<Void> resp = http.send(b.build(), HttpResponse.BodyHandlers.discarding());
        return new Response(resp.statusCode(), resp.headers().firstValue("ETag").orElse(null));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }

    @Override
    public void close() {
      // the JDK's client has no close before Java 21; its connections go with the process
    }
  }

  private Transport connect() {
    return client == ClientKind.jdk ? new JdkTransport(url.resolve("/"))
        : new HttpConnection(url.getHost(), url.getPort() > 0 ? url.getPort() : 80);
  }

  // ---------------------------------------------------------------- workloads

  /** What one client sends over and over, and what an answer means for the next request. */
  private interface Session {
    Request next();

    /** True when {@code r} is the expected answer to the request {@link #next} gave last. */
    boolean accept(Response r) throws IOException;
  }

  /** Headers and body of the seed PUT, without Authorization and If-Match. */
  private record Seed(List<String[]> headers, ObjectNode body) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private Seed readSeed() throws IOException {
    List<String[]> headers = new ArrayList<>();
    List<String> lines = Files.readAllLines(seed.resolve("request-headers.txt"), StandardCharsets.UTF_8);
    for (String line : lines.subList(1, lines.size())) { // the first line is "PUT [base]/Appointment/309"
      int colon = line.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String name = line.substring(0, colon).trim();
      if (name.equalsIgnoreCase("Authorization") || name.equalsIgnoreCase("If-Match")
          || (name.equalsIgnoreCase("Accept-Encoding") && !gzip)) {
        continue;
      }
      headers.add(new String[] {name, line.substring(colon + 1).trim()});
    }
    if (token != null) {
      headers.add(new String[] {"Authorization", "Bearer " + token});
    }
    ObjectNode body = (ObjectNode) JSON.readTree(seed.resolve("request-body.json").toFile());
    return new Seed(List.copyOf(headers), body);
  }

  /** The JSON as the seed client sends it (HAPI's pretty printing is Jackson's). */
  private static byte[] pretty(ObjectNode json) throws IOException {
    return JSON.writer(new DefaultPrettyPrinter()).writeValueAsBytes(json);
  }

  private String fhirPath(String relative) {
    String base = url.getRawPath() == null ? "" : url.getRawPath();
    return (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/" + relative;
  }

  private static List<String[]> with(List<String[]> headers, String name, String value) {
    List<String[]> all = new ArrayList<>(headers);
    all.add(new String[] {name, value});
    return all;
  }

  private List<String[]> readHeaders() {
    List<String[]> h = new ArrayList<>();
    h.add(new String[] {"Accept", "application/fhir+json"});
    if (token != null) {
      h.add(new String[] {"Authorization", "Bearer " + token});
    }
    if (gzip) {
      h.add(new String[] {"Accept-Encoding", "gzip"});
    }
    return List.copyOf(h);
  }

  /** The version in an ETag such as {@code W/"3"}. */
  private static long version(Response r) throws IOException {
    String etag = r.etag();
    if (etag == null) {
      throw new IOException("no ETag in a " + r.status() + " response");
    }
    return Long.parseLong(etag.replace("W/", "").replace("\"", "").trim());
  }

  /** Writes {@code path} with a plain PUT (no If-Match) and returns the version written. */
  private static long put(Transport t, String path, List<String[]> headers, byte[] body) throws IOException {
    Response r = t.send(new Request("PUT", path, headers, body));
    if (r.status() != 200 && r.status() != 201) {
      throw new IOException("set-up PUT " + path + " answered " + r.status());
    }
    return version(r);
  }

  /**
   * The edits' counter, shared by the clients and starting from the clock: no content repeats
   * within a run or in the next one (the server remembers outcomes by content, without the id).
   */
  private static final AtomicLong EDITS = new AtomicLong(System.currentTimeMillis() * 1000);

  /**
   * The seed PUT with If-Match, on this client's own appointment: the same body every time, or
   * (edits) a body whose comment ends in a counter, made from the body's bytes around it.
   */
  private static final class UpdateSession implements Session {
    private final Transport t;
    private final String path;
    private final List<String[]> headers;
    private final byte[] body;
    /** Where the counter goes in {@code body}, or -1 for the same body every time. */
    private final int counterAt;
    private long version;

    UpdateSession(Transport t, String path, List<String[]> headers, byte[] body, int counterAt) throws IOException {
      this.t = t;
      this.path = path;
      this.headers = headers;
      this.body = body;
      this.counterAt = counterAt;
      this.version = put(t, path, headers, body(EDITS.incrementAndGet()));
    }

    private byte[] body(long n) {
      if (counterAt < 0) {
        return body;
      }
      byte[] counter = Long.toString(n).getBytes(StandardCharsets.ISO_8859_1);
      byte[] b = new byte[body.length + counter.length];
      System.arraycopy(body, 0, b, 0, counterAt);
      System.arraycopy(counter, 0, b, counterAt, counter.length);
      System.arraycopy(body, counterAt, b, counterAt + counter.length, body.length - counterAt);
      return b;
    }

    @Override
    public Request next() {
      return new Request("PUT", path, with(headers, "If-Match", "\"" + version + "\""), body(EDITS.incrementAndGet()));
    }

    @Override
    public boolean accept(Response r) throws IOException {
      if (r.status() == 200) {
        version = version(r);
        return true;
      }
      // learn the current version so that the next request can succeed again
      version = version(t.send(new Request("GET", path, headers, null)));
      return false;
    }
  }

  /** The same request every time, answered with {@code expected}. */
  private record FixedSession(Request request, int expected) implements Session {
    @Override
    public Request next() {
      return request;
    }

    @Override
    public boolean accept(Response r) {
      return r.status() == expected;
    }
  }

  /** POSTs with an identifier never used before and {@code If-None-Exist} naming it: all creates. */
  private static final class ConditionalCreateSession implements Session {
    private final String path;
    private final List<String[]> headers;
    private final ObjectNode body;
    private final String prefix;
    private long n;

    ConditionalCreateSession(String path, List<String[]> headers, ObjectNode body, int client) {
      this.path = path;
      this.headers = headers;
      this.body = body;
      this.prefix = "c" + client + "-" + System.nanoTime() + "-";
    }

    @Override
    public Request next() {
      String value = prefix + n++;
      ObjectNode b = body.deepCopy();
      b.putArray("identifier").addObject().put("system", "urn:bench").put("value", value);
      List<String[]> h = new ArrayList<>(headers);
      h.add(new String[] {"If-None-Exist", "identifier=urn:bench%7C" + value});
      try {
        return new Request("POST", path, h, pretty(b));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    @Override
    public boolean accept(Response r) {
      return r.status() == 201;
    }
  }

  private Session session(Transport t, int client, Seed s) throws IOException {
    if (workload == Workload.search) {
      String p = fhirPath(path.startsWith("/") ? path.substring(1) : path);
      java.util.SplittableRandom rnd = new java.util.SplittableRandom(client);
      List<String[]> headers = readHeaders();
      return new Session() {
        @Override
        public Request next() {
          return new Request("GET", p.replace("{n}", Integer.toString(rnd.nextInt(range))), headers, null);
        }

        @Override
        public boolean accept(Response r) {
          return r.status() == 200;
        }
      };
    }
    if (workload == Workload.read && path != null) {
      String p = path.startsWith("/") ? path.substring(1) : path;
      return new FixedSession(new Request("GET", fhirPath(p), readHeaders(), null), 200);
    }
    ObjectNode body = s.body().deepCopy();
    switch (workload) {
      case put, edit, room -> {
        String id = "bench-" + client;
        body.put("id", id);
        if (workload == Workload.put) {
          return new UpdateSession(t, fhirPath("Appointment/" + id), s.headers(), pretty(body), -1);
        }
        String marker = "\u0001edit\u0001"; // JSON escapes it: unique in the encoded body
        ObjectNode edited = workload == Workload.edit ? body : (ObjectNode) body.path("contained").path(0);
        String field = workload == Workload.edit ? "comment" : "name";
        edited.put(field, edited.path(field).asText() + " #" + marker);
        byte[] json = pretty(body);
        String encoded = new String(json, StandardCharsets.ISO_8859_1);
        String escaped = JSON.writeValueAsString(marker);
        int at = encoded.indexOf(escaped.substring(1, escaped.length() - 1));
        byte[] withoutMarker = (encoded.substring(0, at) + encoded.substring(at + escaped.length() - 2))
            .getBytes(StandardCharsets.ISO_8859_1);
        return new UpdateSession(t, fhirPath("Appointment/" + id), s.headers(), withoutMarker, at);
      }
      case read -> {
        String id = "bench-" + client;
        body.put("id", id);
        put(t, fhirPath("Appointment/" + id), s.headers(), pretty(body));
        return new FixedSession(new Request("GET", fhirPath("Appointment/" + id), readHeaders(), null), 200);
      }
      case create -> {
        body.remove("id");
        return new FixedSession(new Request("POST", fhirPath("Appointment"), s.headers(), pretty(body)), 201);
      }
      case ccreate -> {
        body.remove("id");
        return new ConditionalCreateSession(fhirPath("Appointment"), s.headers(), body, client);
      }
      default -> throw new IllegalArgumentException(workload.toString());
    }
  }

  // ---------------------------------------------------------------- the run

  /** One client thread: its connection, its session and what it measured. */
  private static final class Client implements Runnable {
    private final Transport transport;
    private final Session session;
    private final CountDownLatch start;
    private final Histogram latencyMicros = new Histogram(3_600_000_000L, 3);
    private final Map<String, Long> errors = new TreeMap<>();
    private volatile long measureFrom;
    private volatile long measureTo;
    private long ok;
    private long sent; // every request of the run, warm-up and errors included

    Client(Transport transport, Session session, CountDownLatch start) {
      this.transport = transport;
      this.session = session;
      this.start = start;
    }

    @Override
    public void run() {
      try {
        start.await();
      } catch (InterruptedException e) {
        return;
      }
      long from = measureFrom;
      long to = measureTo;
      for (long t0 = System.nanoTime(); t0 - to < 0; t0 = System.nanoTime()) {
        String error = null;
        long t1;
        try {
          Response r = transport.send(session.next());
          t1 = System.nanoTime();
          if (!session.accept(r)) {
            error = "HTTP " + r.status();
          }
        } catch (IOException | RuntimeException e) {
          t1 = System.nanoTime();
          error = e.getClass().getSimpleName();
          LockSupport.parkNanos(10_000_000); // do not spin on a refused connection
        }
        sent++;
        if (t0 - from >= 0 && t1 - to <= 0) {
          if (error == null) {
            ok++;
            latencyMicros.recordValue(Math.max(1, (t1 - t0) / 1_000));
          } else {
            errors.merge(error, 1L, Long::sum);
          }
        }
      }
      transport.close();
    }
  }

  @Override
  public Integer call() throws Exception {
    if (workload != Workload.read && workload != Workload.search && path != null) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--path is for --workload read or search only");
    }
    if (workload == Workload.search && path == null) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--workload search needs --path");
    }
    if (clients < 1 || seconds < 1 || warmup < 0) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--clients and --seconds must be at least 1, --warmup at least 0");
    }
    Seed s = path != null ? null : readSeed();
    if (s != null) {
      try (Transport t = connect()) {
        put(t, fhirPath("Patient/240"), s.headers(),
            "{\"resourceType\":\"Patient\",\"id\":\"240\",\"name\":[{\"family\":\"Hansen\"}]}"
                .getBytes(StandardCharsets.UTF_8));
      }
    }
    CountDownLatch start = new CountDownLatch(1);
    List<Client> running = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      Transport t = connect();
      Client c = new Client(t, session(t, i, s), start);
      running.add(c);
      Thread thread = new Thread(c, "client-" + i);
      thread.setDaemon(true);
      threads.add(thread);
    }
    threads.forEach(Thread::start);

    long t0 = System.nanoTime();
    long from = t0 + warmup * 1_000_000_000L;
    long to = from + seconds * 1_000_000_000L;
    for (Client c : running) {
      c.measureFrom = from;
      c.measureTo = to;
    }
    start.countDown();
    sleepUntil(from);
    long cpu0 = processCpuNanos();
    sleepUntil(to);
    long cpu1 = processCpuNanos();
    for (Thread thread : threads) {
      thread.join(60_000);
    }

    Histogram h = new Histogram(3_600_000_000L, 3);
    long ok = 0;
    long sent = 0;
    Map<String, Long> errors = new TreeMap<>();
    for (Client c : running) {
      h.add(c.latencyMicros);
      ok += c.ok;
      sent += c.sent;
      c.errors.forEach((k, v) -> errors.merge(k, v, Long::sum));
    }
    report(h, ok, sent, errors, cpu1 < 0 ? Double.NaN : 100.0 * (cpu1 - cpu0) / (to - from));
    return 0;
  }

  private void report(Histogram h, long ok, long sent, Map<String, Long> errors, double clientCpuPercent) {
    long errorCount = errors.values().stream().mapToLong(Long::longValue).sum();
    double rps = ok / (double) seconds;
    String name = label != null ? label : workload.name();
    System.out.printf(Locale.ROOT,
        "%s: %d clients, %d s: %.1f requests/s, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms,"
            + " max %.2f ms, %d errors%s, load generator CPU %.0f%% of a core%n",
        name, clients, seconds, rps, ms(h, 50), ms(h, 90), ms(h, 99), ms(h, 99.9), h.getMaxValue() / 1000.0,
        errorCount, errors.isEmpty() ? "" : " " + errors, clientCpuPercent);
    System.out.printf(Locale.ROOT,
        "RESULT label=%s workload=%s client=%s gzip=%s clients=%d seconds=%d ok=%d errors=%d rps=%.1f"
            + " p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f client_cpu_pct=%.1f all=%d%n",
        name, workload, client, gzip, clients, seconds, ok, errorCount, rps, ms(h, 50), ms(h, 90), ms(h, 99),
        ms(h, 99.9), h.getMaxValue() / 1000.0, clientCpuPercent, sent);
  }

  private static double ms(Histogram h, double percentile) {
    return h.getValueAtPercentile(percentile) / 1000.0;
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    for (long left = nanoTime - System.nanoTime(); left > 0; left = nanoTime - System.nanoTime()) {
      Thread.sleep(Math.max(1, left / 1_000_000));
    }
  }

  /** CPU time of this process (all its threads), or -1 when the JVM does not tell. */
  private static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }
}
