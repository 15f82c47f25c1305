package io.appointmentserver.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.support.ChildServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A long run of new-content profiled writes in a small heap: a server in a child JVM
 * ({@code serve}, {@value #HEAP_MB} MB of heap, the eHealth IG, the shared test database) takes
 * {@value #THIRDS} × {@value #PER_THIRD} PUTs of the seed appointment, each with its room (the
 * contained Location's name) and comment changed, from {@value #CLIENTS} clients: every one is
 * validated anew. None may fail, and the heap in use after a full GC must not grow from the end
 * of the first third to the end of the last (the validator's caches are bounded by bytes and fill
 * in the first third; its pooled InstanceValidators once kept every resource they validated, tens
 * of kilobytes each, until the heap ran out).
 */
class ValidationMemoryTest {
  static final int HEAP_MB = 320;
  static final int CLIENTS = 4;
  static final int THIRDS = 3;
  static final int PER_THIRD = 700;
  /** What may still be filling after the first third: the outcome caches (16 MB at most) and a renewed validator. */
  static final long GROWTH_ALLOWED_MB = 24;

  @Test
  void newContentWritesInASmallHeapKeepItsUseFlat() throws Exception {
    try (ChildServer server = ChildServer.start(HEAP_MB, Map.of("FHIR_CHECK_REFERENCES", "false"))) {
      String base = server.base;
      ObjectNode seed = Json.parse(Files.readString(TestServer.sharedDir().resolve("seed").resolve("request-body.json")));
      List<Long> usedMb = new ArrayList<>();
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      try {
        for (int third = 0; third < THIRDS; third++) {
          List<Future<?>> done = new ArrayList<>();
          for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            int first = third * PER_THIRD;
            done.add(clients.submit(() -> {
              for (int i = first + client; i < first + PER_THIRD; i += CLIENTS) {
                ObjectNode body = seed.deepCopy();
                body.put("id", "memory-" + client);
                ((ObjectNode) body.get("meta")).remove(List.of("versionId", "lastUpdated"));
                ((ObjectNode) body.path("contained").path(0)).put("name", "Room " + i);
                body.put("comment", body.path("comment").asText() + " #" + i);
                HttpResponse<String> r = Http.put(base + "/Appointment/memory-" + client, body.toString(),
                    "Content-Type", "application/fhir+json");
                assertThat(r.statusCode()).as("write %d: %s", i, r.body()).isIn(200, 201);
              }
              return null;
            }));
          }
          for (Future<?> f : done) {
            f.get(10, TimeUnit.MINUTES);
          }
          usedMb.add(server.usedAfterFullGc());
        }
      } finally {
        clients.shutdownNow();
      }
      System.out.println("heap used after a full GC, by third (MB): " + usedMb);
      assertThat(usedMb.get(THIRDS - 1)).as("heap used after a full GC, by third: %s MB", usedMb)
          .isLessThanOrEqualTo(usedMb.get(0) + GROWTH_ALLOWED_MB)
          .isLessThan(HEAP_MB * 3L / 4);
      assertThat(server.log()).doesNotContain("OutOfMemoryError");
    }
  }
}
