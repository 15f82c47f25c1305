package io.appointmentserver.http;

import io.appointmentserver.interaction.Read;
import io.appointmentserver.rest.FhirRestServer;
import io.appointmentserver.security.TokenAuthenticator;
import jakarta.servlet.DispatcherType;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Jetty bootstrap. Order in front of HAPI: {@link Authentication} (401), {@link RequestGuard}
 * (406, 413, 415, gzip bodies), then {@link FastRead} (stored bytes for plain JSON reads), then
 * {@link WholeResponses} (no socket write per flush), then the {@link FhirRestServer} at
 * {@code /fhir}; {@code /health}, {@code /metrics} and {@code /websocket} beside it; every request ends in the
 * {@link AccessLog}.
 */
public final class HttpServer implements AutoCloseable {
  private final Server jetty;
  private final ServerConnector connector;

  /**
   * Where the server listens and what it takes: {@code maxBody} the largest request body;
   * {@code configuredBase} the public base URL (null: the one each request was sent to);
   * {@code defaultBase} the base that references to this server are stored relative to.
   */
  public record Settings(String host, int port, long maxBody, String configuredBase, String defaultBase) {}

  /**
   * What it serves: the FHIR API (HAPI's servlet, with the read interaction for the fast path),
   * the token check, and the operator's servlets beside it by path ({@code /health}, {@code /metrics}).
   */
  public record Parts(FhirRestServer fhir, Read read, TokenAuthenticator authenticator,
      java.util.Map<String, jakarta.servlet.http.HttpServlet> operator, ServerMetrics metrics,
      io.appointmentserver.notify.Sockets sockets) {}

  public HttpServer(Settings settings, Parts parts) {
    long maxBody = settings.maxBody();
    FhirRestServer fhir = parts.fhir();
    ServerMetrics metrics = parts.metrics();
    ErrorWriter errors = new ErrorWriter(fhir.getFhirContext(), maxBody);
    QueuedThreadPool threads = new QueuedThreadPool(200, 8);
    threads.setName("http");
    jetty = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendDateHeader(true);
    // no per-connection cache of header values: a bearer token (~900 characters) does not fit in its
    // trie (1,024 entries) beside the other headers, so the trie was cleared and refilled on every
    // request (Arrays.fill was 13 % of the JVM's samples of the seed PUT); a token above 1,024 is never cached
    http.setHeaderCacheSize(0);
    connector = new ServerConnector(jetty, new HttpConnectionFactory(http));
    connector.setHost(settings.host());
    connector.setPort(settings.port());
    jetty.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    EnumSet<DispatcherType> requests = EnumSet.of(DispatcherType.REQUEST);
    context.addFilter(new FilterHolder(new Authentication(parts.authenticator(), settings.defaultBase(), errors)),
        "/fhir/*", requests);
    context.addFilter(new FilterHolder(new RequestGuard(maxBody, errors)), "/fhir/*", requests);
    context.addFilter(new FilterHolder(new FastRead(parts.read(), fhir.getFhirContext().getResourceTypes(),
        fhir.surface(), errors, settings.configuredBase())), "/fhir/*", requests);
    context.addFilter(new FilterHolder(new WholeResponses()), "/fhir/*", requests);
    ServletHolder fhirHolder = new ServletHolder("fhir", fhir);
    fhirHolder.setInitOrder(1);
    context.addServlet(fhirHolder, "/fhir/*");
    // the Subscriptions' websocket channel: authenticates its upgrade itself (the filters are /fhir's)
    org.eclipse.jetty.ee10.websocket.server.config.JettyWebSocketServletContainerInitializer.configure(context, null);
    context.addServlet(new ServletHolder("websocket", new WebSocketEndpoint(parts.authenticator(), parts.sockets(), errors)),
        "/websocket");
    parts.operator().forEach((path, servlet) -> context.addServlet(new ServletHolder(path, servlet), path));
    // every other path, whatever the method: a 404 with an OperationOutcome (Jetty's default servlet
    // answered unknown methods with a 501)
    context.addServlet(new ServletHolder("elsewhere", new jakarta.servlet.http.HttpServlet() {
      @Override
      protected void service(jakarta.servlet.http.HttpServletRequest req, jakarta.servlet.http.HttpServletResponse resp)
          throws java.io.IOException {
        errors.write(req, resp, 404, org.hl7.fhir.dstu3.model.OperationOutcome.IssueType.NOTFOUND,
            "Nothing is served at " + req.getRequestURI() + "; the FHIR API is at /fhir");
      }
    }), "/");
    context.setErrorHandler(errors.contextErrors());
    jetty.setErrorHandler(errors.connectionErrors());
    jetty.setHandler(context);
    // after each response: its metric and its access-log line
    jetty.setRequestLog(new AccessLog(metrics, java.util.Set.copyOf(fhir.getFhirContext().getResourceTypes())));
  }

  public void start() throws Exception {
    jetty.start();
  }

  /** The port actually bound (useful when 0 was asked for). */
  public int port() {
    return connector.getLocalPort();
  }

  @Override
  public void close() throws Exception {
    jetty.stop();
  }
}
