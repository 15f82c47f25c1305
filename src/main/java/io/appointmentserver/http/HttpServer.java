package io.appointmentserver.http;

import io.appointmentserver.api.FhirRestServer;
import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.security.AuditLog;
import io.appointmentserver.security.TokenAuthenticator;
import io.appointmentserver.store.Database;
import io.appointmentserver.store.ResourceStore;
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
 * {@code /fhir}; {@code /health} and {@code /metrics} beside it; every request ends in the
 * {@link AccessLog}.
 */
public final class HttpServer implements AutoCloseable {
  private final Server jetty;
  private final ServerConnector connector;

  public HttpServer(String host, int port, long maxBody, String configuredBase, String defaultBase, Database db,
      ResourceStore store, FhirRestServer fhir, TokenAuthenticator authenticator, AccessPolicy access,
      AuditLog audit, java.util.function.Supplier<?> reindexStatus, ServerMetrics metrics) {
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
    connector.setHost(host);
    connector.setPort(port);
    jetty.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    EnumSet<DispatcherType> requests = EnumSet.of(DispatcherType.REQUEST);
    context.addFilter(new FilterHolder(new Authentication(authenticator, defaultBase, errors)), "/fhir/*", requests);
    context.addFilter(new FilterHolder(new RequestGuard(maxBody, errors)), "/fhir/*", requests);
    context.addFilter(new FilterHolder(new FastRead(store, fhir.getFhirContext().getResourceTypes(), errors,
        configuredBase, access, audit)), "/fhir/*", requests);
    context.addFilter(new FilterHolder(new WholeResponses()), "/fhir/*", requests);
    ServletHolder fhirHolder = new ServletHolder("fhir", fhir);
    fhirHolder.setInitOrder(1);
    context.addServlet(fhirHolder, "/fhir/*");
    context.addServlet(new ServletHolder("health", new HealthServlet(db, reindexStatus)), "/health");
    context.addServlet(new ServletHolder("metrics", new MetricsServlet(metrics)), "/metrics");
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
