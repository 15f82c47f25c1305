package io.appointmentserver.notify;

import io.appointmentserver.search.IndexRows;
import io.appointmentserver.search.SearchIndex;
import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.store.StoredResource;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Inside every write's transaction: which active Subscriptions the written version matches (their
 * criteria over the index rows the write computed anyway, in memory) and whose owner may read it;
 * their deliveries go into the outbox in the same transaction, with one statement, and none when
 * nothing matched. A Subscription's own write tells every process to read the Subscriptions again.
 * With a broker, every version (deletions too) is also a delivery to {@link ChangeEvents#SUBSCRIBER}.
 */
final class Matcher implements SearchIndex.Watcher {
  private final Subscriptions subscriptions;
  private final AccessPolicy policy;
  private final boolean broker;

  Matcher(Subscriptions subscriptions, AccessPolicy policy, boolean broker) {
    this.subscriptions = subscriptions;
    this.policy = policy;
    this.broker = broker;
  }

  @Override
  public void written(Connection c, StoredResource written, IndexRows rows) throws SQLException {
    if (written.type().equals(Subscriptions.TYPE)) {
      Outbox.subscriptionsChanged(c);
    }
    List<ActiveSubscription> candidates = written.deleted() ? List.of() : subscriptions.of(written.type());
    if (candidates.isEmpty() && !broker) {
      return;
    }
    Instant now = Instant.now();
    List<String> matched = new ArrayList<>();
    if (broker) {
      matched.add(ChangeEvents.SUBSCRIBER);
    }
    for (ActiveSubscription s : candidates) {
      if (s.live(now) && s.criteria().matches(written.id(), written.lastUpdated(), rows)
          && s.mayRead(policy, written.type(), written.tags())) {
        matched.add(s.id());
      }
    }
    if (!matched.isEmpty()) {
      Outbox.record(c, written.type(), written.id(), written.version(), matched);
    }
  }
}
