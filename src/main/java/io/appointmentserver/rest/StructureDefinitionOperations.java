package io.appointmentserver.rest;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.interaction.Interactions;
import io.appointmentserver.interaction.Snapshot;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.StructureDefinition;
import org.hl7.fhir.dstu3.model.UriType;

/** The operations of StructureDefinition: {@code $snapshot} and eHealth's {@code $generateSnapshot} (see {@link Snapshot}). */
public final class StructureDefinitionOperations {
  private final Interactions interactions;

  StructureDefinitionOperations(Interactions interactions) {
    this.interactions = interactions;
  }

  /** {@code StructureDefinition/$snapshot} and {@code StructureDefinition/[id]/$snapshot}. */
  @Operation(name = "$snapshot", type = StructureDefinition.class, idempotent = true)
  public StructureDefinition snapshot(@IdParam(optional = true) IdType id,
      @OperationParam(name = "definition", max = 1) StructureDefinition definition,
      @OperationParam(name = "url", max = 1) UriType url, RequestDetails request) {
    String idPart = id == null || !id.hasIdPart() ? null : id.getIdPart();
    return interactions.snapshot().snapshot(new Snapshot.Request("$snapshot", idPart, definition,
        url == null ? null : url.getValue()), request);
  }

  /** {@code StructureDefinition/$generateSnapshot}: the eHealth service's name of the type-level {@code $snapshot}. */
  @Operation(name = "$generateSnapshot", type = StructureDefinition.class, idempotent = true)
  public StructureDefinition generateSnapshot(@OperationParam(name = "definition", max = 1) StructureDefinition definition,
      @OperationParam(name = "url", max = 1) UriType url, RequestDetails request) {
    return interactions.snapshot().snapshot(new Snapshot.Request("$generateSnapshot", null, definition,
        url == null ? null : url.getValue()), request);
  }
}
