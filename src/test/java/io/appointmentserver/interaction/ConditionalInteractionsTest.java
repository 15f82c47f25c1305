package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * Conditional create, update, patch and delete (DSTU3 http.html#ccreate, #cond-update,
 * conditional delete), by search criteria over real HTTP.
 */
class ConditionalInteractionsTest {
  static final String BASE = TestServer.base();
  static final String SYSTEM = "urn:conditional-test";

  static String uid() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  static String patient(String id, String identifier, String family) {
    return "{\"resourceType\":\"Patient\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
        + ",\"identifier\":[{\"system\":\"" + SYSTEM + "\",\"value\":\"" + identifier + "\"}],"
        + "\"name\":[{\"family\":\"" + family + "\"}]}";
  }

  static HttpResponse<String> createIfNoneExist(String base, String identifier, String family) {
    return Http.post(base + "/Patient", patient(null, identifier, family),
        "If-None-Exist", "identifier=" + SYSTEM + "%7C" + identifier);
  }

  static int total(String base, String identifier) {
    JsonNode page = Json.parse(Http.get(base + "/Patient?identifier=" + SYSTEM + "%7C" + identifier).body());
    return page.get("total").asInt();
  }

  @Test
  void conditionalCreateCreatesOnceThenReturnsTheMatch() {
    String identifier = uid();
    HttpResponse<String> first = createIfNoneExist(BASE, identifier, "First");
    assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
    String id = Json.parse(first.body()).get("id").asText();

    HttpResponse<String> second = createIfNoneExist(BASE, identifier, "Second");
    assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
    JsonNode body = Json.parse(second.body());
    assertThat(body.get("id").asText()).isEqualTo(id);
    assertThat(body.at("/name/0/family").asText()).isEqualTo("First");
    assertThat(second.headers().firstValue("ETag").orElseThrow()).isEqualTo("W/\"1\"");
    // the If-None-Exist may name the type too, as some clients send it
    HttpResponse<String> third = Http.post(BASE + "/Patient", patient(null, identifier, "Third"),
        "If-None-Exist", "Patient?identifier=" + SYSTEM + "|" + identifier);
    assertThat(third.statusCode()).as(third.body()).isEqualTo(200);
    assertThat(total(BASE, identifier)).isEqualTo(1);
  }

  @Test
  void severalMatchesAre412AndNothingIsWritten() {
    String identifier = uid();
    String a = "cond-a-" + identifier;
    String b = "cond-b-" + identifier;
    assertThat(Http.put(BASE + "/Patient/" + a, patient(a, identifier, "A")).statusCode()).isEqualTo(201);
    assertThat(Http.put(BASE + "/Patient/" + b, patient(b, identifier, "B")).statusCode()).isEqualTo(201);
    String criteria = "identifier=" + SYSTEM + "%7C" + identifier;

    HttpResponse<String> create = createIfNoneExist(BASE, identifier, "C");
    assertThat(create.statusCode()).as(create.body()).isEqualTo(412);
    assertThat(Json.parse(create.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    HttpResponse<String> update = Http.put(BASE + "/Patient?" + criteria, patient(null, identifier, "C"));
    assertThat(update.statusCode()).as(update.body()).isEqualTo(412);
    HttpResponse<String> delete = Http.send("DELETE", BASE + "/Patient?" + criteria, null);
    assertThat(delete.statusCode()).as(delete.body()).isEqualTo(412);
    HttpResponse<String> patch = Http.send("PATCH", BASE + "/Patient?" + criteria,
        "[{\"op\":\"replace\",\"path\":\"/active\",\"value\":true}]", "Content-Type", "application/json-patch+json");
    assertThat(patch.statusCode()).as(patch.body()).isEqualTo(412);

    assertThat(total(BASE, identifier)).isEqualTo(2);
    assertThat(Http.get(BASE + "/Patient/" + a).headers().firstValue("ETag").orElseThrow()).isEqualTo("W/\"1\"");
    assertThat(Http.get(BASE + "/Patient/" + b).headers().firstValue("ETag").orElseThrow()).isEqualTo("W/\"1\"");
  }

  @Test
  void conditionalUpdateCreatesWithoutAMatchAndUpdatesTheOneMatch() {
    String identifier = uid();
    String url = BASE + "/Patient?identifier=" + SYSTEM + "%7C" + identifier;
    HttpResponse<String> created = Http.put(url, patient(null, identifier, "Created"));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = Json.parse(created.body()).get("id").asText();

    HttpResponse<String> updated = Http.put(url, patient(null, identifier, "Updated"));
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
    assertThat(Json.parse(updated.body()).get("id").asText()).isEqualTo(id);
    assertThat(updated.headers().firstValue("ETag").orElseThrow()).isEqualTo("W/\"2\"");
    JsonNode read = Json.parse(Http.get(BASE + "/Patient/" + id).body());
    assertThat(read.at("/name/0/family").asText()).isEqualTo("Updated");

    // If-Match applies to the match
    HttpResponse<String> stale = Http.put(url, patient(null, identifier, "Stale"), "If-Match", "W/\"1\"");
    assertThat(stale.statusCode()).as(stale.body()).isEqualTo(412);
    assertThat(total(BASE, identifier)).isEqualTo(1);
  }

  @Test
  void conditionalPatchPatchesTheOneMatch() {
    String identifier = uid();
    String id = Json.parse(createIfNoneExist(BASE, identifier, "Patched").body()).get("id").asText();
    HttpResponse<String> r = Http.send("PATCH", BASE + "/Patient?identifier=" + SYSTEM + "%7C" + identifier,
        "[{\"op\":\"add\",\"path\":\"/active\",\"value\":true}]", "Content-Type", "application/json-patch+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(Json.parse(Http.get(BASE + "/Patient/" + id).body()).get("active").asBoolean()).isTrue();
  }

  @Test
  void conditionalDeleteDeletesTheOneMatchAndAnswers404WithoutOne() {
    String identifier = uid();
    String url = BASE + "/Patient?identifier=" + SYSTEM + "%7C" + identifier;
    assertThat(Http.send("DELETE", url, null).statusCode()).isEqualTo(404);
    String id = Json.parse(createIfNoneExist(BASE, identifier, "Deleted").body()).get("id").asText();
    HttpResponse<String> r = Http.send("DELETE", url, null);
    assertThat(r.statusCode()).as(r.body()).isIn(200, 204);
    assertThat(Http.get(BASE + "/Patient/" + id).statusCode()).isEqualTo(410);
    assertThat(Http.send("DELETE", url, null).statusCode()).isEqualTo(404);
  }

  @Test
  void withMultipleDeletesSwitchedOnAConditionalDeleteDeletesEveryMatch() throws Exception {
    try (AppointmentServer multiple = TestServer.another(c -> c.withConditionalDeleteMultiple(true))) {
      String base = multiple.baseUrl();
      String identifier = uid();
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        String id = "cond-m" + i + "-" + identifier;
        assertThat(Http.put(base + "/Patient/" + id, patient(id, identifier, "M")).statusCode()).isEqualTo(201);
        ids.add(id);
      }
      HttpResponse<String> r = Http.send("DELETE", base + "/Patient?identifier=" + SYSTEM + "%7C" + identifier, null);
      assertThat(r.statusCode()).as(r.body()).isIn(200, 204);
      for (String id : ids) {
        assertThat(Http.get(base + "/Patient/" + id).statusCode()).isEqualTo(410);
      }
      assertThat(total(base, identifier)).isZero();
    }
  }

  /**
   * Two server processes on one database, eight clients at once, the same If-None-Exist: one
   * resource is made, every client gets it.
   */
  @Test
  void concurrentConditionalCreatesOnTwoServersMakeOneResource() throws Exception {
    try (AppointmentServer one = TestServer.another(c -> c);
         AppointmentServer two = TestServer.another(c -> c)) {
      for (int round = 0; round < 3; round++) {
        String identifier = uid();
        List<HttpResponse<String>> responses = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          String base = (i % 2 == 0 ? one : two).baseUrl();
          Thread t = new Thread(() -> {
            try {
              go.await();
            } catch (InterruptedException e) {
              return;
            }
            responses.add(createIfNoneExist(base, identifier, "Race"));
          });
          threads.add(t);
          t.start();
        }
        go.countDown();
        for (Thread t : threads) {
          t.join();
        }
        assertThat(responses).hasSize(8);
        assertThat(responses.stream().filter(r -> r.statusCode() == 201).count()).isEqualTo(1);
        assertThat(responses).allSatisfy(r -> assertThat(r.statusCode()).as(r.body()).isIn(200, 201));
        assertThat(responses.stream().map(r -> Json.parse(r.body()).get("id").asText()).distinct().count()).isEqualTo(1);
        assertThat(total(BASE, identifier)).isEqualTo(1);
      }
    }
  }
}
