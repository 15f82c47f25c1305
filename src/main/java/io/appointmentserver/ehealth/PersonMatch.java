package io.appointmentserver.ehealth;

import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.plugin.OperationContext;
import io.appointmentserver.security.Cpr;
import java.math.BigDecimal;
import java.util.List;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.CodeType;
import org.hl7.fhir.dstu3.model.HumanName;
import org.hl7.fhir.dstu3.model.Identifier;
import org.hl7.fhir.dstu3.model.Patient;
import org.hl7.fhir.dstu3.model.Person;

/**
 * {@code Person/$match}
 * (<a href="http://ehealth.sundhed.dk/fhir/OperationDefinition/ehealth-person-match">ehealth-person-match</a>):
 * who a CPR number names, as a limited Person (the identifier, the names and, when the patient
 * service has them, a link to the Patient): from the local Patient when there is one, else from the
 * person register. A searchset of the one certain match, or empty when nobody has the number.
 */
public final class PersonMatch {
  static final String MATCH = "$match";
  static final String MATCH_GRADE = "http://hl7.org/fhir/StructureDefinition/match-grade";

  private final OperationContext server;
  private final PersonRegister register;

  PersonMatch(OperationContext server, PersonRegister register) {
    this.server = server;
    this.register = register;
  }

  @Operation(name = MATCH, type = Person.class, idempotent = true)
  public Bundle match(@OperationParam(name = "resource", min = 1, max = 1) Person resource, RequestDetails request) {
    if (resource == null) {
      throw EhealthPatient.invalid("The parameter resource (a Person with a CPR identifier) is missing");
    }
    // the CPR identifier, else the first: refused for its system
    Identifier given = resource.getIdentifier().stream().filter(i -> Cpr.SYSTEM.equals(i.getSystem())).findFirst()
        .orElse(resource.getIdentifier().isEmpty() ? null : resource.getIdentifier().get(0));
    String cpr = EhealthPatient.cpr(given, "The Person's identifier");
    Bundle bundle = new Bundle().setType(Bundle.BundleType.SEARCHSET);
    Person limited = new Person();
    limited.addIdentifier().setUse(Identifier.IdentifierUse.OFFICIAL).setSystem(given.getSystem()).setValue(cpr);
    List<OperationContext.Stored> local = server.find("Patient", PersonRegister.byCpr(cpr), 1);
    if (!local.isEmpty()) {
      OperationContext.Stored patient = local.get(0);
      ((Patient) patient.resource()).getName().forEach(n -> limited.addName(official(n)));
      limited.addLink().setAssurance(Person.IdentityAssuranceLevel.LEVEL4).getTarget()
          .setReference("Patient/" + patient.id()); // relative: this server's, as HAPI writes its own base
      server.audited(request, MATCH, patient);
    } else {
      Person person = register.find(cpr);
      if (person == null) {
        return bundle.setTotal(0);
      }
      person.getName().forEach(n -> limited.addName(official(n)));
    }
    Bundle.BundleEntryComponent entry = bundle.setTotal(1).addEntry().setResource(limited);
    entry.getSearch().setMode(Bundle.SearchEntryMode.MATCH).setScore(new BigDecimal("1.0"))
        .addExtension(MATCH_GRADE, new CodeType("certain"));
    return bundle;
  }

  /** A name as the register states it: the official one, given and family name only. */
  private static HumanName official(HumanName name) {
    HumanName n = new HumanName().setUse(HumanName.NameUse.OFFICIAL).setFamily(name.getFamily());
    name.getGiven().forEach(g -> n.addGiven(g.getValue()));
    return n;
  }
}
