package io.appointmentserver.rest;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import io.appointmentserver.interaction.Interactions;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.hapi.rest.server.ServerCapabilityStatementProvider;
import org.hl7.fhir.dstu3.model.OperationDefinition;

/**
 * HAPI's DSTU3 CapabilityStatement provider (the one it uses by default), whose read of {@code OperationDefinition/[id]} answers the
 * definitions it generates for the operations the server binds (the ids /metadata refers to).
 * Its read takes every OperationDefinition read that reaches HAPI; a stored OperationDefinition
 * is read first, so that both the plain JSON read ({@code http.FastRead}: stored first, else
 * HAPI) and every other read (XML, {@code _format}, {@code _elements}) answer the same.
 */
final class OperationDefinitions extends ServerCapabilityStatementProvider {
  private final Interactions interactions;

  OperationDefinitions(RestfulServer server, Interactions interactions) {
    super(server);
    this.interactions = interactions;
  }

  @Override
  public OperationDefinition readOperationDefinition(IdType id, RequestDetails request) {
    try {
      return (OperationDefinition) interactions.read().read("OperationDefinition", id, request);
    } catch (ResourceNotFoundException notStored) {
      return super.readOperationDefinition(id, request);
    }
  }
}
