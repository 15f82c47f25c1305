package io.appointmentserver.notify;

import io.appointmentserver.security.Principal;
import io.appointmentserver.security.Privileges;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;

/**
 * The WebSockets bound to Subscriptions in this process (DSTU3 {@code bind <id>}): what the
 * {@link WebSocketChannel} pings. A socket binds a Subscription its user owns, or any when the user
 * is a SYSTEM user with the {@code Subscription.read} privilege. Binding makes what waits for that
 * Subscription due now, so a client that reconnects hears of what happened while it was away.
 */
public final class Sockets {
  /** A connected client: {@code send} returns once the frame is written, throws when it was not. */
  public interface Socket {
    void send(String text) throws Exception;
  }

  private final Subscriptions subscriptions;
  private final DataSource pool;
  private final Map<String, Set<Socket>> bound = new ConcurrentHashMap<>();

  Sockets(Subscriptions subscriptions, DataSource pool) {
    this.subscriptions = subscriptions;
    this.pool = pool;
  }

  /** Binds {@code socket} to Subscription {@code id} for {@code caller}: null when bound, else why not. */
  public String bind(Principal caller, String id, Socket socket) {
    ActiveSubscription s = subscriptions.get(id);
    if (s == null || !WebSocketChannel.TYPE.equals(s.channel().type())) {
      return "Subscription/" + id + " is no active websocket Subscription";
    }
    if (!owns(caller, s.owner()) && !(caller.userType() == Principal.UserType.SYSTEM
        && Privileges.allows(caller.roles(), Subscriptions.TYPE, Privileges.Op.READ))) {
      return "Subscription/" + id + " is not yours to bind";
    }
    bound.computeIfAbsent(id, k -> ConcurrentHashMap.newKeySet()).add(socket);
    try (Connection c = pool.getConnection()) {
      c.setAutoCommit(true);
      Outbox.wake(c, id);
    } catch (SQLException e) {
      // bound all the same: what waits goes out at its own time
    }
    return null;
  }

  private static boolean owns(Principal caller, Principal owner) {
    return caller.userType() == owner.userType() && java.util.Objects.equals(caller.subject(), owner.subject())
        && java.util.Objects.equals(caller.userId(), owner.userId());
  }

  /** Forgets {@code socket} (closed). */
  public void unbind(Socket socket) {
    bound.values().forEach(sockets -> sockets.remove(socket));
    bound.values().removeIf(Set::isEmpty);
  }

  /** Sends {@code ping <id>} to every socket bound to {@code id} here: whether at least one got it. */
  boolean ping(String id) {
    boolean sent = false;
    for (Socket socket : bound.getOrDefault(id, Set.of())) {
      try {
        socket.send("ping " + id);
        sent = true;
      } catch (Exception e) {
        unbind(socket); // gone: the others (or a later bind) get it
      }
    }
    return sent;
  }
}
