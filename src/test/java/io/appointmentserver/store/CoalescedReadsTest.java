package io.appointmentserver.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Concurrent reads of current versions share database round trips: each still gets its own
 * resource, as fresh as a read of its own, also when another server process writes.
 */
class CoalescedReadsTest {
  private final String base = TestServer.base();

  private static String newId() {
    return "c-" + UUID.randomUUID().toString().substring(0, 18);
  }

  private String put(String type, String id, String body, String... headers) {
    HttpResponse<String> r = Http.put(base + "/" + type + "/" + id, body, headers);
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
    return r.body();
  }

  @Test
  void concurrentReadsOfManyResourcesEachGetTheirOwn() throws Exception {
    List<String> urls = new ArrayList<>();
    List<String> bodies = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      String id = newId();
      String type = i % 2 == 0 ? "Patient" : "Practitioner";
      bodies.add(put(type, id, "{\"resourceType\":\"" + type + "\",\"id\":\"" + id
          + "\",\"name\":[{\"family\":\"Nr " + i + "\"}]}"));
      urls.add(base + "/" + type + "/" + id);
    }
    String missing = base + "/Patient/" + newId();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<?>> readers = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        readers.add(pool.submit(() -> {
          for (int n = 0; n < 60; n++) {
            int i = ThreadLocalRandom.current().nextInt(urls.size() + 1);
            if (i == urls.size()) {
              assertThat(Http.get(missing).statusCode()).isEqualTo(404);
            } else {
              HttpResponse<String> r = Http.get(urls.get(i));
              assertThat(r.statusCode()).isEqualTo(200);
              assertThat(r.body()).isEqualTo(bodies.get(i));
            }
          }
          return null;
        }));
      }
      for (Future<?> f : readers) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aReadAfterAnotherProcessesWriteSeesIt() throws Exception {
    String id = newId();
    String url = base + "/Patient/" + id;
    put("Patient", id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"v1\"}]}");
    // other reads keep the server's read queries busy, so that the checked reads join batches
    String busy = base + "/Patient/" + id;
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try (AppointmentServer other = TestServer.another(c -> c)) {
      for (int t = 0; t < 6; t++) {
        pool.submit(() -> {
          while (!stop.get()) {
            Http.get(busy);
          }
        });
      }
      for (int v = 2; v <= 21; v++) {
        HttpResponse<String> written = Http.put(other.baseUrl() + "/Patient/" + id,
            "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"v" + v + "\"}]}",
            "If-Match", "W/\"" + (v - 1) + "\"");
        assertThat(written.statusCode()).as(written.body()).isEqualTo(200);
        HttpResponse<String> read = Http.get(url);
        assertThat(read.headers().firstValue("ETag")).hasValue("W/\"" + v + "\"");
        assertThat(Json.parse(read.body()).get("name").get(0).get("family").asText()).isEqualTo("v" + v);
      }
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }
  }
}
