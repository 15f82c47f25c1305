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
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reads answered from memory (the read cache) are as fresh as reads from the database: every
 * write through the API is seen by the next read, a second server process on the same database
 * makes the first stop caching before it serves, and a reader racing a writer never leaves an
 * older version behind.
 */
class ReadCacheTest {
  private static final String SYSTEM = "urn:read-cache-test";
  private final String base = TestServer.base();

  private static String newId() {
    return "rc-" + UUID.randomUUID().toString().substring(0, 18);
  }

  private static String patient(String id, String family) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"" + SYSTEM
        + "\",\"value\":\"" + id + "\"}],\"name\":[{\"family\":\"" + family + "\"}]}";
  }

  private static String family(HttpResponse<String> r) {
    return Json.parse(r.body()).get("name").get(0).get("family").asText();
  }

  /** Reads the resource twice (the first may fill the cache, the second is answered from it). */
  private HttpResponse<String> readTwice(String url) {
    Http.get(url);
    return Http.get(url);
  }

  /** Another test may have started a second server: the shared one caches again once it is gone. */
  @BeforeEach
  void sharedServerCaches() throws InterruptedException {
    AppointmentServer shared = TestServer.shared();
    for (int i = 0; i < 100 && !shared.readCacheActive(); i++) {
      Thread.sleep(100);
    }
    assertThat(shared.readCacheActive()).as("the shared server, alone on its database, caches").isTrue();
  }

  @Test
  void everyKindOfWriteIsSeenByTheNextRead() {
    String id = newId();
    String url = base + "/Patient/" + id;
    assertThat(Http.put(url, patient(id, "Put")).statusCode()).isEqualTo(201);
    assertThat(family(readTwice(url))).isEqualTo("Put");

    assertThat(Http.put(url, patient(id, "Update"), "If-Match", "W/\"1\"").statusCode()).isEqualTo(200);
    HttpResponse<String> read = Http.get(url);
    assertThat(read.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertThat(family(read)).isEqualTo("Update");
    readTwice(url);

    HttpResponse<String> patched = Http.send("PATCH", url,
        "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"Patched\"}]",
        "Content-Type", "application/json-patch+json");
    assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
    assertThat(family(Http.get(url))).isEqualTo("Patched");
    readTwice(url);

    HttpResponse<String> conditional = Http.put(base + "/Patient?identifier=" + SYSTEM + "%7C" + id,
        patient(id, "Conditional"));
    assertThat(conditional.statusCode()).as(conditional.body()).isEqualTo(200);
    read = Http.get(url);
    assertThat(read.headers().firstValue("ETag")).hasValue("W/\"4\"");
    assertThat(family(read)).isEqualTo("Conditional");
    readTwice(url);

    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
        + patient(id, "Bundled") + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + id + "\"}}]}";
    HttpResponse<String> posted = Http.post(base, bundle);
    assertThat(posted.statusCode()).as(posted.body()).isEqualTo(200);
    read = Http.get(url);
    assertThat(read.headers().firstValue("ETag")).hasValue("W/\"5\"");
    assertThat(family(read)).isEqualTo("Bundled");
    readTwice(url);

    assertThat(Http.send("DELETE", url, null).statusCode()).isIn(200, 204);
    assertThat(Http.get(url).statusCode()).isEqualTo(410);
    assertThat(Http.get(url).statusCode()).isEqualTo(410);

    assertThat(Http.put(url, patient(id, "Again")).statusCode()).isEqualTo(201);
    read = Http.get(url);
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(read.headers().firstValue("ETag")).hasValue("W/\"7\"");
    assertThat(family(read)).isEqualTo("Again");
  }

  @Test
  void aRolledBackWriteChangesNothing() {
    String id = newId();
    String url = base + "/Patient/" + id;
    assertThat(Http.put(url, patient(id, "Kept")).statusCode()).isEqualTo(201);
    readTwice(url);
    // a transaction whose second entry fails: the first entry's update rolls back with it
    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
        + patient(id, "RolledBack") + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + id + "\"}},"
        + "{\"resource\":" + patient(id + "x", "Other") + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/"
        + id + "x\",\"ifMatch\":\"W/\\\"7\\\"\"}}]}";
    assertThat(Http.post(base, bundle).statusCode()).isGreaterThanOrEqualTo(400);
    HttpResponse<String> read = Http.get(url);
    assertThat(read.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(family(read)).isEqualTo("Kept");
  }

  @Test
  void aSecondServerProcessMakesTheFirstStopCachingBeforeItServes() throws Exception {
    AppointmentServer shared = TestServer.shared();
    String id = newId();
    String url = base + "/Patient/" + id;
    assertThat(Http.put(url, patient(id, "First")).statusCode()).isEqualTo(201);
    assertThat(family(readTwice(url))).isEqualTo("First");
    try (AppointmentServer other = TestServer.another(c -> c)) {
      assertThat(shared.readCacheActive()).as("the first stopped caching before the second started").isFalse();
      assertThat(other.readCacheActive()).isFalse();
      for (int v = 2; v <= 6; v++) {
        HttpResponse<String> written = Http.put(other.baseUrl() + "/Patient/" + id, patient(id, "Other " + v),
            "If-Match", "W/\"" + (v - 1) + "\"");
        assertThat(written.statusCode()).as(written.body()).isEqualTo(200);
        HttpResponse<String> read = readTwice(url);
        assertThat(read.headers().firstValue("ETag")).hasValue("W/\"" + v + "\"");
        assertThat(family(read)).isEqualTo("Other " + v);
      }
    }
    // alone again: it caches again, from an empty cache, and still sees the other's last write
    for (int i = 0; i < 100 && !shared.readCacheActive(); i++) {
      Thread.sleep(100);
    }
    assertThat(shared.readCacheActive()).isTrue();
    HttpResponse<String> read = readTwice(url);
    assertThat(read.headers().firstValue("ETag")).hasValue("W/\"6\"");
    assertThat(family(read)).isEqualTo("Other 6");
  }

  @Test
  void aReaderRacingAWriterNeverLeavesAnOlderVersionBehind() throws Exception {
    String id = newId();
    String url = base + "/Patient/" + id;
    assertThat(Http.put(url, patient(id, "v1")).statusCode()).isEqualTo(201);
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<?>> readers = new ArrayList<>();
      for (int t = 0; t < 6; t++) {
        readers.add(pool.submit(() -> {
          while (!stop.get()) {
            assertThat(Http.get(url).statusCode()).isEqualTo(200);
          }
          return null;
        }));
      }
      for (int v = 2; v <= 150; v++) {
        HttpResponse<String> written = Http.put(url, patient(id, "v" + v), "If-Match", "W/\"" + (v - 1) + "\"");
        assertThat(written.statusCode()).as(written.body()).isEqualTo(200);
        // acknowledged: no read from now on may see an older version, however the readers raced it
        HttpResponse<String> read = Http.get(url);
        assertThat(read.headers().firstValue("ETag")).as("read after write %d", v).hasValue("W/\"" + v + "\"");
        assertThat(family(read)).isEqualTo("v" + v);
        if (v % 10 == 0) { // and a reader's late fill does not replace it afterwards either
          Thread.sleep(20);
          assertThat(Http.get(url).headers().firstValue("ETag")).as("a while after write %d", v)
              .hasValue("W/\"" + v + "\"");
        }
      }
      stop.set(true);
      for (Future<?> f : readers) {
        f.get();
      }
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }
  }
}
