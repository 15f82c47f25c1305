package io.appointmentserver.validation;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What profile validation costs the seed update: the seed PUT with If-Match, as recorded (it
 * claims ehealth-appointment, validated against the loaded eHealth IG) against the same body
 * without {@code meta.profile} (not profile-validated), on the same server, in alternating rounds
 * so that a machine shared with other work slows both alike. A third workload sends the seed with
 * a different {@code comment} on every request, so that no outcome is remembered and every
 * request is validated in full. Not a test: run it by hand.
 *
 * <pre>
 * mvn -B -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) io.appointmentserver.validation.ValidationBench
 * </pre>
 *
 * System properties: {@code clients} (4), {@code seconds} per round (10), {@code rounds} of each
 * (5), {@code warmup} seconds of each before measuring (20). Prints requests per second and the
 * process's CPU time per request (client threads included, the same in all) for each round, then
 * the median over the rounds of each workload's ratio to the unprofiled one of the same round.
 */
public final class ValidationBench {
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  private ValidationBench() {}

  public static void main(String[] args) throws Exception {
    int clients = Integer.getInteger("clients", 4);
    int seconds = Integer.getInteger("seconds", 10);
    int rounds = Integer.getInteger("rounds", 5);
    int warmup = Integer.getInteger("warmup", 20);

    String base = TestServer.base(); // the shared test server: embedded PostgreSQL, eHealth IG loaded
    String token = TestServer.systemToken();
    Http.put(base + "/Patient/240", "{\"resourceType\":\"Patient\",\"id\":\"240\",\"name\":[{\"family\":\"Hansen\"}]}");
    ObjectNode seed = Json.parse(Files.readString(TestServer.sharedDir().resolve("seed/request-body.json")));
    ObjectNode unprofiled = seed.deepCopy();
    ((ObjectNode) unprofiled.get("meta")).remove("profile");

    System.out.printf("seed PUT with If-Match, %d clients, %d s rounds, %d s warm-up each%n", clients, seconds, warmup);
    Workload validated = new Workload("validated (seed as recorded)", seed, false);
    Workload unvalidated = new Workload("unprofiled (not validated)", unprofiled, false);
    Workload varied = new Workload("validated, comment varies", seed, true);
    List<Workload> all = List.of(validated, unvalidated, varied);
    for (Workload w : all) {
      run(base, token, w, clients, warmup, "warm-up " + w.label);
    }
    Map<Workload, List<double[]>> results = new LinkedHashMap<>();
    for (int i = 0; i < rounds; i++) {
      for (Workload w : all) {
        results.computeIfAbsent(w, k -> new ArrayList<>()).add(run(base, token, w, clients, seconds, w.label));
      }
    }
    // each round's workloads ran one after the other: compare within a round, then take the median
    System.out.println();
    List<double[]> base0 = results.get(unvalidated);
    for (Workload w : all) {
      List<double[]> rs = results.get(w);
      double[] rateRatio = new double[rounds];
      double[] cpuRatio = new double[rounds];
      for (int i = 0; i < rounds; i++) {
        rateRatio[i] = rs.get(i)[0] / base0.get(i)[0];
        cpuRatio[i] = rs.get(i)[1] / base0.get(i)[1];
      }
      System.out.printf("%-32s median %6.0f req/s %6.0f us CPU/req: %5.1f %% less throughput, %5.1f %% more CPU"
          + " per request than unprofiled (median of the rounds' ratios)%n", w.label, median(rs, 0), median(rs, 1),
          100 * (1 - median(rateRatio)), 100 * (median(cpuRatio) - 1));
    }
    System.exit(0);
  }

  /** A body to PUT, the same every time or with a comment that changes on every request. */
  private record Workload(String label, ObjectNode body, boolean vary) {
    String json(String id, long n) {
      ObjectNode b = body.deepCopy().put("id", id);
      if (vary) {
        b.put("comment", body.path("comment").asText() + " #" + n);
      }
      return b.toString();
    }
  }

  private static double median(List<double[]> rounds, int i) {
    return median(rounds.stream().mapToDouble(r -> r[i]).toArray());
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  /** {@code clients} threads, each updating its own appointment for {@code seconds}: [req/s, us CPU/req]. */
  private static double[] run(String base, String token, Workload body, int clients, int seconds, String label)
      throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      String id = "bench-" + c;
      threads.add(new Thread(() -> {
        long version = Long.parseLong(Json.parse(Http.put(base + "/Appointment/" + id, body.json(id, 0)).body())
            .at("/meta/versionId").asText());
        long n = 0;
        while (!stop.get()) {
          HttpResponse<Void> r = put(base + "/Appointment/" + id, body.json(id, ++n), token, version);
          if (r.statusCode() == 200) {
            version++;
            done.incrementAndGet();
          } else {
            failed.incrementAndGet();
            version = Long.parseLong(Json.parse(Http.get(base + "/Appointment/" + id).body())
                .at("/meta/versionId").asText());
          }
        }
      }, "bench-" + c));
    }
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    threads.forEach(Thread::start);
    Thread.sleep(seconds * 1000L);
    stop.set(true);
    for (Thread t : threads) {
      t.join();
    }
    double elapsed = (System.nanoTime() - t0) / 1e9;
    long n = done.get();
    double rate = n / elapsed;
    double cpuPerRequest = (os.getProcessCpuTime() - cpu0) / 1e3 / Math.max(1, n);
    System.out.printf("%-32s %7d requests %6.0f req/s %6.0f us CPU/req%s%n", label, n, rate, cpuPerRequest,
        failed.get() == 0 ? "" : "  (" + failed.get() + " failed)");
    return new double[] {rate, cpuPerRequest};
  }

  private static HttpResponse<Void> put(String url, String json, String token, long version) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
        .PUT(HttpRequest.BodyPublishers.ofString(json))
        .header("Authorization", "Bearer " + token)
        .header("If-Match", "\"" + version + "\"")
        .header("Accept", "application/fhir+json;q=1.0, application/json+fhir;q=0.9")
        .header("Accept-Encoding", "gzip")
        .header("Content-Type", "application/fhir+json; charset=UTF-8")
        .build();
    try {
      return CLIENT.send(request, HttpResponse.BodyHandlers.discarding());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
