package io.appointmentserver.rest;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import io.appointmentserver.interaction.DeclaredSurface;
import io.appointmentserver.interaction.Interactions;
import org.hl7.fhir.dstu3.model.CapabilityStatement;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.hapi.rest.server.ServerCapabilityStatementProvider;
import org.hl7.fhir.dstu3.model.OperationDefinition;

/**
 * HAPI's DSTU3 CapabilityStatement provider (the one it uses by default), whose read of {@code OperationDefinition/[id]} answers the
 * definitions it generates for the operations the server binds (the ids /metadata refers to), and
 * a declared surface's operations by their declared ids.
 * Its read takes every OperationDefinition read that reaches HAPI; a stored OperationDefinition
 * is read first, so that both the plain JSON read ({@code http.FastRead}: stored first, else
 * HAPI) and every other read (XML, {@code _format}, {@code _elements}) answer the same.
 */
final class OperationDefinitions extends ServerCapabilityStatementProvider {
  private final Interactions interactions;
  private final DeclaredSurface surface;

  /** {@code surface}: a service's declared operations are read by their declared ids too. */
  OperationDefinitions(RestfulServer server, Interactions interactions, DeclaredSurface surface) {
    super(server);
    this.interactions = interactions;
    this.surface = surface;
  }

  @Override
  public OperationDefinition readOperationDefinition(IdType id, RequestDetails request) {
    try {
      return (OperationDefinition) interactions.read().read("OperationDefinition", id, request);
    } catch (ResourceNotFoundException notStored) {
      DeclaredSurface.Operation declared = surface.operations().stream()
          .filter(o -> o.id().equals(id.getIdPart())).findFirst().orElse(null);
      return declared == null ? super.readOperationDefinition(id, request) : declared(declared, request);
    }
  }

  /**
   * A declared operation ({@code /metadata} refers to it by its declared id, which says its
   * levels): the definition HAPI generates for the method that serves it, at the declared levels.
   */
  private OperationDefinition declared(DeclaredSurface.Operation o, RequestDetails request) {
    CapabilityStatement generated = (CapabilityStatement) getServerConformance(
        request instanceof ServletRequestDetails s ? s.getServletRequest() : null, request);
    String served = generated.getRestFirstRep().getOperation().stream().filter(op -> op.getName().equals(o.name()))
        .map(op -> op.getDefinition().getReference()).filter(ref -> ref.startsWith("OperationDefinition/")).findFirst()
        .orElseThrow(() -> new ResourceNotFoundException(new IdType("OperationDefinition", o.id())));
    OperationDefinition def = super.readOperationDefinition(new IdType(served), request).copy();
    def.setId(o.id());
    def.setSystem(o.levels().contains(DeclaredSurface.Level.SERVER));
    def.setType(o.levels().contains(DeclaredSurface.Level.TYPE));
    def.setInstance(o.levels().contains(DeclaredSurface.Level.INSTANCE));
    if (o.type() != null) {
      def.getResource().clear();
      def.addResource(o.type());
    }
    return def;
  }
}
