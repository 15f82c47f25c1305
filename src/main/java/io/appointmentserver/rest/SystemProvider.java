package io.appointmentserver.rest;

import ca.uhn.fhir.rest.annotation.Count;
import ca.uhn.fhir.rest.annotation.History;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.annotation.Since;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.Set;
import io.appointmentserver.interaction.Interactions;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.InstantType;
import org.hl7.fhir.dstu3.model.Parameters;

/** Interactions on the whole server: system search, system history, {@code $get-resource-counts}. */
public final class SystemProvider {
  private final Interactions interactions;
  private final Set<String> resourceTypes;

  SystemProvider(Interactions interactions, Set<String> resourceTypes) {
    this.interactions = interactions;
    this.resourceTypes = resourceTypes;
  }

  /**
   * search-system, GET {@code [base]?params} and POST {@code [base]/_search} (see
   * {@link io.appointmentserver.interaction.Searches#searchSystem}): every parameter is read by the search.
   */
  @Search(allowUnknownParams = true)
  public Bundle search(RequestDetails request) {
    return interactions.search().searchSystem(request, StoredResponses.plainJson(request));
  }

  /** history-all (see {@link io.appointmentserver.interaction.History#system}). */
  @History
  public IBundleProvider systemHistory(@Since InstantType since, @Count Integer count, @Offset Integer offset,
      RequestDetails request) {
    return interactions.history().system(resourceTypes,
        new io.appointmentserver.interaction.History.Paging(since, count, offset), request);
  }

  /** {@code $get-resource-counts} (see {@link io.appointmentserver.interaction.ResourceCounts}). */
  @Operation(name = "$get-resource-counts", idempotent = true)
  public Parameters resourceCounts(RequestDetails request) {
    return interactions.counts().counts(request);
  }
}
