package io.appointmentserver.http;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * {@code GET /metrics}: the Prometheus text format. Like {@code /health} an operator's endpoint
 * without a token: it tells counts and timings, no resource content, and is served only on
 * {@code FHIR_HOST}.
 */
public final class MetricsServlet extends HttpServlet {
  private final transient ServerMetrics metrics;

  public MetricsServlet(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    resp.setStatus(200);
    resp.setContentType("text/plain; version=0.0.4; charset=utf-8");
    resp.getWriter().write(metrics.scrape());
  }
}
