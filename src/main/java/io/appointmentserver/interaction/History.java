package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import io.appointmentserver.security.ForbiddenException;
import io.appointmentserver.security.Principal;
import io.appointmentserver.security.Principal.UserType;
import io.appointmentserver.security.Privileges;
import io.appointmentserver.security.Privileges.Op;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoredResource;
import java.util.Set;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.InstantType;

/**
 * <a href="https://hl7.org/fhir/STU3/http.html#history">history</a> of a resource, a type and the
 * whole server, paged by {@link HistoryQueries}, with the user's context inside its SQL.
 */
public final class History {
  /** The page a history or search returns unless {@code _count} says otherwise. */
  public static final int DEFAULT_PAGE_SIZE = HistoryQueries.DEFAULT_PAGE_SIZE;
  /** The largest page a history or search returns. */
  public static final int MAX_PAGE_SIZE = HistoryQueries.MAX_PAGE_SIZE;

  private final ResourceStore store;
  private final HistoryQueries history;
  private final Access access;

  History(ResourceStore store, HistoryQueries history, Access access) {
    this.store = store;
    this.history = history;
    this.access = access;
  }

  /** The paging controls of a history request. */
  public record Paging(InstantType since, Integer count, Integer offset) {}

  /** history-instance: the resource must exist and be within the user's context. */
  public IBundleProvider instance(String type, IdType id, Paging paging, RequestDetails request) {
    String idPart = Ids.check(id.getIdPart());
    StoredResource current = store.reads().read(type, idPart);
    if (current == null) {
      throw new ResourceNotFoundException(id);
    }
    access.check(request, type, current.tags());
    return history.of(request, HistoryQueries.Target.resource(type, idPart), paging, access.filter(request, type),
        tags -> access.audited(request, "history-instance", type, type + "/" + idPart, tags));
  }

  /** history-type: the versions within the user's context. */
  public IBundleProvider type(String type, Paging paging, RequestDetails request) {
    return history.of(request, HistoryQueries.Target.type(type), paging, access.filter(request, type),
        tags -> access.audited(request, "history-type", type, null, tags));
  }

  /**
   * history-all, for SYSTEM users only (others act within a context, which the history of the
   * whole server cannot honour type by type), limited to the types they may search.
   */
  public IBundleProvider system(Set<String> resourceTypes, Paging paging, RequestDetails request) {
    Principal p = Access.principal(request);
    if (p.userType() != UserType.SYSTEM) {
      throw new ForbiddenException("SECURITY_TOKEN_INSUFFICIENT_PERMISSION: Insufficient permission for search"
          + " of the whole server's history");
    }
    String[] types = resourceTypes.stream().filter(t -> Privileges.allows(p.roles(), t, Op.SEARCH))
        .sorted().toArray(String[]::new);
    // SYSTEM users are not audited
    return history.of(request, HistoryQueries.Target.system(types), paging, null, tags -> { });
  }
}
