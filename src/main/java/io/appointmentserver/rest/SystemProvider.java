package io.appointmentserver.rest;

import ca.uhn.fhir.rest.annotation.Count;
import ca.uhn.fhir.rest.annotation.History;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.Since;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.Set;
import io.appointmentserver.interaction.Interactions;
import org.hl7.fhir.dstu3.model.InstantType;
import org.hl7.fhir.dstu3.model.Parameters;

/** Interactions on the whole server: system history, {@code $get-resource-counts}. */
public final class SystemProvider {
  private final Interactions interactions;
  private final Set<String> resourceTypes;

  SystemProvider(Interactions interactions, Set<String> resourceTypes) {
    this.interactions = interactions;
    this.resourceTypes = resourceTypes;
  }

  /** history-all (see {@link io.appointmentserver.interaction.History#system}). */
  @History
  public IBundleProvider systemHistory(@Since InstantType since, @Count Integer count, @Offset Integer offset,
      RequestDetails request) {
    return interactions.history().system(resourceTypes,
        new io.appointmentserver.interaction.History.Paging(since, count, offset), request);
  }

  /** {@code [base]/$meta}: the tags, security labels and profiles in use on what the user may see. */
  @Operation(name = "$meta", idempotent = true)
  public Parameters meta(RequestDetails request) {
    return interactions.meta().inUse(null, resourceTypes, request);
  }

  /** {@code $get-resource-counts} (see {@link io.appointmentserver.interaction.ResourceCounts}). */
  @Operation(name = "$get-resource-counts", idempotent = true)
  public Parameters resourceCounts(RequestDetails request) {
    return interactions.counts().counts(request);
  }
}
