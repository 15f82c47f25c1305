package io.appointmentserver.api;

import ca.uhn.fhir.rest.annotation.Count;
import ca.uhn.fhir.rest.annotation.History;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.Since;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.security.ForbiddenException;
import io.appointmentserver.security.Principal;
import io.appointmentserver.security.Principal.UserType;
import io.appointmentserver.security.Privileges;
import io.appointmentserver.security.Privileges.Op;
import java.util.Set;
import org.hl7.fhir.dstu3.model.InstantType;

/** Interactions on the whole server: system history. */
public final class SystemProvider {
  private final HistoryQueries history;
  private final Set<String> resourceTypes;

  public SystemProvider(HistoryQueries history, Set<String> resourceTypes) {
    this.history = history;
    this.resourceTypes = resourceTypes;
  }

  /**
   * System history, for SYSTEM users only (others act within a context, which the history of the
   * whole server cannot honour type by type), limited to the types they may search.
   */
  @History
  public IBundleProvider systemHistory(@Since InstantType since, @Count Integer count, @Offset Integer offset,
      RequestDetails request) {
    Principal p = Access.principal(request);
    if (p.userType() != UserType.SYSTEM) {
      throw new ForbiddenException("SECURITY_TOKEN_INSUFFICIENT_PERMISSION: Insufficient permission for search"
          + " of the whole server's history");
    }
    String[] types = resourceTypes.stream().filter(t -> Privileges.allows(p.roles(), t, Op.SEARCH))
        .sorted().toArray(String[]::new);
    return history.of(request, null, null, types, since, count, offset, null, tags -> { }); // SYSTEM users are not audited
  }
}
