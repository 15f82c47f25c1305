package io.appointmentserver.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.activemq.ActiveMQConnectionFactory;
import org.apache.activemq.broker.BrokerService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Change events on a real ActiveMQ broker in this JVM, consumed over 127.0.0.1 as any consumer would. */
class ChangeEventsTest {
  static int port;
  static BrokerService broker;
  static AppointmentServer server;
  static String base;

  @BeforeAll
  static void start() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    broker = broker(true);
    server = TestServer.another(c -> c.with("FHIR_BROKER_URL", url()));
    base = server.baseUrl();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
    broker.stop();
  }

  static String url() {
    return "tcp://127.0.0.1:" + port;
  }

  /** A broker without persistence; {@code listening}: its port open at once (else the caller opens it). */
  static BrokerService broker(boolean listening) throws Exception {
    BrokerService b = new BrokerService();
    b.setBrokerName("events");
    b.setPersistent(false);
    b.setUseJmx(false);
    b.setAdvisorySupport(false);
    if (listening) {
      b.addConnector(url());
    }
    b.start();
    b.waitUntilStarted();
    return b;
  }

  /** A consumer of topic {@code fhir.<type>} over {@code url}. */
  record Consumer(Connection connection, MessageConsumer consumer) implements AutoCloseable {
    static Consumer of(String url, String type) throws Exception {
      Connection c = new ActiveMQConnectionFactory(url).createConnection();
      c.start();
      Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
      return new Consumer(c, s.createConsumer(s.createTopic("fhir." + type)));
    }

    JsonNode next() throws Exception {
      TextMessage m = (TextMessage) consumer.receive(10_000);
      assertThat(m).as("an event within 10 s").isNotNull();
      return Json.parse(m.getText());
    }

    @Override
    public void close() throws Exception {
      connection.close();
    }
  }

  static String basicBody(String id) {
    return "{\"resourceType\":\"Basic\",\"id\":\"" + id + "\",\"code\":{\"text\":\"" + UUID.randomUUID() + "\"}}";
  }

  static void put(String id) {
    HttpResponse<String> r = Http.put(base + "/Basic/" + id, basicBody(id));
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
  }

  @Test
  void everyWriteIsOneEventOnItsTypesTopicInOrder() throws Exception {
    String id = "ev-" + UUID.randomUUID().toString().substring(0, 8);
    try (Consumer basic = Consumer.of(url(), "Basic")) {
      HttpResponse<String> created = Http.post(base + "/Basic", "{\"resourceType\":\"Basic\",\"code\":{\"text\":\"new\"}}",
          "Content-Type", "application/fhir+json");
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      String newId = Json.parse(created.body()).get("id").asText();
      JsonNode e = basic.next();
      assertThat(e.get("resourceType").asText()).isEqualTo("Basic");
      assertThat(e.get("id").asText()).isEqualTo(newId);
      assertThat(e.get("version").asLong()).isEqualTo(1);
      assertThat(e.get("interaction").asText()).isEqualTo("create");
      assertThat(e.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
      assertThat(e.get("reference").asText()).isEqualTo("Basic/" + newId + "/_history/1");
      assertThat(e.get("resource").get("id").asText()).isEqualTo(newId);

      put(id);
      put(id);
      HttpResponse<String> patched = Http.send("PATCH", base + "/Basic/" + id,
          "[{\"op\":\"replace\",\"path\":\"/code/text\",\"value\":\"patched\"}]", "Content-Type", "application/json-patch+json");
      assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
      assertThat(Http.send("DELETE", base + "/Basic/" + id, null).statusCode()).isIn(200, 204);
      List<String> seen = new ArrayList<>();
      for (int v = 1; v <= 4; v++) {
        JsonNode n = basic.next();
        assertThat(n.get("id").asText()).isEqualTo(id);
        seen.add(n.get("version").asLong() + " " + n.get("interaction").asText());
        if (v == 3) {
          assertThat(n.get("resource").get("code").get("text").asText()).isEqualTo("patched");
        }
        if (v == 4) {
          assertThat(n.has("resource")).as("a deletion has no resource").isFalse();
        }
      }
      // a patch is stored as a PUT: its event says update
      assertThat(seen).containsExactly("1 create", "2 update", "3 update", "4 delete");
    }
  }

  @Test
  void aRolledBackTransactionPublishesNothing() throws Exception {
    String id = "tx-" + UUID.randomUUID().toString().substring(0, 8);
    try (Consumer basic = Consumer.of(url(), "Basic")) {
      String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
          + "{\"resource\":" + basicBody(id) + ",\"request\":{\"method\":\"PUT\",\"url\":\"Basic/" + id + "\"}},"
          + "{\"resource\":" + basicBody("other") + ",\"request\":{\"method\":\"PUT\",\"url\":\"Basic/mismatch\"}}]}";
      HttpResponse<String> r = Http.post(base, bundle, "Content-Type", "application/fhir+json");
      assertThat(r.statusCode()).as(r.body()).isBetween(400, 499);
      assertThat(Http.get(base + "/Basic/" + id).statusCode()).isEqualTo(404);
      String marker = id + "-after";
      put(marker);
      assertThat(basic.next().get("id").asText()).as("the next event is the write after").isEqualTo(marker);
    }
  }

  @Test
  void writesWhileTheBrokerIsDownArePublishedInOrderWhenItIsBack() throws Exception {
    String id = "down-" + UUID.randomUUID().toString().substring(0, 8);
    broker.stop();
    broker.waitUntilStopped();
    for (int i = 0; i < 5; i++) {
      put(id);
    }
    Thread.sleep(500); // some attempts fail meanwhile
    // the consumer subscribes inside the JVM before the port opens, so it misses nothing
    broker = broker(false);
    try (Consumer basic = Consumer.of("vm://events?create=false", "Basic")) {
      org.apache.activemq.broker.TransportConnector tcp = broker.addConnector(url());
      tcp.setBrokerService(broker);
      tcp.start();
      for (int v = 1; v <= 5; v++) {
        JsonNode e = basic.next();
        assertThat(e.get("id").asText()).isEqualTo(id);
        assertThat(e.get("version").asLong()).isEqualTo(v);
      }
    }
  }

  @Test
  void theReferencePayloadLeavesTheResourceOut() throws Exception {
    // whichever process leases an event publishes it: here the only one publishing is configured so
    server.close();
    try (AppointmentServer refs = TestServer.another(c -> c.with("FHIR_BROKER_URL", url())
        .with("FHIR_BROKER_PAYLOAD", "reference"));
        Consumer patients = Consumer.of(url(), "Patient")) {
      String id = "ref-" + UUID.randomUUID().toString().substring(0, 8);
      HttpResponse<String> r = Http.put(refs.baseUrl() + "/Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
      JsonNode e = patients.next();
      assertThat(e.get("reference").asText()).isEqualTo("Patient/" + id + "/_history/1");
      assertThat(e.get("interaction").asText()).isEqualTo("create");
      assertThat(e.has("resource")).isFalse();
    } finally {
      server = TestServer.another(c -> c.with("FHIR_BROKER_URL", url()));
      base = server.baseUrl();
    }
  }
}
