package io.appointmentserver;

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
      Config config = Config.fromEnvironment();
      if (port != null) {
        config = config.withPort(port);
      }
      AppointmentServer server = AppointmentServer.start(config);
      server.warmUpValidation();
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          server.close();
        } catch (Exception e) {
          e.printStackTrace();
        } finally {
          stopped.countDown();
        }
      }, "shutdown"));
      stopped.await();
      return 0;
    }
  }
}
