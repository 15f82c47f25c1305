package io.appointmentserver.rest;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import io.appointmentserver.interaction.DeclaredSurface;
import io.appointmentserver.search.SearchQuery;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.hl7.fhir.dstu3.model.CapabilityStatement;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestComponent;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestOperationComponent;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.hl7.fhir.dstu3.model.CapabilityStatement.ConditionalDeleteStatus;
import org.hl7.fhir.dstu3.model.PrimitiveType;
import org.hl7.fhir.dstu3.model.Reference;
import org.hl7.fhir.instance.model.api.IBaseConformance;

/**
 * The CapabilityStatement of a service that declares its surface ({@code FHIR_SERVICE=patient}):
 * that surface in place of the generated statement, less what this server does not do (an
 * operation it lacks, a search parameter it cannot answer, {@code $expunge} while it is off),
 * since the generated statement is what this server does. Runs after the other statement hooks
 * (search parameters, security, batch), whose corrections it keeps where the surface has the
 * same thing. The general server's statement is left as generated.
 */
final class DeclaredCapabilities {
  private final DeclaredSurface surface;
  private final boolean expunge;

  /** {@code expunge}: whether {@code $expunge} is served (off, it answers 405 and is not listed). */
  DeclaredCapabilities(DeclaredSurface surface, boolean expunge) {
    this.surface = surface;
    this.expunge = expunge;
  }

  @Hook(value = Pointcut.SERVER_CAPABILITY_STATEMENT_GENERATED, order = 1000)
  public void generated(IBaseConformance statement) {
    if (statement instanceof CapabilityStatement cs && !surface.all()) {
      declared(cs);
    }
  }

  /** {@code cs} (what the server does) becomes the declared surface, less what it does not do. */
  private void declared(CapabilityStatement cs) {
    DeclaredSurface served = DeclaredSurface.of(cs);
    CapabilityStatement declared = surface.statement();
    CapabilityStatementRestComponent want = declared.getRestFirstRep();
    CapabilityStatementRestComponent rest = cs.getRestFirstRep();
    Map<String, CapabilityStatementRestResourceComponent> generated = rest.getResource().stream()
        .collect(Collectors.toMap(CapabilityStatementRestResourceComponent::getType, Function.identity()));
    List<CapabilityStatementRestResourceComponent> resources = new ArrayList<>();
    for (CapabilityStatementRestResourceComponent d : want.getResource()) {
      String type = d.getType();
      CapabilityStatementRestResourceComponent g = generated.get(type);
      CapabilityStatementRestResourceComponent r = d.copy();
      r.getExtension().clear(); // the eHealth database's resource counts
      r.getInteraction().removeIf(i -> !served.declaresInteraction(type, i.getCode().toCode()));
      r.getSearchParam().removeIf(p -> !served.declaresSearchParameter(type, p.getName())
          && !p.getName().equals(SearchQuery.HAS));
      r.getSearchInclude().removeIf(i -> !contains(g.getSearchInclude(), i));
      r.getSearchRevInclude().removeIf(i -> !contains(g.getSearchRevInclude(), i));
      if (r.getConditionalDelete() == ConditionalDeleteStatus.MULTIPLE && g.getConditionalDelete() != r.getConditionalDelete()) {
        r.setConditionalDelete(g.getConditionalDelete()); // FHIR_CONDITIONAL_DELETE_MULTIPLE is off
      }
      resources.add(r);
    }
    rest.setResource(resources);
    rest.getInteraction().removeIf(i -> !surface.declaresInteraction(null, i.getCode().toCode()));
    List<CapabilityStatementRestOperationComponent> operations = new ArrayList<>();
    for (DeclaredSurface.Operation o : surface.operations()) {
      if (served.serves(o) && (expunge || !o.name().equals("expunge"))) {
        // the declared definition's id, which says the levels, relative to this server as HAPI writes its own
        operations.add(new CapabilityStatementRestOperationComponent().setName(o.name())
            .setDefinition(new Reference("OperationDefinition/" + o.id())));
      }
    }
    rest.setOperation(operations);
    cs.setProfile(declared.getProfile());
    cs.getInstantiates().clear();
    cs.addInstantiates(declared.getUrl());
  }

  private static boolean contains(List<? extends PrimitiveType<String>> values, PrimitiveType<String> value) {
    return values.stream().anyMatch(v -> v.getValue().equals(value.getValue()));
  }
}
