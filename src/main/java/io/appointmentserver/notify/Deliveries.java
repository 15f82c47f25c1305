package io.appointmentserver.notify;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delivery loop: one thread that leases due deliveries from the outbox (any process may, each
 * delivery goes to one of them), sends them on a bounded pool of senders through their
 * Subscription's {@link Channel}, and records the outcome: sent, removed; failed, tried again
 * after a backoff that doubles up to a ceiling; failed {@code attempts} times, the Subscription
 * goes to {@code error}. It sleeps until PostgreSQL tells it (LISTEN, after a commit, in any process)
 * that deliveries wait or Subscriptions changed, or until the poll interval ends.
 */
public final class Deliveries implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Deliveries.class);

  /**
   * {@code senders} threads; a delivery tried {@code attempts} times puts its Subscription in error;
   * retries after {@code retry}, doubling up to {@code retryMax}; a process holds a delivery for
   * {@code lease} (longer than a send may take); the loop looks at least every {@code poll}.
   */
  public record Settings(int senders, int attempts, Duration retry, Duration retryMax, Duration lease, Duration poll) {}

  /** What the loop works with: the pool, a connection of its own for LISTEN, the Subscriptions and channels. */
  record Parts(DataSource pool, Listener listener, Subscriptions subscriptions,
      Map<String, Channel> channels, ChangeEvents events) {}

  /** Opens a connection outside the pool, for LISTEN. */
  @FunctionalInterface
  public interface Listener {
    Connection connect() throws SQLException;
  }

  private final Parts parts;
  private final Settings settings;
  private final SubscriptionStatus status;
  private final ThreadPoolExecutor senders;
  private final Thread loop;
  private volatile boolean running = true;
  private long refreshedAt;
  private boolean refreshDue = true;

  Deliveries(Parts parts, Settings settings, SubscriptionStatus status) {
    this.parts = parts;
    this.settings = settings;
    this.status = status;
    this.senders = new ThreadPoolExecutor(settings.senders(), settings.senders(), 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(BATCH), r -> {
          Thread t = new Thread(r, "subscription-sender");
          t.setDaemon(true);
          return t;
        });
    this.loop = new Thread(this::run, "subscription-deliveries");
    this.loop.setDaemon(true);
  }

  /** The most deliveries one round leases (and so the most tasks the senders' queue holds). */
  static final int BATCH = 256;

  void start() {
    loop.start();
  }

  private void run() {
    Connection listen = null;
    while (running) {
      try {
        if (listen == null) {
          listen = listen();
        }
        if (refreshDue || System.nanoTime() - refreshedAt > settings.poll().toNanos()) {
          // another process's Subscriptions: at once when told, else once per poll interval
          parts.subscriptions().refresh();
          refreshedAt = System.nanoTime();
          refreshDue = false;
        }
        int sent = round();
        if (sent == 0) {
          // nothing due here: wait for a commit's notification or the next look
          PGNotification[] told =
              listen.unwrap(PGConnection.class).getNotifications((int) settings.poll().toMillis());
          for (PGNotification n : told == null ? new PGNotification[0] : told) {
            refreshDue |= n.getName().equals(Outbox.SUBSCRIPTIONS);
          }
        }
      } catch (Exception e) {
        if (running) {
          log.warn("subscription deliveries: {}", e.toString());
          close(listen);
          listen = null;
          sleep(settings.poll());
        }
      }
    }
    close(listen);
  }

  private Connection listen() throws SQLException {
    Connection c = parts.listener().connect();
    c.setAutoCommit(true);
    try (Statement s = c.createStatement()) {
      s.execute("LISTEN " + Outbox.DELIVERIES);
      s.execute("LISTEN " + Outbox.SUBSCRIPTIONS);
    }
    return c;
  }

  /**
   * What one Subscription's deliveries of one resource came to, sent in order: those {@code sent},
   * the one that {@code failed} with {@code error} (null when none did), and those {@code untried} after it.
   */
  private record Outcome(List<Outbox.Leased> sent, Outbox.Leased failed, String error, List<Outbox.Leased> untried) {}

  /** One round: lease, send (each Subscription's deliveries of one resource in order, on one sender), record. */
  private int round() throws Exception {
    List<Outbox.Leased> leased;
    try (Connection c = parts.pool().getConnection()) {
      c.setAutoCommit(true);
      leased = Outbox.lease(c, BATCH, settings.lease().toMillis() / 1000.0);
    }
    if (leased.isEmpty()) {
      return 0;
    }
    Map<String, List<Outbox.Leased>> inOrder = new java.util.LinkedHashMap<>();
    for (Outbox.Leased d : leased) {
      inOrder.computeIfAbsent(d.subscriptionId() + " " + d.type() + "/" + d.id(), k -> new ArrayList<>()).add(d);
    }
    List<Future<Outcome>> outcomes = new ArrayList<>();
    for (List<Outbox.Leased> group : inOrder.values()) {
      outcomes.add(senders.submit(() -> sendInOrder(group)));
    }
    List<Outbox.Leased> done = new ArrayList<>();
    List<Outbox.Leased> released = new ArrayList<>();
    List<Outcome> failed = new ArrayList<>();
    for (Future<Outcome> f : outcomes) {
      Outcome o = f.get();
      done.addAll(o.sent());
      released.addAll(o.untried());
      if (o.failed() != null) {
        failed.add(o);
      }
    }
    try (Connection c = parts.pool().getConnection()) {
      c.setAutoCommit(true);
      Outbox.done(c, done);
      Outbox.release(c, released);
      Set<String> stopped = new HashSet<>();
      for (Outcome o : failed) {
        Outbox.Leased d = o.failed();
        if (o.error() == ELSEWHERE) {
          // no receiver in this process (a websocket bound elsewhere, or nowhere yet): not a failure
          Outbox.postpone(c, d, settings.poll().toMillis() / 1000.0);
          continue;
        }
        boolean broker = d.subscriptionId().equals(ChangeEvents.SUBSCRIBER);
        int attempts = Outbox.failed(c, d, backoff(d.attempts()), o.error());
        // the broker's events are retried until it takes them: nothing is lost while it is down
        if (!broker && !stopped.contains(d.subscriptionId()) && attempts >= settings.attempts()) {
          stopped.add(d.subscriptionId());
          Outbox.drop(c, d.subscriptionId());
          status.error(d.subscriptionId(), "Delivery failed " + settings.attempts() + " times; last: " + o.error());
        }
      }
    }
    return leased.size();
  }

  /** Sends {@code group} in order, stopping at the first failure. */
  private Outcome sendInOrder(List<Outbox.Leased> group) {
    for (int i = 0; i < group.size(); i++) {
      String error = send(group.get(i));
      if (error != null) {
        return new Outcome(group.subList(0, i), group.get(i), error, group.subList(i + 1, group.size()));
      }
    }
    return new Outcome(group, null, null, List.of());
  }

  /** What {@link #send} returns for a delivery whose receiver is not in this process (compared by identity). */
  private static final String ELSEWHERE = new String("elsewhere");

  /** Sends one delivery: null when sent (or no longer wanted), else what went wrong. */
  private String send(Outbox.Leased d) {
    if (d.subscriptionId().equals(ChangeEvents.SUBSCRIBER)) {
      // a process without the broker leaves them (put off) to one that has it
      return parts.events() == null ? "no broker configured in this process" : parts.events().publish(d);
    }
    ActiveSubscription s = parts.subscriptions().get(d.subscriptionId());
    if (s == null || !s.live(Instant.now())) {
      return null; // off, in error, ended or gone: what waited for it is dropped as done
    }
    Channel channel = parts.channels().get(s.channel().type());
    try {
      channel.send(new Channel.Notification(s, d.type(), d.id(), d.version(), d.json()));
      return null;
    } catch (Channel.Elsewhere e) {
      return ELSEWHERE;
    } catch (Exception e) {
      return e.getMessage() == null ? e.toString() : e.getMessage();
    }
  }

  /** Seconds until the next attempt after {@code attempts} failed ones: doubling, up to the ceiling. */
  private double backoff(int attempts) {
    double ms = settings.retry().toMillis() * Math.pow(2, Math.min(attempts, 30));
    return Math.min(ms, settings.retryMax().toMillis()) / 1000.0;
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void close(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // closing anyway
      }
    }
  }

  /** Stops the loop and the senders: a delivery in flight is sent or left to its lease. */
  @Override
  public void close() {
    running = false;
    loop.interrupt();
    senders.shutdown();
    try {
      loop.join(5000);
      senders.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
