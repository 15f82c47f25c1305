package io.appointmentserver.notify;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import ca.uhn.fhir.util.UrlUtil;
import io.appointmentserver.plugin.OperationContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.Parameters;
import org.hl7.fhir.dstu3.model.StringType;
import org.hl7.fhir.dstu3.model.Subscription;
import org.hl7.fhir.dstu3.model.UriType;

/**
 * {@code Subscription/[id]/$trigger-subscription} (as HAPI's): the resources named by
 * {@code resourceId} (repeatable) or selected by {@code searchUrl} are sent to that Subscription
 * now, through the outbox as any notification, those its owner may read only. Privilege
 * {@code Subscription$trigger-subscription}; the Subscription is read with a read's checks.
 */
public final class TriggerSubscription {
  static final String NAME = "$trigger-subscription";
  /** The most resources one searchUrl sends. */
  static final int MAX_PER_SEARCH = 1000;

  private final OperationContext server;
  private final Notifications notifications;

  TriggerSubscription(OperationContext server, Notifications notifications) {
    this.server = server;
    this.notifications = notifications;
  }

  @Operation(name = NAME, type = Subscription.class, idempotent = false)
  public Parameters trigger(@IdParam IdType id,
      @OperationParam(name = "resourceId", min = 0, max = OperationParam.MAX_UNLIMITED) List<UriType> resourceIds,
      @OperationParam(name = "searchUrl", min = 0, max = OperationParam.MAX_UNLIMITED) List<StringType> searchUrls,
      RequestDetails request) {
    server.read(request, Subscriptions.TYPE, id.getIdPart(), NAME);
    boolean none = (resourceIds == null || resourceIds.isEmpty()) && (searchUrls == null || searchUrls.isEmpty());
    if (none) {
      throw new InvalidRequestException(NAME + " needs resourceId or searchUrl");
    }
    ActiveSubscription s = notifications.subscriptions().get(id.getIdPart());
    if (s == null) {
      throw new UnprocessableEntityException("Subscription/" + id.getIdPart() + " is not active");
    }
    List<OperationContext.Stored> found = new ArrayList<>();
    List<String> types = new ArrayList<>();
    for (UriType r : resourceIds == null ? List.<UriType>of() : resourceIds) {
      IdType rid = new IdType(r.getValue());
      if (!rid.hasResourceType() || !rid.hasIdPart()) {
        throw new InvalidRequestException("resourceId must be Type/id, not " + r.getValue());
      }
      List<OperationContext.Stored> one = find(rid.getResourceType(), Map.of("_id", new String[] {rid.getIdPart()}), 1);
      if (one.isEmpty()) {
        throw new UnprocessableEntityException("resourceId " + r.getValue() + " is not a resource here");
      }
      found.addAll(one);
      types.add(rid.getResourceType());
    }
    for (StringType u : searchUrls == null ? List.<StringType>of() : searchUrls) {
      String url = u.getValue() == null ? "" : u.getValue();
      int q = url.indexOf('?');
      String type = q < 0 ? url : url.substring(0, q);
      List<OperationContext.Stored> all = find(type, q < 0 ? Map.of() : UrlUtil.parseQueryString(url.substring(q + 1)),
          MAX_PER_SEARCH);
      found.addAll(all);
      all.forEach(x -> types.add(type));
    }
    int sent = notifications.trigger(s, found, types);
    Parameters out = new Parameters();
    out.addParameter().setName("information").setValue(new StringType(
        "Triggered " + sent + " resource" + (sent == 1 ? "" : "s") + " for Subscription/" + id.getIdPart()));
    return out;
  }

  private List<OperationContext.Stored> find(String type, Map<String, String[]> criteria, int limit) {
    try {
      return server.find(type, criteria, limit);
    } catch (io.appointmentserver.search.InvalidSearchException e) {
      throw new InvalidRequestException("searchUrl: " + e.getMessage());
    }
  }
}
