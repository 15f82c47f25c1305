package io.appointmentserver.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server in a JVM of its own, started as {@code serve} is (the validator warmed up in the
 * background at once), on the shared test database, accepting the shared server's tokens: for
 * tests that need a fresh JVM (nothing prepared by other tests) or a heap of their own.
 */
public final class ChildServer implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("FHIR DSTU3 server at (http://\\S+/fhir)");
  private static final Pattern USED = Pattern.compile("total \\d+K, used (\\d+)K");

  private static final Path STATE = temporaryState();

  private static Path temporaryState() {
    try {
      return Files.createTempDirectory("child-server-state");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  public final Process process;
  public final Path log;
  public final String base;

  /**
   * The server's command line ({@code Main}) with {@code args} in a new JVM with {@code jvmOptions}
   * on the tests' class path, the FHIR_* variables of the test run's environment left out.
   */
  public static ProcessBuilder main(List<String> jvmOptions, String... args) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.appointmentserver.Main"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().keySet().removeIf(k -> k.startsWith("FHIR_"));
    return pb;
  }

  /**
   * {@code serve} in a new JVM with {@code heapMb} of heap, configured by nothing but
   * {@code FHIR_HOST=127.0.0.1}.
   */
  public static ProcessBuilder serve(int heapMb, String... jvmOptions) {
    List<String> options = new ArrayList<>(List.of("-Xmx" + heapMb + "m"));
    options.addAll(List.of(jvmOptions));
    ProcessBuilder pb = main(options, "serve");
    pb.environment().put("FHIR_HOST", "127.0.0.1");
    // a dev-mode serve records its data directory for token (DevKeys.recordServed): not in the user's home
    pb.environment().put("XDG_STATE_HOME", STATE.toString());
    return pb;
  }

  /** Starts it with {@code heapMb} of heap, the built-in eHealth IG, and {@code env} over the defaults. */
  public static ChildServer start(int heapMb, Map<String, String> env, String... jvmOptions)
      throws IOException, InterruptedException {
    Path log = Files.createTempFile("child-server", ".log");
    ProcessBuilder pb = serve(heapMb, jvmOptions).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> e = pb.environment();
    e.put("FHIR_PORT", "0");
    e.put("FHIR_DATA_DIR", TestServer.dataDir().toString()); // its dev key signs the tests' tokens
    e.put("FHIR_DB_URL", TestServer.postgres().getJdbcUrl("postgres", "postgres"));
    e.put("FHIR_DB_USER", "postgres");
    e.put("FHIR_DB_POOL_SIZE", "4");
    e.putAll(env);
    Process p = pb.start();
    for (int i = 0; i < 1200; i++) {
      Matcher m = LISTENING.matcher(Files.readString(log));
      if (m.find()) {
        return new ChildServer(p, log, m.group(1));
      }
      if (!p.isAlive()) {
        throw new AssertionError("the server exited: " + Files.readString(log));
      }
      Thread.sleep(50);
    }
    p.destroyForcibly();
    throw new AssertionError("the server did not start: " + Files.readString(log));
  }

  private ChildServer(Process process, Path log, String base) {
    this.process = process;
    this.log = log;
    this.base = base;
  }

  public String log() throws IOException {
    return Files.readString(log);
  }

  /** {@code jcmd <pid> <command>}'s output. */
  public String jcmd(String command) throws IOException, InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process p = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }

  /** The heap in use (MB) after a full GC, as {@code jcmd} reports it. */
  public long usedAfterFullGc() throws IOException, InterruptedException {
    jcmd("GC.run");
    String info = jcmd("GC.heap_info");
    Matcher m = USED.matcher(info);
    assertThat(m.find()).as(info).isTrue();
    return Long.parseLong(m.group(1)) / 1024;
  }

  /** Stops it as a signal stops {@code serve} (its shutdown hook closes the server); whether it exited in time. */
  public boolean stop(long seconds) throws InterruptedException {
    process.destroy();
    if (process.waitFor(seconds, TimeUnit.SECONDS)) {
      return true;
    }
    process.destroyForcibly();
    return false;
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      stop(60);
    }
  }
}
