package io.appointmentserver.http;

import java.util.Set;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.RequestLog;
import org.eclipse.jetty.server.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Called by Jetty once per request when its response is complete (whichever filter or servlet
 * answered it, 401s and 404s too): records the request metric and writes one line to the logger
 * {@code access}: request id ({@code X-B3-TraceId}), user id, method, path and query (CPR numbers
 * in identifier values masked), status, duration in ms, response body bytes. The date and time come
 * from the log pattern.
 */
final class AccessLog implements RequestLog {
  static final Logger LOG = LoggerFactory.getLogger("access");
  /**
   * The request attribute the access log line takes its user from: the one value {@link Authentication}
   * records for it (Jetty's request log sees the request as the connector made it, not the
   * servlet chain's wrapper that carries the caller).
   */
  static final String USER = AccessLog.class.getName() + ".user";

  private final ServerMetrics metrics;
  private final Set<String> types;

  AccessLog(ServerMetrics metrics, Set<String> types) {
    this.metrics = metrics;
    this.types = types;
  }

  @Override
  public void log(Request request, Response response) {
    long nanos = System.nanoTime() - request.getBeginNanoTime();
    String method = request.getMethod();
    String path = request.getHttpURI().getPath();
    int status = response.getStatus();
    metrics.record(Interaction.of(method, path, types), status, nanos);
    if (!LOG.isInfoEnabled()) {
      return;
    }
    String traceId = response.getHeaders().get("X-B3-TraceId");
    String user = request.getAttribute(USER) instanceof String id ? printable(id) : "-";
    String query = request.getHttpURI().getQuery();
    StringBuilder line = new StringBuilder(128)
        .append(traceId == null ? "-" : printable(traceId)).append(' ')
        .append(user).append(' ')
        .append(method).append(' ')
        .append(path);
    if (query != null) {
      line.append('?').append(QueryMask.mask(query));
    }
    line.append(' ').append(status).append(' ');
    long micros = nanos / 1_000;
    line.append(micros / 1_000).append('.');
    long frac = micros % 1_000;
    line.append(frac < 10 ? "00" : frac < 100 ? "0" : "").append(frac).append("ms ")
        .append(Response.getContentBytesWritten(response)).append('B');
    LOG.info(line.toString());
  }

  /** Header and claim values may hold anything: nothing of them may split or forge a line. */
  private static String printable(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c == 0x7f) {
        StringBuilder b = new StringBuilder(s.length());
        for (int j = 0; j < s.length(); j++) {
          char d = s.charAt(j);
          b.append(d <= ' ' || d == 0x7f ? '_' : d);
        }
        return b.toString();
      }
    }
    return s;
  }
}
