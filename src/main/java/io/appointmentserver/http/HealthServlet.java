package io.appointmentserver.http;

import io.appointmentserver.store.Database;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** {@code GET /health}: 200 while the database answers, 503 while it does not. */
final class HealthServlet extends HttpServlet {
  private final transient Database db;

  HealthServlet(Database db) {
    this.db = db;
  }

  @Override
  protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    boolean up = db.isReachable();
    resp.setStatus(up ? 200 : 503);
    resp.setContentType("application/json");
    resp.getWriter().write(up ? "{\"status\":\"UP\",\"database\":\"UP\"}" : "{\"status\":\"DOWN\",\"database\":\"DOWN\"}");
  }
}
