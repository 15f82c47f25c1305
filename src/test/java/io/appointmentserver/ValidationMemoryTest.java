package io.appointmentserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A long run of new-content profiled writes in a small heap: a server in a child JVM
 * ({@code serve}, {@value #HEAP_MB} MB of heap, the eHealth IG, the shared test database) takes
 * {@value #THIRDS} × {@value #PER_THIRD} PUTs of the seed appointment, each with its room (the
 * contained Location's name) and comment changed, from {@value #CLIENTS} clients: every one is
 * validated anew. None may fail, and the heap in use after a full GC must not grow from the end
 * of the first third to the end of the last (the validator's caches are bounded by bytes and fill
 * in the first third; its pooled InstanceValidators once kept every resource they validated, tens
 * of kilobytes each, until the heap ran out).
 */
class ValidationMemoryTest {
  static final int HEAP_MB = 320;
  static final int CLIENTS = 4;
  static final int THIRDS = 3;
  static final int PER_THIRD = 700;
  /** What may still be filling after the first third: the outcome caches (16 MB at most) and a renewed validator. */
  static final long GROWTH_ALLOWED_MB = 24;

  @Test
  void newContentWritesInASmallHeapKeepItsUseFlat() throws Exception {
    Path log = Files.createTempFile("validation-memory", ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx" + HEAP_MB + "m", "-XX:+UseG1GC",
        "-cp", System.getProperty("java.class.path"), "io.appointmentserver.Main", "serve")
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("FHIR_HOST", "127.0.0.1");
    pb.environment().put("FHIR_PORT", "0");
    pb.environment().put("FHIR_DATA_DIR", TestServer.dataDir().toString()); // its dev key signs the test's tokens
    pb.environment().put("FHIR_DB_URL", TestServer.postgres().getJdbcUrl("postgres", "postgres"));
    pb.environment().put("FHIR_DB_USER", "postgres");
    pb.environment().put("FHIR_DB_POOL_SIZE", "4");
    pb.environment().put("FHIR_CHECK_REFERENCES", "false");
    pb.environment().put("FHIR_IG_PATH", TestServer.sharedDir().resolve("ehealth-ig").resolve("resources").toString());
    Process server = pb.start();
    try {
      String base = awaitBase(server, log);
      ObjectNode seed = Json.parse(Files.readString(TestServer.sharedDir().resolve("seed").resolve("request-body.json")));
      List<Long> usedMb = new ArrayList<>();
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      try {
        for (int third = 0; third < THIRDS; third++) {
          List<Future<?>> done = new ArrayList<>();
          for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            int first = third * PER_THIRD;
            done.add(clients.submit(() -> {
              for (int i = first + client; i < first + PER_THIRD; i += CLIENTS) {
                ObjectNode body = seed.deepCopy();
                body.put("id", "memory-" + client);
                ((ObjectNode) body.get("meta")).remove(List.of("versionId", "lastUpdated"));
                ((ObjectNode) body.path("contained").path(0)).put("name", "Room " + i);
                body.put("comment", body.path("comment").asText() + " #" + i);
                HttpResponse<String> r = Http.put(base + "/Appointment/memory-" + client, body.toString(),
                    "Content-Type", "application/fhir+json");
                assertThat(r.statusCode()).as("write %d: %s", i, r.body()).isIn(200, 201);
              }
              return null;
            }));
          }
          for (Future<?> f : done) {
            f.get(10, TimeUnit.MINUTES);
          }
          usedMb.add(usedAfterFullGc(server.pid()));
        }
      } finally {
        clients.shutdownNow();
      }
      System.out.println("heap used after a full GC, by third (MB): " + usedMb);
      assertThat(usedMb.get(THIRDS - 1)).as("heap used after a full GC, by third: %s MB", usedMb)
          .isLessThanOrEqualTo(usedMb.get(0) + GROWTH_ALLOWED_MB)
          .isLessThan(HEAP_MB * 3L / 4);
      assertThat(Files.readString(log)).doesNotContain("OutOfMemoryError");
    } finally {
      server.destroy();
      if (!server.waitFor(60, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    }
  }

  private static final Pattern LISTENING = Pattern.compile("FHIR DSTU3 server at (http://\\S+/fhir)");

  /** The server's base URL, from its log line once it listens. */
  private static String awaitBase(Process server, Path log) throws IOException, InterruptedException {
    for (int i = 0; i < 1200; i++) {
      Matcher m = LISTENING.matcher(Files.readString(log));
      if (m.find()) {
        return m.group(1);
      }
      assertThat(server.isAlive()).as("the server exited: %s", Files.readString(log)).isTrue();
      Thread.sleep(100);
    }
    throw new AssertionError("the server did not start: " + Files.readString(log));
  }

  private static final Pattern USED = Pattern.compile("total \\d+K, used (\\d+)K");

  /** The heap in use (MB) after a full GC, as {@code jcmd} reports it. */
  static long usedAfterFullGc(long pid) throws IOException, InterruptedException {
    jcmd(pid, "GC.run");
    String info = jcmd(pid, "GC.heap_info");
    Matcher m = USED.matcher(info);
    assertThat(m.find()).as(info).isTrue();
    return Long.parseLong(m.group(1)) / 1024;
  }

  private static String jcmd(long pid, String command) throws IOException, InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }
}
