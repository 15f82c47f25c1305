package io.appointmentserver.notify;

import io.appointmentserver.search.Criteria;
import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.security.ContextRule;
import io.appointmentserver.security.ForbiddenException;
import io.appointmentserver.security.Principal;
import io.appointmentserver.security.Privileges;
import java.time.Instant;
import java.util.List;

/**
 * An active Subscription as the server acts on it: its criteria (read once), its owner, its channel
 * ({@code type}, {@code endpoint}, {@code headers}, {@code payload} mime type or null for none) and
 * its {@code end} (null: none).
 */
record ActiveSubscription(String id, Criteria criteria, Principal owner, ChannelSpec channel, Instant end) {

  /** What a Subscription's channel says. */
  record ChannelSpec(String type, String endpoint, List<String> headers, String payload) {}

  /** Whether the Subscription still delivers at {@code now}. */
  boolean live(Instant now) {
    return end == null || now.isBefore(end);
  }

  /** Whether the owner could read a resource of {@code type} with access {@code tags}: a search by them would show it. */
  boolean mayRead(AccessPolicy policy, String type, String[] tags) {
    if (!Privileges.allows(owner.roles(), type, Privileges.Op.READ)
        && !Privileges.allows(owner.roles(), type, Privileges.Op.SEARCH)) {
      return false;
    }
    try {
      ContextRule rule = policy.rule(owner, type);
      return rule == null || rule.allows(tags);
    } catch (ForbiddenException e) {
      return false; // the owner has no context
    }
  }
}
