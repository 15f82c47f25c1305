package io.appointmentserver.ehealth;

import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import io.appointmentserver.plugin.OperationContext;
import io.appointmentserver.plugin.Operations;
import io.appointmentserver.plugin.TypePlugin;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The eHealth Patient and Person as the patient service has them: {@code $createPatient} and
 * {@code $updatePatientWithSKRSData} ({@link PatientOperations}), {@code Person/$match}
 * ({@link PersonMatch}), both on the person register ({@link PersonRegister}); as the patient service
 * ({@code onlyDeclared}), a Patient is not created, updated or deleted through REST, as its
 * CapabilityStatement declares (read, vread, patch, search).
 */
public final class PatientPlugin implements TypePlugin {
  private static final Set<RestOperationTypeEnum> UNDECLARED = Set.of(RestOperationTypeEnum.CREATE,
      RestOperationTypeEnum.UPDATE, RestOperationTypeEnum.DELETE);

  private final PersonRegister remote;
  private final boolean onlyDeclared;

  /**
   * {@code remote}: the person register reached over FHIR, or null to use the server's own Person
   * resources; {@code onlyDeclared}: refuse the Patient interactions the patient service does not declare.
   */
  public PatientPlugin(PersonRegister remote, boolean onlyDeclared) {
    this.remote = remote;
    this.onlyDeclared = onlyDeclared;
  }

  @Override
  public String type() {
    return "Patient";
  }

  @Override
  public boolean refuses(RestOperationTypeEnum interaction) {
    return onlyDeclared && UNDECLARED.contains(interaction);
  }

  @Override
  public Operations operations(OperationContext context) {
    PersonRegister register = remote != null ? remote : PersonRegister.local(context);
    return new Operations(List.of(new PatientOperations(context, register), new PersonMatch(context, register)),
        Map.of());
  }
}
