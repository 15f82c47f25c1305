package io.appointmentserver.notify;

import ca.uhn.fhir.context.FhirContext;
import io.appointmentserver.search.Criteria;
import io.appointmentserver.search.InvalidSearchException;
import io.appointmentserver.store.ResourceHistory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.hl7.fhir.dstu3.model.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The active Subscriptions, in memory and grouped by the type their criteria select, so that a write
 * asks only those of its type and no query. Read again from the database when the fingerprint of the
 * stored Subscriptions changed (a Subscription written here, or by another process: see
 * {@code ConformanceResources}). Bounded by the bytes of the Subscriptions it holds: beyond, the
 * rest are left out and the log says so.
 */
final class Subscriptions {
  static final String TYPE = "Subscription";
  private static final Logger log = LoggerFactory.getLogger(Subscriptions.class);

  private record Snapshot(String fingerprint, Map<String, List<ActiveSubscription>> byType,
      Map<String, ActiveSubscription> byId) {}

  private final ResourceHistory history;
  private final FhirContext ctx;
  private final Function<String, Criteria> criteria;
  private final long maxBytes;
  private volatile Snapshot current = new Snapshot(null, Map.of(), Map.of());

  Subscriptions(ResourceHistory history, FhirContext ctx, Function<String, Criteria> criteria, long maxBytes) {
    this.history = history;
    this.ctx = ctx;
    this.criteria = criteria;
    this.maxBytes = maxBytes;
  }

  /** The active Subscriptions whose criteria select {@code type}. */
  List<ActiveSubscription> of(String type) {
    return current.byType().getOrDefault(type, List.of());
  }

  /** The active Subscription {@code id}, or null. */
  ActiveSubscription get(String id) {
    return current.byId().get(id);
  }

  /** Reads them again if the stored Subscriptions changed since the last time. */
  synchronized void refresh() {
    String fingerprint = history.fingerprint(List.of(TYPE));
    if (fingerprint.equals(current.fingerprint())) {
      return;
    }
    Map<String, List<ActiveSubscription>> byType = new HashMap<>();
    Map<String, ActiveSubscription> byId = new HashMap<>();
    long bytes = 0;
    for (ResourceHistory.Current c : history.changedSince(List.of(TYPE), Instant.EPOCH)) {
      if (c.deleted() || c.json() == null) {
        continue;
      }
      bytes += c.json().length();
      if (bytes > maxBytes) {
        log.warn("The active Subscriptions take more than {} bytes: those beyond are not served", maxBytes);
        break;
      }
      ActiveSubscription a = active(c.id(), ctx.newJsonParser().parseResource(Subscription.class, c.json()));
      if (a != null) {
        byType.computeIfAbsent(a.criteria().type(), t -> new ArrayList<>()).add(a);
        byId.put(a.id(), a);
      }
    }
    current = new Snapshot(fingerprint, Map.copyOf(byType), Map.copyOf(byId));
  }

  private ActiveSubscription active(String id, Subscription s) {
    if (s.getStatus() != Subscription.SubscriptionStatus.ACTIVE || Owner.of(s) == null) {
      return null;
    }
    try {
      Subscription.SubscriptionChannelComponent ch = s.getChannel();
      return new ActiveSubscription(id, criteria.apply(s.getCriteria()), Owner.of(s),
          new ActiveSubscription.ChannelSpec(ch.getType() == null ? null : ch.getType().toCode(), ch.getEndpoint(),
              ch.getHeader().stream().map(h -> h.getValue()).toList(),
              ch.getPayload() == null || ch.getPayload().isBlank() ? null : ch.getPayload().trim()),
          s.getEnd() == null ? null : s.getEnd().toInstant());
    } catch (InvalidSearchException e) {
      // accepted once, no longer evaluable (a search parameter was removed since): it notifies no one
      log.warn("Subscription/{}: criteria no longer evaluable: {}", id, e.getMessage());
      return null;
    }
  }
}
