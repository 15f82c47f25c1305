package io.appointmentserver.ehealth;

import io.appointmentserver.plugin.TypePlugin;
import io.appointmentserver.security.AccessPolicy;

/**
 * The eHealth RelatedPerson
 * (<a href="http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-relatedperson">ehealth-relatedperson</a>)
 * as the patient service has it: every interaction, as the generic server does them. The profile
 * states no invariant and names no care team or episode of care (its cardinalities, slices and
 * bindings are the validator's), so what a plug-in adds is who may see it: the patient it belongs
 * to ({@code RelatedPerson.patient}, its Patient compartment), for citizens and practitioners
 * with a patient in context alike ({@link CareContext#patientRule}).
 */
public final class RelatedPersonPlugin implements TypePlugin {
  @Override
  public String type() {
    return "RelatedPerson";
  }

  @Override
  public AccessPolicy.TypePolicy accessPolicy() {
    return CareContext::patientRule;
  }
}
