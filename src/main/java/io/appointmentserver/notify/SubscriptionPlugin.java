package io.appointmentserver.notify;

import io.appointmentserver.plugin.OperationContext;
import io.appointmentserver.plugin.Operations;
import io.appointmentserver.plugin.RuleViolation;
import io.appointmentserver.plugin.TypePlugin;
import io.appointmentserver.search.InvalidSearchException;
import io.appointmentserver.security.Principal;
import java.util.List;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Subscription;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The Subscription type: a create or update is refused (422) unless the server can serve it
 * (criteria it can evaluate, a channel it has, an endpoint it may call); a {@code requested}
 * Subscription is accepted as {@code active} at once; the writer becomes its {@link Owner}.
 * After a commit the Subscriptions are read again; {@code $trigger-subscription} is its operation.
 */
final class SubscriptionPlugin implements TypePlugin {
  private final Notifications notifications;

  SubscriptionPlugin(Notifications notifications) {
    this.notifications = notifications;
  }

  @Override
  public String type() {
    return Subscriptions.TYPE;
  }

  @Override
  public void checkContent(IBaseResource resource, Principal writer) {
    Subscription s = (Subscription) resource;
    try {
      notifications.criteria(s.getCriteria());
    } catch (InvalidSearchException e) {
      throw new RuleViolation(IssueType.NOTSUPPORTED, "Subscription.criteria: " + e.getMessage());
    }
    Subscription.SubscriptionChannelComponent ch = s.getChannel();
    String type = ch.getType() == null ? null : ch.getType().toCode();
    Channel channel = type == null ? null : notifications.channels().get(type);
    if (channel == null) {
      throw new RuleViolation(IssueType.NOTSUPPORTED, "Subscription.channel.type " + type
          + " is not served here (served: " + String.join(", ", notifications.channels().keySet()) + ")");
    }
    String refusal = channel.refusal(new ActiveSubscription.ChannelSpec(type, ch.getEndpoint(),
        ch.getHeader().stream().map(h -> h.getValue()).toList(),
        ch.getPayload() == null || ch.getPayload().isBlank() ? null : ch.getPayload().trim()));
    if (refusal != null) {
      throw new RuleViolation(IssueType.BUSINESSRULE, refusal);
    }
    if (s.getStatus() == null || s.getStatus() == Subscription.SubscriptionStatus.REQUESTED) {
      s.setStatus(Subscription.SubscriptionStatus.ACTIVE); // accepted: the server can serve it
    }
    if (s.getStatus() == Subscription.SubscriptionStatus.ACTIVE) {
      s.setError(null);
    }
    if (writer != null) {
      Owner.set(s, writer);
    }
  }

  @Override
  public void afterCommit() {
    notifications.subscriptions().refresh();
  }

  @Override
  public boolean watchesCommits() {
    return true;
  }

  @Override
  public Operations operations(OperationContext context) {
    return new Operations(List.of(new TriggerSubscription(context, notifications)), java.util.Map.of());
  }
}
