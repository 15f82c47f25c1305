package io.appointmentserver.rest;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import io.appointmentserver.plugin.Plugins;
import org.hl7.fhir.dstu3.model.CapabilityStatement;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.hl7.fhir.instance.model.api.IBaseConformance;

/** The CapabilityStatement without the interactions a type's plug-in refuses (405): it lists what works. */
final class RefusedInteractions {
  private final Plugins plugins;

  RefusedInteractions(Plugins plugins) {
    this.plugins = plugins;
  }

  @Hook(Pointcut.SERVER_CAPABILITY_STATEMENT_GENERATED)
  public void generated(IBaseConformance statement) {
    if (!(statement instanceof CapabilityStatement cs)) {
      return;
    }
    for (CapabilityStatement.CapabilityStatementRestComponent rest : cs.getRest()) {
      for (CapabilityStatementRestResourceComponent resource : rest.getResource()) {
        resource.getInteraction().removeIf(i -> i.getCode() != null
            && plugins.of(resource.getType()).refuses(RestOperationTypeEnum.forCode(i.getCode().toCode())));
      }
    }
  }
}
