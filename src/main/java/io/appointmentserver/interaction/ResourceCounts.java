package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.store.ResourceStore;
import java.util.Map;
import org.hl7.fhir.dstu3.model.IntegerType;
import org.hl7.fhir.dstu3.model.Parameters;

/**
 * {@code GET [base]/$get-resource-counts} (as HAPI's servers have it): how many resources of each
 * type the server holds now, one {@code valueInteger} parameter per type that has any. For SYSTEM
 * users (with the {@code $get-resource-counts} privilege): the counts are of the whole server,
 * which no context narrows.
 */
public final class ResourceCounts {
  static final String NAME = "$get-resource-counts";

  private final ResourceStore store;
  private final Access access;

  ResourceCounts(ResourceStore store, Access access) {
    this.store = store;
    this.access = access;
  }

  public Parameters counts(RequestDetails request) {
    Access.requireSystem(request, NAME, "the counts are of the whole server");
    Parameters out = new Parameters();
    for (Map.Entry<String, Long> e : store.history().counts().entrySet()) {
      out.addParameter().setName(e.getKey()).setValue(new IntegerType((int) Math.min(e.getValue(), Integer.MAX_VALUE)));
    }
    access.auditedOperation(request, NAME, null, null, new String[0]);
    return out;
  }
}
