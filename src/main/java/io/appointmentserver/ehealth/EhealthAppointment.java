package io.appointmentserver.ehealth;

import io.appointmentserver.security.ContextRule;
import io.appointmentserver.security.Principal;
import java.util.Set;
import org.hl7.fhir.dstu3.model.Appointment;
import org.hl7.fhir.dstu3.model.Appointment.AppointmentParticipantComponent;
import org.hl7.fhir.dstu3.model.Extension;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Who may see and change an eHealth Appointment
 * (<a href="http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-appointment">ehealth-appointment</a>):
 * the care teams named by {@code ehealth-responsible}, by a participant's {@code ehealth-ext-careteam}
 * or by {@code ehealth-creator}, and its Patient participant.
 */
public final class EhealthAppointment {
  public static final String RESPONSIBLE = "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-responsible";
  public static final String CARETEAM = "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-ext-careteam";
  public static final String CREATOR = "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-creator";
  public static final String GROUP = "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-group-appointment";

  /**
   * The search parameters whose CareTeam references make an appointment's team tags: a search by a
   * user with a care team in context that names another team is refused.
   */
  static final Set<String> TEAM_PARAMETERS = Set.of("responsible", "careteamParticipant", "actor");

  private EhealthAppointment() {}

  /** Adds {@code team:<ref>} for every care team the appointment names. */
  public static void addTags(IBaseResource resource, Set<String> tags) {
    Appointment a = (Appointment) resource;
    CareContext.addTeam(a.getExtensionByUrl(RESPONSIBLE), tags);
    CareContext.addTeam(a.getExtensionByUrl(CREATOR), tags);
    for (AppointmentParticipantComponent p : a.getParticipant()) {
      for (Extension e : p.getExtensionsByUrl(CARETEAM)) {
        CareContext.addTeam(e, tags);
      }
      CareContext.addTeam(p.getActor().getReference(), tags);
    }
  }

  /**
   * Practitioners see appointments of the care team in their context, and with a patient in
   * context only that patient's; patients see the appointments they take part in.
   */
  public static ContextRule rule(Principal p) {
    return CareContext.rule(p, false);
  }
}
