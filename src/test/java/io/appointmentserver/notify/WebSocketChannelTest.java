package io.appointmentserver.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The DSTU3 websocket channel over a real WebSocket on 127.0.0.1: bind, bound, ping. */
class WebSocketChannelTest {
  static final String BASE = TestServer.base();
  static final String JSON = "application/fhir+json";

  /** A connected client and the text frames it received. */
  static final class Client implements WebSocket.Listener, AutoCloseable {
    final LinkedBlockingQueue<String> frames = new LinkedBlockingQueue<>();
    final WebSocket socket;

    Client(String token) {
      URI uri = URI.create(BASE.replaceFirst("^http", "ws").replaceFirst("/fhir$", "/websocket"));
      WebSocket.Builder b = HttpClient.newHttpClient().newWebSocketBuilder();
      if (token != null) {
        b.header("Authorization", token);
      }
      socket = b.buildAsync(uri, this).join();
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      frames.add(data.toString());
      ws.request(1);
      return null;
    }

    String send(String text) throws InterruptedException {
      socket.sendText(text, true).join();
      return next(10);
    }

    String next(int seconds) throws InterruptedException {
      return frames.poll(seconds, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
      socket.abort();
    }
  }

  /** A user of its own (a new subject each call) who may write Subscriptions and read Basic. */
  static String owner() {
    return "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Subscription.create", "Basic.*"),
        Map.of(), null, 300);
  }

  static String practitioner() {
    return "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Subscription.*", "Basic.*"),
        Map.of("care_team_id", SubscriptionTest.TEAM), null, 300);
  }

  static String subscribe(String criteria, String token) {
    String body = "{\"resourceType\":\"Subscription\",\"status\":\"requested\",\"reason\":\"test\",\"criteria\":\""
        + criteria + "\",\"channel\":{\"type\":\"websocket\"}}";
    var r = Http.post(BASE + "/Subscription", body, "Content-Type", JSON, "Authorization", token);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(Json.parse(r.body()).get("status").asText()).isEqualTo("active");
    return Json.parse(r.body()).get("id").asText();
  }

  @Test
  void boundClientIsPingedForMatchingWritesOnly() throws Exception {
    String token = owner();
    String t = SubscriptionTest.tag();
    String id = subscribe("Basic?code=urn:sub%7C" + t, token);
    try (Client c = new Client(token)) {
      assertThat(c.send("bind " + id)).isEqualTo("bound " + id);
      SubscriptionTest.basic(BASE, "ws-nomatch-" + t, SubscriptionTest.tag());
      assertThat(c.next(3)).as("a write the criteria do not select").isNull();
      SubscriptionTest.basic(BASE, "ws-match-" + t, t);
      assertThat(c.next(10)).isEqualTo("ping " + id);
      SubscriptionTest.basic(BASE, "ws-match-" + t, t);
      assertThat(c.next(10)).isEqualTo("ping " + id);
      assertThat(c.next(2)).isNull();
    }
  }

  @Test
  void notificationsMadeWhileDisconnectedArePingedAfterReconnect() throws Exception {
    String token = owner();
    String t = SubscriptionTest.tag();
    String id = subscribe("Basic?code=urn:sub%7C" + t, token);
    SubscriptionTest.basic(BASE, "ws-away-" + t, t); // no client bound anywhere: it waits
    Thread.sleep(2500); // several rounds of the delivery loop go by
    try (Client c = new Client(token)) {
      assertThat(c.send("bind Subscription/" + id)).isEqualTo("bound " + id);
      assertThat(c.next(10)).isEqualTo("ping " + id);
    }
  }

  @Test
  void anotherUsersSubscriptionIsNotBound() throws Exception {
    String t = SubscriptionTest.tag();
    String id = subscribe("Basic?code=urn:sub%7C" + t, owner());
    for (String other : new String[] {practitioner(), owner()}) { // another user, without Subscription.read
      try (Client c = new Client(other)) {
        assertThat(c.send("bind " + id)).startsWith("error ").contains("not yours");
      }
    }
    try (Client c = new Client(practitioner())) {
      assertThat(c.send("bind " + id)).startsWith("error ").contains("not yours");
      SubscriptionTest.basic(BASE, "ws-other-" + t, t);
      assertThat(c.next(3)).isNull();
    }
    // a SYSTEM user with the Subscription privilege may bind any
    try (Client c = new Client("Bearer " + TestServer.systemToken())) {
      assertThat(c.send("bind " + id)).isEqualTo("bound " + id);
      assertThat(c.next(10)).isEqualTo("ping " + id); // the write above waited for a client
    }
  }

  @Test
  void badRequestsAreAnsweredWithErrors() throws Exception {
    String restHook = SubscriptionTest.create(SubscriptionTest.subscription("Basic?code=x", "http://127.0.0.1:1/",
        JSON, ""));
    try (Client c = new Client("Bearer " + TestServer.systemToken())) {
      assertThat(c.send("hello")).startsWith("error expected 'bind <Subscription id>'");
      assertThat(c.send("bind no-such-subscription")).startsWith("error ").contains("no active websocket");
      assertThat(c.send("bind " + restHook)).startsWith("error ").contains("no active websocket");
    }
  }

  @Test
  void plainHttpIsAnOutcome() {
    for (String method : new String[] {"GET", "POST", "FOO"}) {
      var r = Http.send(method, BASE.replaceFirst("/fhir$", "/websocket"), method.equals("POST") ? "{}" : null);
      assertThat(r.statusCode()).as(method).isEqualTo(426);
      assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    }
  }

  @Test
  void capabilityStatementNamesTheEndpoint() {
    var rest = Json.parse(Http.get(BASE + "/metadata", "Accept", JSON).body()).get("rest").get(0);
    String ws = BASE.replaceFirst("^http", "ws").replaceFirst("/fhir$", "/websocket");
    assertThat(rest.get("extension").toString())
        .contains("http://hl7.org/fhir/StructureDefinition/capabilitystatement-websocket").contains(ws);
  }

  @Test
  void upgradeWithoutValidTokenIsRefused() {
    for (String token : new String[] {null, "Bearer not-a-token"}) {
      CompletionException e = assertThrows(CompletionException.class, () -> new Client(token).close());
      assertThat(e.getCause()).isInstanceOf(WebSocketHandshakeException.class);
      assertThat(((WebSocketHandshakeException) e.getCause()).getResponse().statusCode()).isEqualTo(401);
    }
  }
}
