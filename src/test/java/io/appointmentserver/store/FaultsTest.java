package io.appointmentserver.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.appointmentserver.AppointmentServer;
import io.appointmentserver.Config;
import io.appointmentserver.Main;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The database goes away, the server is killed: no hanging, no loss, recovery on its own. */
class FaultsTest {

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String patient(String id, String family) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"" + family + "\"}]}";
  }

  @Test
  void whileTheDatabaseIsDownRequestsGet503QuicklyAndTheServerRecoversOnItsOwn() throws Exception {
    Path dir = Files.createTempDirectory("fhir-outage");
    int pgPort = freePort();
    EmbeddedPostgres pg = Database.startEmbedded(dir, pgPort);
    Config config = TestServer.config().withDatabase(pg.getJdbcUrl("postgres", "postgres"), "postgres", "");
    try (AppointmentServer server = AppointmentServer.start(config)) {
      String base = server.baseUrl();
      String health = base.replace("/fhir", "/health");
      assertThat(Http.put(base + "/Patient/outage", patient("outage", "Before")).statusCode()).isEqualTo(201);

      pg.close();

      for (String[] request : List.of(
          new String[] {"GET", base + "/Patient/outage"},
          new String[] {"GET", base + "/Patient/outage?_format=xml"},
          new String[] {"PUT", base + "/Patient/outage"},
          new String[] {"GET", base + "/Patient/outage/_history"})) {
        long t0 = System.nanoTime();
        HttpResponse<String> r = request[0].equals("PUT")
            ? Http.put(request[1], patient("outage", "During"))
            : Http.get(request[1], "Accept", "application/fhir+json");
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(r.statusCode()).as(request[0] + " " + request[1] + " " + r.body()).isEqualTo(503);
        assertThat(Json.resource(r.body(), r.headers().firstValue("Content-Type").orElse("")).get("resourceType").asText())
            .isEqualTo("OperationOutcome");
        assertThat(took).as("answered in %s", took).isLessThan(Duration.ofSeconds(5));
      }
      assertThat(Http.get(health).statusCode()).isEqualTo(503);

      EmbeddedPostgres again = Database.startEmbedded(dir, pgPort);
      try {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (Http.get(health).statusCode() != 200 && System.nanoTime() < deadline) {
          Thread.sleep(200);
        }
        assertThat(Http.get(health).statusCode()).isEqualTo(200);
        HttpResponse<String> read = Http.get(base + "/Patient/outage");
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.body()).contains("Before");
        assertThat(Http.put(base + "/Patient/outage", patient("outage", "After"), "If-Match", "\"1\"").statusCode())
            .isEqualTo(200);
      } finally {
        again.close();
      }
    }
  }

  @Test
  void anAcknowledgedWriteSurvivesKillMinus9OfServerAndDatabase() throws Exception {
    Path dataDir = Files.createTempDirectory("fhir-kill");
    int port = freePort();
    String base = "http://127.0.0.1:" + port + "/fhir";

    String auth = "Bearer " + Tokens.system(dataDir); // the processes' own dev key
    Process first = startServerProcess(dataDir, port, "first");
    try {
      awaitHealthy(base, first);
      for (int i = 0; i < 20; i++) {
        HttpResponse<String> r = Http.put(base + "/Patient/k" + i, patient("k" + i, "Acknowledged" + i),
            "Authorization", auth);
        assertThat(r.statusCode()).isEqualTo(201);
      }
      assertThat(Http.put(base + "/Patient/k0", patient("k0", "Second"), "If-Match", "\"1\"", "Authorization", auth)
          .statusCode()).isEqualTo(200);
    } finally {
      // the moment after the acknowledgement: no shutdown hook, no clean stop of PostgreSQL
      long postmaster = postmasterPid(dataDir);
      first.destroyForcibly().waitFor();
      ProcessHandle.of(postmaster).ifPresent(ProcessHandle::destroyForcibly);
      while (ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false)) {
        Thread.sleep(50);
      }
    }

    Process second = startServerProcess(dataDir, port, "second");
    try {
      awaitHealthy(base, second);
      for (int i = 1; i < 20; i++) {
        HttpResponse<String> r = Http.get(base + "/Patient/k" + i, "Authorization", auth);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("Acknowledged" + i);
      }
      HttpResponse<String> k0 = Http.get(base + "/Patient/k0", "Authorization", auth);
      assertThat(k0.headers().firstValue("ETag")).hasValue("W/\"2\"");
      assertThat(k0.body()).contains("Second");
    } finally {
      second.destroy();
      second.waitFor();
    }
  }

  private static long postmasterPid(Path dataDir) throws IOException {
    return Long.parseLong(Files.readAllLines(dataDir.resolve("pg").resolve("postmaster.pid")).get(0).trim());
  }

  /** The real server (Main) in its own JVM, on its embedded PostgreSQL in {@code dataDir}. */
  private static Process startServerProcess(Path dataDir, int port, String name) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "serve");
    pb.environment().put("FHIR_DATA_DIR", dataDir.toString());
    pb.environment().put("FHIR_PORT", Integer.toString(port));
    pb.environment().put("FHIR_HOST", "127.0.0.1");
    File log = Path.of("target", "faults-" + name + ".log").toFile();
    pb.redirectErrorStream(true).redirectOutput(log);
    return pb.start();
  }

  private static void awaitHealthy(String base, Process p) throws InterruptedException {
    String health = base.replace("/fhir", "/health");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      assertThat(p.isAlive()).as("server process exited; see target/faults-*.log").isTrue();
      try {
        if (Http.get(health).statusCode() == 200) {
          return;
        }
      } catch (IllegalStateException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("server did not become healthy");
  }
}
