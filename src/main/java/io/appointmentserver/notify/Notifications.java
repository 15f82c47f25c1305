package io.appointmentserver.notify;

import ca.uhn.fhir.context.FhirContext;
import io.appointmentserver.plugin.OperationContext;
import io.appointmentserver.plugin.TypePlugin;
import io.appointmentserver.search.Criteria;
import io.appointmentserver.search.SearchIndex;
import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.store.ResourceStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * DSTU3 Subscriptions, as the wiring holds them: the Subscription {@link #plugin}, the
 * {@link #matcher} that records notifications in the outbox inside each write's transaction, and
 * the delivery loop ({@link #start}, {@link #close}). The channels are registered here by type;
 * another channel, or another consumer of the outbox's changes, plugs in beside {@link RestHook}.
 */
public final class Notifications implements AutoCloseable {
  /** What the Subscriptions use of the server: the model, the store, the database, criteria as the search reads them. */
  public record Parts(FhirContext ctx, ResourceStore store, DataSource pool, Deliveries.Listener listener,
      Function<String, Criteria> criteria) {}

  /**
   * The settings ({@code FHIR_SUBSCRIPTION_*}): the endpoint prefixes rest-hooks may call, the
   * delivery loop's settings, the bytes of Subscriptions held in memory, and the broker change events
   * go to ({@code FHIR_BROKER_*}; null: none).
   */
  public record Settings(List<String> endpoints, Deliveries.Settings delivery, long maxBytes,
      ChangeEvents.Settings broker) {
    /** The delivery loop's settings; it looks for due deliveries at least once a second. */
    public static Deliveries.Settings delivery(int senders, int attempts, Duration retry, Duration retryMax,
        Duration lease) {
      return new Deliveries.Settings(senders, attempts, retry, retryMax, lease, Duration.ofSeconds(1));
    }
  }

  private final Parts parts;
  private final Subscriptions subscriptions;
  private final Map<String, Channel> channels;
  private final Deliveries deliveries;
  private final ChangeEvents events;
  private final Sockets sockets;
  /** What the owners may read: set by {@link #bind}, once the plug-ins are registered. */
  private volatile AccessPolicy policy;

  public Notifications(Parts parts, Settings settings) {
    this.parts = parts;
    this.subscriptions = new Subscriptions(parts.store().history(), parts.ctx(), parts.criteria(), settings.maxBytes());
    // a send may take at most a third of the lease, so that no other process takes it over meanwhile
    RestHook restHook = new RestHook(parts.ctx(), settings.endpoints(), settings.delivery().lease().dividedBy(3));
    this.sockets = new Sockets(subscriptions, parts.pool());
    WebSocketChannel webSocket = new WebSocketChannel(sockets);
    this.channels = Map.of(restHook.type(), restHook, webSocket.type(), webSocket);
    this.events = settings.broker() == null ? null : new ChangeEvents(settings.broker(), parts.pool());
    this.deliveries = new Deliveries(new Deliveries.Parts(parts.pool(), parts.listener(), subscriptions,
        channels, events), settings.delivery(), new SubscriptionStatus(parts.store(), parts.ctx(), subscriptions));
  }

  /** The WebSockets bound here (the {@code websocket} channel's receivers). */
  public Sockets sockets() {
    return sockets;
  }

  /** The Subscription type's plug-in. */
  public TypePlugin plugin() {
    return new SubscriptionPlugin(this);
  }

  /** Reads the Subscriptions and starts the delivery loop. */
  public void start() {
    subscriptions.refresh();
    deliveries.start();
  }

  @Override
  public void close() {
    deliveries.close();
    if (events != null) {
      events.close();
    }
  }

  Criteria criteria(String criteria) {
    return parts.criteria().apply(criteria);
  }

  Map<String, Channel> channels() {
    return channels;
  }

  Subscriptions subscriptions() {
    return subscriptions;
  }

  /** Queues {@code found} (of {@code types}, in order) for {@code s}, those its owner may read; returns how many. */
  int trigger(ActiveSubscription s, List<OperationContext.Stored> found, List<String> types) {
    if (!s.live(Instant.now())) {
      return 0;
    }
    int n = 0;
    try (Connection c = parts.pool().getConnection()) {
      c.setAutoCommit(true);
      for (int i = 0; i < found.size(); i++) {
        OperationContext.Stored r = found.get(i);
        if (policy != null && s.mayRead(policy, types.get(i), r.tags())) {
          Outbox.record(c, types.get(i), r.id(), r.version(), List.of(s.id()));
          n++;
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return n;
  }

  /**
   * Makes every write of {@code index} match against the Subscriptions, the owners' reads checked
   * with {@code policy} (the plug-ins', known once they are registered).
   */
  public void bind(SearchIndex index, AccessPolicy policy) {
    this.policy = policy;
    index.watch(new Matcher(subscriptions, policy, events != null));
  }
}
