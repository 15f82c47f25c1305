package io.appointmentserver;

import io.appointmentserver.security.DevKeys;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code java -jar appointment-server.jar [serve]}: runs the server until stopped. */
@Command(name = "appointment-server", mixinStandardHelpOptions = true,
    subcommands = {Main.Serve.class, TokenCommand.class},
    description = "FHIR DSTU3 server for the eHealth Appointment service")
public final class Main implements Callable<Integer> {

  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new Main());
    System.exit(cli.execute(args));
  }

  /** Without a subcommand: serve. */
  @Override
  public Integer call() throws Exception {
    return new Serve().call();
  }

  @Command(name = "serve", mixinStandardHelpOptions = true,
      description = "Run the server (configuration by FHIR_* environment variables, see README)")
  static final class Serve implements Callable<Integer> {
    @Option(names = "--port", description = "overrides FHIR_PORT")
    Integer port;

    @Override
    public Integer call() throws Exception {
      Config config = null;
      AppointmentServer server;
      try {
        config = Config.fromEnvironment();
        if (port != null) {
          config = config.withPort(port);
        }
        Logging.apply(config);
        if (config.devMode()) {
          // for token run from elsewhere; before the server answers, so that whoever sees it answer finds it
          DevKeys.recordServed(config.dataDir());
        }
        server = AppointmentServer.start(config);
      } catch (Exception e) {
        // one line that names the setting, not a stack trace: the usual causes are the operator's to fix
        System.err.println("appointment-server: cannot start: " + StartupFailure.describe(e, config));
        if (config != null && java.util.Set.of("debug", "trace").contains(config.logLevel())) {
          e.printStackTrace();
        }
        if (config != null) {
          Logging.stop();
        }
        return 1;
      }
      server.warmUpValidation();
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        long t0 = System.nanoTime();
        org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Main.class);
        log.info("shutting down: no new requests; pending audit events are written");
        try {
          server.close();
          log.info("stopped in {} ms", (System.nanoTime() - t0) / 1_000_000);
        } catch (Exception e) {
          log.error("shutdown did not complete cleanly", e);
        } finally {
          Logging.stop(); // the access log's last lines
          stopped.countDown();
        }
      }, "shutdown"));
      stopped.await();
      return 0;
    }
  }
}
