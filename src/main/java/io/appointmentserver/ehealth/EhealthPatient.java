package io.appointmentserver.ehealth;

import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import io.appointmentserver.security.Cpr;
import org.hl7.fhir.dstu3.model.HumanName;
import org.hl7.fhir.dstu3.model.Identifier;
import org.hl7.fhir.dstu3.model.OperationOutcome;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Patient;
import org.hl7.fhir.dstu3.model.Person;

/**
 * The eHealth Patient ({@code ehealth-patient}) as made from the person register: what of the
 * register's data a Patient takes, on creation ({@link #from}) and when the register's updates come
 * ({@link #applyRegisterData}). Contact details (eBoks, NemSMS), interpreter needs and the like are
 * the patient service's own and are kept.
 */
final class EhealthPatient {
  static final String PROFILE = "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-patient";

  private EhealthPatient() {}

  /** A new Patient of the person the register has under {@code cpr}. */
  static Patient from(Person person, String cpr) {
    Patient patient = new Patient();
    patient.getMeta().addProfile(PROFILE);
    patient.addIdentifier().setUse(Identifier.IdentifierUse.OFFICIAL).setSystem(Cpr.SYSTEM).setValue(cpr);
    person.getName().forEach(n -> patient.addName(n.copy()));
    patient.setGender(person.getGender());
    patient.setBirthDateElement(person.getBirthDateElement().copy());
    person.getAddress().forEach(a -> patient.addAddress(a.copy()));
    return patient;
  }

  /**
   * Takes what the register owns from {@code update} (an {@code ehealth-skrspatient}): name, gender,
   * birth date, deceased and address, each when the update has it; whether the patient changed.
   */
  static boolean applyRegisterData(Patient patient, Patient update) {
    Patient before = patient.copy();
    if (update.hasName()) {
      patient.setName(update.getName().stream().map(HumanName::copy).toList());
    }
    if (update.hasGender()) {
      patient.setGender(update.getGender());
    }
    if (update.hasBirthDate()) {
      patient.setBirthDateElement(update.getBirthDateElement().copy());
    }
    if (update.hasDeceased()) {
      patient.setDeceased(update.getDeceased().copy());
    }
    if (update.hasAddress()) {
      patient.setAddress(update.getAddress().stream().map(a -> a.copy()).toList());
    }
    return !before.equalsDeep(patient);
  }

  /** The CPR number of a CPR identifier; 400 for anything else. */
  static String cpr(Identifier identifier, String what) {
    if (identifier == null || !Cpr.SYSTEM.equals(identifier.getSystem())) {
      throw invalid(what + " must be an identifier with system " + Cpr.SYSTEM + " (a CPR number)");
    }
    if (!Cpr.valid(identifier.getValue())) {
      throw invalid(what + " must be a CPR number of ten digits");
    }
    return identifier.getValue();
  }

  /** The first CPR identifier of {@code patient}, or null. */
  static Identifier cprOf(Patient patient) {
    return patient.getIdentifier().stream().filter(i -> Cpr.SYSTEM.equals(i.getSystem())).findFirst().orElse(null);
  }

  /** 400 with an OperationOutcome saying {@code message}. */
  static InvalidRequestException invalid(String message) {
    OperationOutcome oo = new OperationOutcome();
    oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR).setCode(IssueType.INVALID).setDiagnostics(message);
    return new InvalidRequestException(message, oo);
  }
}
