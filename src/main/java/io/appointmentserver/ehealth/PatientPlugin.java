package io.appointmentserver.ehealth;

import io.appointmentserver.plugin.OperationContext;
import io.appointmentserver.plugin.Operations;
import io.appointmentserver.plugin.TypePlugin;
import java.util.List;
import java.util.Map;

/**
 * The eHealth Patient and Person as the patient service has them: {@code $createPatient} and
 * {@code $updatePatientWithSKRSData} ({@link PatientOperations}), {@code Person/$match}
 * ({@link PersonMatch}), both on the person register ({@link PersonRegister}). As the patient
 * service ({@code FHIR_SERVICE=patient}) a Patient is not created, updated or deleted through REST:
 * its CapabilityStatement does not declare them ({@code interaction.DeclaredSurface}).
 */
public final class PatientPlugin implements TypePlugin {
  private final PersonRegister remote;

  /** {@code remote}: the person register reached over FHIR, or null to use the server's own Person resources. */
  public PatientPlugin(PersonRegister remote) {
    this.remote = remote;
  }

  @Override
  public String type() {
    return "Patient";
  }

  @Override
  public Operations operations(OperationContext context) {
    PersonRegister register = remote != null ? remote : PersonRegister.local(context);
    return new Operations(List.of(new PatientOperations(context, register), new PersonMatch(context, register)),
        Map.of());
  }
}
