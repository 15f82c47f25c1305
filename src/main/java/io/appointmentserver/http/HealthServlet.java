package io.appointmentserver.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.appointmentserver.store.Database;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code GET /health}: 200 while the database answers, 503 while it does not; with the search
 * index's reindex passes of the last hour ({@code searchIndex}: type, resources indexed, state).
 */
public final class HealthServlet extends HttpServlet {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final transient Database db;
  private final transient Supplier<?> reindexStatus;

  public HealthServlet(Database db, Supplier<?> reindexStatus) {
    this.db = db;
    this.reindexStatus = reindexStatus;
  }

  /** GET and HEAD only; the servlet's default answers a PATCH (or an unknown method) with a 501. */
  @Override
  protected void service(HttpServletRequest req, HttpServletResponse resp) throws jakarta.servlet.ServletException, IOException {
    if (req.getMethod().equals("GET") || req.getMethod().equals("HEAD")) {
      super.service(req, resp);
      return;
    }
    resp.setStatus(405);
    resp.setHeader("Allow", "GET, HEAD");
    resp.setContentType("application/fhir+json;charset=utf-8");
    resp.getWriter().write("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\","
        + "\"code\":\"not-supported\",\"diagnostics\":\"/health answers GET and HEAD only\"}]}");
  }

  @Override
  protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    boolean up = db.isReachable();
    resp.setStatus(up ? 200 : 503);
    resp.setContentType("application/json");
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", up ? "UP" : "DOWN");
    body.put("database", up ? "UP" : "DOWN");
    if (up) {
      try {
        body.put("searchIndex", reindexStatus.get());
      } catch (RuntimeException e) {
        // the database went away in between: the status says enough
      }
    }
    resp.getWriter().write(JSON.writeValueAsString(body));
  }
}
