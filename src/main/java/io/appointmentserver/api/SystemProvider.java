package io.appointmentserver.api;

import ca.uhn.fhir.rest.annotation.Count;
import ca.uhn.fhir.rest.annotation.History;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.Since;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import org.hl7.fhir.dstu3.model.InstantType;

/** Interactions on the whole server: system history. */
public final class SystemProvider {
  private final HistoryQueries history;

  public SystemProvider(HistoryQueries history) {
    this.history = history;
  }

  @History
  public IBundleProvider systemHistory(@Since InstantType since, @Count Integer count, @Offset Integer offset) {
    return history.of(null, null, since, count, offset);
  }
}
