package io.appointmentserver.ehealth;

import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import io.appointmentserver.plugin.OperationContext;
import io.appointmentserver.plugin.RuleViolation;
import io.appointmentserver.security.AuditLog;
import io.appointmentserver.security.ForbiddenException;
import io.appointmentserver.store.GuardRefusedException;
import io.appointmentserver.store.VersionConflictException;
import io.appointmentserver.validation.ProfileValidationException;
import java.util.List;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.CodeType;
import org.hl7.fhir.dstu3.model.Identifier;
import org.hl7.fhir.dstu3.model.IntegerType;
import org.hl7.fhir.dstu3.model.OperationOutcome;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Parameters;
import org.hl7.fhir.dstu3.model.Patient;
import org.hl7.fhir.dstu3.model.Person;
import org.hl7.fhir.dstu3.model.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The eHealth Patient operations: {@code Patient/$createPatient}
 * (<a href="http://ehealth.sundhed.dk/fhir/OperationDefinition/ehealth-patient-create">ehealth-patient-create</a>),
 * the one way the patient service creates a Patient, from the person register's data, and
 * {@code Patient/$updatePatientWithSKRSData}
 * (<a href="http://ehealth.sundhed.dk/fhir/OperationDefinition/ehealth-patient-skrs-update">ehealth-patient-skrs-update</a>),
 * the register's updates applied to the Patients they concern.
 */
public final class PatientOperations {
  static final String CREATE = "$createPatient";
  static final String SKRS_UPDATE = "$updatePatientWithSKRSData";
  private static final Logger log = LoggerFactory.getLogger(PatientOperations.class);
  /** Version conflicts with other writers an update of one patient outlasts. */
  private static final int ATTEMPTS = 3;

  private final OperationContext server;
  private final PersonRegister register;

  PatientOperations(OperationContext server, PersonRegister register) {
    this.server = server;
    this.register = register;
  }

  /**
   * The Patient with CPR number {@code crn}: the existing one (with the checks of a read), or one
   * created from the register's Person. The register is asked only when there is none yet; the
   * create is conditional on the CPR (as {@code If-None-Exist}), so that racing calls, in any server
   * process, create one Patient (the others answer the match as a conditional create does).
   */
  @Operation(name = CREATE, type = Patient.class, idempotent = false)
  public Patient createPatient(@OperationParam(name = "crn", min = 1, max = 1) Identifier crn,
      RequestDetails request) {
    String cpr = EhealthPatient.cpr(crn, "The parameter crn");
    List<OperationContext.Stored> existing = server.find("Patient", PersonRegister.byCpr(cpr), 1);
    if (!existing.isEmpty()) {
      // answered as a read of it: its privilege and the user's context apply, audited
      return (Patient) server.read(request, "Patient", existing.get(0).id(), CREATE).resource();
    }
    Person person = register.find(cpr);
    if (person == null) {
      throw new RuleViolation(IssueType.NOTFOUND, "The person register has no person with this CPR number");
    }
    OperationContext.Stored patient = server.createUnlessExists(request, EhealthPatient.from(person, cpr),
        PersonRegister.byCpr(cpr));
    if (patient.created()) {
      log.info("{}: created Patient/{} for {}", CREATE, patient.id(), AuditLog.maskCpr(cpr));
    }
    return (Patient) patient.resource();
  }

  /**
   * Each Patient of {@code patientBundle} (an {@code ehealth-skrspatient} with the register's data
   * of one person) applied to the Patient with its CPR number, as a new version of it when something
   * changed: each patient's write is its own, so one failing leaves the others done. The answer has
   * one {@code result} per entry: its index, the Patient and what happened ({@code updated},
   * {@code unchanged}, {@code not-found}, {@code invalid}), with an OperationOutcome when it failed.
   */
  @Operation(name = SKRS_UPDATE, type = Patient.class, idempotent = false)
  public Parameters updatePatientWithSkrsData(
      @OperationParam(name = "patientBundle", min = 1, max = 1) Bundle patientBundle, RequestDetails request) {
    if (patientBundle == null) {
      throw EhealthPatient.invalid("The parameter patientBundle (a Bundle of Patients) is missing");
    }
    Parameters out = new Parameters();
    List<Bundle.BundleEntryComponent> entries = patientBundle.getEntry();
    for (int i = 0; i < entries.size(); i++) {
      Parameters.ParametersParameterComponent result = out.addParameter().setName("result");
      result.addPart().setName("index").setValue(new IntegerType(i));
      try {
        apply(entries.get(i).getResource(), result, request);
      } catch (RuleViolation | BaseServerResponseException | ProfileValidationException
          | VersionConflictException e) {
        result.addPart().setName("status").setValue(new CodeType("invalid"));
        result.addPart().setName("outcome").setResource(outcome(e));
      } catch (ForbiddenException | GuardRefusedException e) {
        result.addPart().setName("status").setValue(new CodeType("forbidden"));
        result.addPart().setName("outcome").setResource(outcome(e));
      }
    }
    return out;
  }

  /** What went wrong with one entry, its CPR numbers masked. */
  private static OperationOutcome outcome(RuntimeException e) {
    OperationOutcome oo = new OperationOutcome();
    oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR).setCode(IssueType.PROCESSING)
        .setDiagnostics(AuditLog.maskCpr(e.getMessage()));
    return oo;
  }

  private void apply(org.hl7.fhir.dstu3.model.Resource resource, Parameters.ParametersParameterComponent result,
      RequestDetails request) {
    if (!(resource instanceof Patient update)) {
      throw EhealthPatient.invalid("An entry of patientBundle must be a Patient");
    }
    String cpr = EhealthPatient.cpr(EhealthPatient.cprOf(update), "The Patient's identifier");
    for (int attempt = 1; ; attempt++) {
      List<OperationContext.Stored> found = server.find("Patient", PersonRegister.byCpr(cpr), 1);
      if (found.isEmpty()) {
        result.addPart().setName("status").setValue(new CodeType("not-found"));
        return;
      }
      OperationContext.Stored current = found.get(0);
      result.addPart().setName("patient").setValue(new Reference("Patient/" + current.id()));
      Patient patient = (Patient) current.resource();
      if (!EhealthPatient.applyRegisterData(patient, update)) {
        result.addPart().setName("status").setValue(new CodeType("unchanged"));
        return;
      }
      try {
        server.update(request, patient, current.version());
        result.addPart().setName("status").setValue(new CodeType("updated"));
        return;
      } catch (VersionConflictException e) {
        result.getPart().removeIf(p -> p.getName().equals("patient"));
        if (attempt == ATTEMPTS) {
          throw e;
        }
      }
    }
  }
}
