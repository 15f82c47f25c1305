package io.appointmentserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.appointmentserver.support.ChildServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code serve} in a JVM of its own: a start-up that cannot succeed ends with a non-zero exit and
 * one line on stderr that names the cause, without a stack trace; a stop is logged.
 */
class StartupFailuresTest {
  private static final String PREFIX = "appointment-server: cannot start: ";

  private record Run(int exit, String stderr) {
    List<String> failureLines() {
      return stderr.lines().filter(l -> l.startsWith(PREFIX)).toList();
    }
  }

  private static ProcessBuilder serve(Map<String, String> env) {
    ProcessBuilder pb = ChildServer.serve(512);
    pb.environment().putAll(env);
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    return pb;
  }

  private static Run run(Map<String, String> env) throws Exception {
    Process p = serve(env).start();
    CompletableFuture<String> err = drain(p.getErrorStream());
    // a guard against a hang, not a measurement: a failing start takes seconds
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("serve did not exit: " + err.getNow(""));
    }
    return new Run(p.exitValue(), err.get());
  }

  private static CompletableFuture<String> drain(InputStream in) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return e.toString();
      }
    });
  }

  private static void assertOneClearLine(Run r, String... naming) {
    assertThat(r.exit()).as(r.stderr()).isNotZero();
    assertThat(r.failureLines()).as(r.stderr()).hasSize(1);
    assertThat(r.failureLines().get(0)).contains(naming);
    assertThat(r.stderr()).as("no stack trace").doesNotContain("\tat ");
  }

  private static String testDatabase() {
    return TestServer.postgres().getJdbcUrl("postgres", "postgres");
  }

  private static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void portInUse() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Run r = run(Map.of("FHIR_PORT", String.valueOf(port), "FHIR_DB_URL", testDatabase(),
          "FHIR_DATA_DIR", Files.createTempDirectory("fhir-port").toString()));
      assertOneClearLine(r, "FHIR_PORT " + port, "in use");
    }
  }

  @Test
  void databaseUnreachable() throws Exception {
    String url = "jdbc:postgresql://127.0.0.1:" + closedPort() + "/postgres";
    Run r = run(Map.of("FHIR_PORT", "0", "FHIR_DB_URL", url,
        "FHIR_DATA_DIR", Files.createTempDirectory("fhir-db").toString()));
    assertOneClearLine(r, "FHIR_DB_URL " + url, "cannot be reached");
  }

  @Test
  void brokenIgPackage() throws Exception {
    Path dir = Files.createTempDirectory("fhir-ig");
    Path tgz = dir.resolve("broken.tgz");
    Files.write(tgz, "this is not a gzip file".getBytes(StandardCharsets.UTF_8));
    Run r = run(Map.of("FHIR_PORT", "0", "FHIR_DB_URL", testDatabase(), "FHIR_DATA_DIR", dir.toString(),
        "FHIR_IG_PATH", tgz.toString()));
    assertOneClearLine(r, "FHIR_IG_PATH " + tgz);
  }

  @Test
  void badSetting() throws Exception {
    Run r = run(Map.of("FHIR_PORT", "0", "FHIR_LOG_LEVEL", "loud"));
    assertOneClearLine(r, "FHIR_LOG_LEVEL", "loud");
  }

  /** FHIR_ACCESS_LOG names a file: a line per request goes there, flushed by the time the server has stopped. */
  @Test
  void accessLogToAFile() throws Exception {
    Path dir = Files.createTempDirectory("fhir-access");
    Path log = dir.resolve("access.log");
    Process server = serve(Map.of("FHIR_PORT", "0", "FHIR_DB_URL", testDatabase(), "FHIR_DATA_DIR", dir.toString(),
        "FHIR_ACCESS_LOG", log.toString())).start();
    try {
      var lines = new java.io.BufferedReader(new java.io.InputStreamReader(server.getErrorStream(),
          StandardCharsets.UTF_8));
      String base = null;
      String line;
      while ((line = lines.readLine()) != null) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("FHIR DSTU3 server at (\\S+)").matcher(line);
        if (m.find()) {
          base = m.group(1);
          break;
        }
      }
      assertThat(base).as("the server started").isNotNull();
      CompletableFuture<String> rest = CompletableFuture.supplyAsync(() -> {
        StringBuilder b = new StringBuilder();
        lines.lines().forEach(l -> b.append(l).append('\n'));
        return b.toString();
      });
      assertThat(Http.get(base + "/Patient?identifier=0101011234", "Authorization", Http.NO_AUTH).statusCode())
          .isEqualTo(401);
      server.toHandle().destroy();
      assertThat(server.waitFor(180, TimeUnit.SECONDS)).isTrue();
      assertThat(rest.get()).doesNotContain("GET /fhir/Patient"); // not on stderr
      List<String> written = Files.readAllLines(log);
      assertThat(written).hasSize(1);
      assertThat(written.get(0)).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\S+ - "
          + "GET /fhir/Patient\\?identifier=\\*{10} 401 \\d+\\.\\d{3}ms \\d+B");
    } finally {
      server.destroyForcibly();
    }
  }

  /** The embedded PostgreSQL's data directory belongs to one running server; a stop is logged. */
  @Test
  void dataDirectoryOfARunningServer() throws Exception {
    Path dataDir = Files.createTempDirectory("fhir-data");
    Map<String, String> env = Map.of("FHIR_PORT", "0", "FHIR_DATA_DIR", dataDir.toString());
    Process first = serve(env).start();
    try {
      StringBuilder firstErr = new StringBuilder();
      var lines = new java.io.BufferedReader(new java.io.InputStreamReader(first.getErrorStream(),
          StandardCharsets.UTF_8));
      String line;
      while ((line = lines.readLine()) != null) {
        firstErr.append(line).append('\n');
        if (line.contains("FHIR DSTU3 server at")) {
          break;
        }
      }
      assertThat(firstErr).as("the first server started").contains("FHIR DSTU3 server at");

      Run second = run(env);
      assertOneClearLine(second, "FHIR_DATA_DIR " + dataDir.toAbsolutePath().normalize(), "in use",
          "pid " + first.pid());

      CompletableFuture<String> rest = CompletableFuture.supplyAsync(() -> {
        StringBuilder b = new StringBuilder();
        lines.lines().forEach(l -> b.append(l).append('\n'));
        return b.toString();
      });
      first.toHandle().destroy(); // SIGTERM (Process.destroy would close our end of stderr too)
      assertThat(first.waitFor(180, TimeUnit.SECONDS)).isTrue();
      assertThat(rest.get()).contains("shutting down").contains("stopped in");
    } finally {
      first.destroyForcibly();
    }
  }
}
