package io.appointmentserver.notify;

import ca.uhn.fhir.context.FhirContext;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoredResource;
import io.appointmentserver.store.VersionConflictException;
import io.appointmentserver.store.Write;
import java.util.Date;
import java.util.Set;
import org.hl7.fhir.dstu3.model.InstantType;
import org.hl7.fhir.dstu3.model.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's own change of a Subscription: to {@code error}, with the reason, after repeated
 * delivery failure. A new version through the store (as every version), with the access tags of the
 * one it replaces; the Subscriptions are read again in every process (its write notifies them).
 */
final class SubscriptionStatus {
  private static final Logger log = LoggerFactory.getLogger(SubscriptionStatus.class);

  private final ResourceStore store;
  private final FhirContext ctx;
  private final Subscriptions subscriptions;

  SubscriptionStatus(ResourceStore store, FhirContext ctx, Subscriptions subscriptions) {
    this.store = store;
    this.ctx = ctx;
    this.subscriptions = subscriptions;
  }

  void error(String id, String error) {
    StoredResource current = store.reads().read(Subscriptions.TYPE, id);
    if (current == null || current.deleted() || current.json() == null) {
      return;
    }
    Subscription s = ctx.newJsonParser().parseResource(Subscription.class, current.json());
    if (s.getStatus() != Subscription.SubscriptionStatus.ACTIVE) {
      return;
    }
    s.setStatus(Subscription.SubscriptionStatus.ERROR).setError(error);
    Write.Renderer renderer = (rid, version, lastUpdated) -> {
      s.setId(Subscriptions.TYPE + "/" + rid + "/_history/" + version);
      s.getMeta().setVersionId(String.valueOf(version)).setLastUpdatedElement(new InstantType(Date.from(lastUpdated)));
      return ctx.newJsonParser().encodeResourceToString(s);
    };
    try {
      store.writes().update(new Write(new Write.Target(Subscriptions.TYPE, id, current.version()),
          new Write.Content(renderer, s, current.tags(), Set.of(), null), Write.Guard.NONE, Write.AuditTrail.NONE));
      log.warn("Subscription/{} is now in error: {}", id, error);
    } catch (VersionConflictException e) {
      log.info("Subscription/{} changed while it was put in error: left as it is now", id);
    }
    subscriptions.refresh();
  }
}
