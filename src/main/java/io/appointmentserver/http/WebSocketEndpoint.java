package io.appointmentserver.http;

import io.appointmentserver.interaction.Outcomes;
import io.appointmentserver.notify.Sockets;
import io.appointmentserver.security.AuthenticationException;
import io.appointmentserver.security.Principal;
import io.appointmentserver.security.TokenAuthenticator;
import io.appointmentserver.store.StoreUnavailableException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServlet;
import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServletFactory;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.annotations.OnWebSocketClose;
import org.eclipse.jetty.websocket.api.annotations.OnWebSocketMessage;
import org.eclipse.jetty.websocket.api.annotations.OnWebSocketOpen;
import org.eclipse.jetty.websocket.api.annotations.WebSocket;

/**
 * {@code /websocket}: the DSTU3 Subscription websocket channel. The upgrade request carries the same
 * bearer token as the FHIR API (Authorization header; no token in the URL, which the access log would
 * keep); the client sends {@code bind <id>}, the server answers {@code bound <id>} and then sends
 * {@code ping <id>} per notification; a bad request or a refused bind is answered {@code error <text>}.
 */
final class WebSocketEndpoint extends JettyWebSocketServlet {
  private final transient TokenAuthenticator authenticator;
  private final transient Sockets sockets;
  private final transient ErrorWriter errors;

  WebSocketEndpoint(TokenAuthenticator authenticator, Sockets sockets, ErrorWriter errors) {
    this.authenticator = authenticator;
    this.sockets = sockets;
    this.errors = errors;
  }

  /** A request that is no WebSocket upgrade (any method): a 426 with an OperationOutcome, not the servlet's page. */
  @Override
  protected void service(jakarta.servlet.http.HttpServletRequest req, jakarta.servlet.http.HttpServletResponse resp)
      throws jakarta.servlet.ServletException, java.io.IOException {
    if (!"websocket".equalsIgnoreCase(req.getHeader("Upgrade"))) {
      resp.setHeader("Upgrade", "websocket");
      errors.write(req, resp, 426, org.hl7.fhir.dstu3.model.OperationOutcome.IssueType.NOTSUPPORTED,
          "/websocket takes a WebSocket upgrade (the Subscriptions' websocket channel)");
      return;
    }
    super.service(req, resp);
  }

  @Override
  protected void configure(JettyWebSocketServletFactory factory) {
    // a client bound for a quiet Subscription hears nothing for long: only a dead connection closes
    factory.setIdleTimeout(Duration.ofHours(1));
    factory.setMaxTextMessageSize(4096);
    factory.setCreator((req, resp) -> {
      try {
        Principal user = authenticator.authenticate(req.getHeader("Authorization"));
        req.getHttpServletRequest().setAttribute(AccessLog.USER, user.userId());
        return new Client(user);
      } catch (AuthenticationException | StoreUnavailableException e) {
        resp.sendError(Outcomes.toResponse(e).getStatusCode(), e.getMessage());
        return null;
      }
    });
  }

  /** One connection: its user, and the Subscriptions it bound (forgotten when it closes). */
  @WebSocket
  public final class Client implements Sockets.Socket {
    private final Principal user;
    private volatile Session session;

    Client(Principal user) {
      this.user = user;
    }

    @OnWebSocketOpen
    public void open(Session s) {
      this.session = s;
    }

    @OnWebSocketMessage
    public void message(String text) {
      String[] words = text.trim().split("\\s+");
      if (words.length != 2 || !words[0].equals("bind") || words[1].isEmpty()) {
        reply("error expected 'bind <Subscription id>', got: " + abbreviate(text));
        return;
      }
      String id = words[1].startsWith("Subscription/") ? words[1].substring("Subscription/".length()) : words[1];
      String refusal = sockets.bind(user, id, this);
      reply(refusal == null ? "bound " + id : "error " + refusal);
    }

    @OnWebSocketClose
    public void close(int status, String reason) {
      sockets.unbind(this);
    }

    /** A ping: returns once written, so the outbox forgets it only then. */
    @Override
    public void send(String text) throws Exception {
      Callback.Completable done = new Callback.Completable();
      session.sendText(text, done);
      done.get(10, TimeUnit.SECONDS);
    }

    private void reply(String text) {
      session.sendText(text, Callback.NOOP);
    }
  }

  private static String abbreviate(String text) {
    return text.length() > 100 ? text.substring(0, 100) + "..." : text;
  }
}
