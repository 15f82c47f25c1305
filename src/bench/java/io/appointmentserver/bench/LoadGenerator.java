package io.appointmentserver.bench;

import io.appointmentserver.bench.Transport.JdkTransport;
import io.appointmentserver.bench.Transport.Response;
import io.appointmentserver.bench.Workloads.Session;
import io.appointmentserver.bench.Workloads.Workload;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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
 * {@code key=value} pairs for scripts ({@link Report}).
 *
 * <p>The workloads ({@code put}, {@code edit}, {@code room}, {@code read}, {@code create},
 * {@code ccreate}, {@code search}) are built from the seed exchange ({@code --seed}); {@link
 * Workloads} says what each one sends. This class is the command line and the measured run.
 */
@Command(name = "load-generator", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Closed-loop HTTP load generator for the Appointment Server benchmark")
public final class LoadGenerator implements Callable<Integer> {

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

  private Transport connect() {
    return client == ClientKind.jdk ? new JdkTransport(url.resolve("/"))
        : new HttpConnection(url.getHost(), url.getPort() > 0 ? url.getPort() : 80);
  }

  // ---------------------------------------------------------------- the run

  /** One client thread: its connection, its session and what it measured. */
  private static final class Client implements Runnable {
    private final Transport transport;
    private final Session session;
    private final CountDownLatch start;
    private final Histogram latencyMicros = Report.latencyHistogram();
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
    Workloads workloads = new Workloads(workload, url, path, range, seed, gzip, token);
    Workloads.Seed s = path != null ? null : workloads.readSeed();
    if (s != null) {
      try (Transport t = connect()) {
        workloads.writePatient(t, s);
      }
    }
    CountDownLatch start = new CountDownLatch(1);
    List<Client> running = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      Transport t = connect();
      Client c = new Client(t, workloads.session(t, i, s), start);
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

    Report report = new Report(label != null ? label : workload.name(), workload, client, gzip, clients, seconds);
    for (Client c : running) {
      report.add(c.latencyMicros, c.ok, c.sent, c.errors);
    }
    report.print(cpu1 < 0 ? Double.NaN : 100.0 * (cpu1 - cpu0) / (to - from));
    return 0;
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
