package io.appointmentserver.support;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** The audit trail of the shared server, as its AuditEvents read. */
public final class AuditTrail {
  private AuditTrail() {}

  /** The audit events carrying {@code traceId}, waiting up to 3 s for asynchronous ones. */
  public static List<JsonNode> eventsOf(String traceId, int atLeast) throws InterruptedException {
    List<JsonNode> found = new ArrayList<>();
    for (int attempt = 0; attempt < 30; attempt++) {
      found.clear();
      JsonNode page = Json.parse(Http.get(TestServer.base() + "/AuditEvent/_history?_count=300").body());
      if (page.has("entry")) {
        for (JsonNode e : page.get("entry")) {
          JsonNode r = e.get("resource");
          if (r == null || !r.has("entity")) {
            continue; // other AuditEvents (the official examples, deletions)
          }
          for (JsonNode entity : r.get("entity")) {
            if (entity.has("identifier") && traceId.equals(entity.get("identifier").get("value").asText())) {
              found.add(r);
            }
          }
        }
      }
      if (found.size() >= atLeast) {
        return found; // atLeast 0: one look is enough
      }
      Thread.sleep(100);
    }
    return found;
  }
}
