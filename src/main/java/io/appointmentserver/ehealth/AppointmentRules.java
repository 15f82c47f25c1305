package io.appointmentserver.ehealth;

import io.appointmentserver.plugin.ChangeRule;
import io.appointmentserver.plugin.RuleViolation;
import java.util.HashSet;
import java.util.Set;
import org.hl7.fhir.dstu3.model.Appointment;
import org.hl7.fhir.dstu3.model.Appointment.AppointmentParticipantComponent;
import org.hl7.fhir.dstu3.model.Appointment.AppointmentStatus;
import io.appointmentserver.security.Principal;
import java.util.UUID;
import org.hl7.fhir.dstu3.model.Extension;
import org.hl7.fhir.dstu3.model.Identifier;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Reference;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The eHealth Appointment rules that hold whether or not the IG is loaded: the invariants of
 * <a href="http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-appointment">ehealth-appointment</a>
 * ({@code responsible-1}, {@code single-patient-appointment}, {@code governance-1},
 * {@code responsible-2}; single-patient for all but group appointments) and of the base resource ({@code app-2}, {@code app-3}), and the status
 * rule of the patient service: a cancelled or entered-in-error appointment keeps its status; the
 * eHealth identifier and a group appointment's creator are the server's and never change.
 */
public final class AppointmentRules {
  static final String LEGAL_BASIS = "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-legalBasis";
  static final String PERFORMING_ORGANIZATION =
      "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-performing-organization";
  static final String RESPONSIBLE_ORGANIZATION =
      "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-responsible-organization";
  public static final String STATUS_FROZEN =
      "APPOINTMENT_NOT_ALLOWED_TO_UPDATE_STATUS_ONCE_THE_APPOINTMENT_HAS_ENTERED_CANCELLED_OR_ENTEREDINERROR";

  public static final String IDENTIFIER_SYSTEM = "http://ehealth.sundhed.dk/id/ehealth-identifier";

  private AppointmentRules() {}

  /**
   * On create with a server-assigned id (POST) the server gives the appointment its eHealth
   * identifier (replacing one the client chose), and a group appointment its creator: the care
   * team in the creating user's context (another value is refused). A PUT that creates is not a
   * POST: its identifiers are stored as sent, as the eHealth service answered the seed PUT (no
   * identifier); one given there is protected by {@link #checkChange} from then on.
   */
  public static void onCreate(IBaseResource resource, Principal p) {
    Appointment a = (Appointment) resource;
    a.getIdentifier().removeIf(i -> IDENTIFIER_SYSTEM.equals(i.getSystem()));
    a.addIdentifier().setSystem(IDENTIFIER_SYSTEM).setValue(UUID.randomUUID().toString());
    String team = p.context().careTeam();
    if (isGroup(a) && team != null) {
      Extension creator = a.getExtensionByUrl(EhealthAppointment.CREATOR);
      if (creator == null) {
        a.addExtension(EhealthAppointment.CREATOR, new Reference(team));
      } else if (!(creator.getValue() instanceof Reference r) || !team.equals(r.getReference())) {
        String msg = "ehealth-creator is set by the server to the care team of the user's context (" + team + ")";
        throw RuleViolation.businessRule(msg);
      }
    }
  }

  public static void checkContent(IBaseResource resource) {
    Appointment a = (Appointment) resource;
    responsible1(a);
    if (!isGroup(a)) {
      singlePatient(a);
    }
    if (!a.getExtensionsByUrl(LEGAL_BASIS).isEmpty()) {
      governance1(a);
      responsible2(a);
    }
    // app-2: either start and end are specified, or neither
    if (a.hasStart() != a.hasEnd()) {
      throw violated("app-2", "Either start and end are specified, or neither");
    }
    // app-3: only proposed or cancelled appointments can be missing start/end dates
    if (!a.hasStart() && a.getStatus() != AppointmentStatus.PROPOSED && a.getStatus() != AppointmentStatus.CANCELLED) {
      throw violated("app-3", "Only proposed or cancelled appointments can be missing start/end dates");
    }
    // no DSTU3 invariant, but a time the appointment cannot have (and its booking a range PostgreSQL refuses)
    if (a.hasStart() && a.hasEnd() && a.getEnd().before(a.getStart())) {
      String msg = "The appointment ends (" + a.getEndElement().getValueAsString() + ") before it starts ("
          + a.getStartElement().getValueAsString() + ")";
      throw new RuleViolation(IssueType.INVARIANT, msg);
    }
  }

  /**
   * {@link #checkChange} as the write's change rule. It refuses only what the version before has:
   * an eHealth identifier, a creator, a cancelled or entered-in-error status. A stored version
   * (HAPI's JSON, which escapes none of these characters) that names none of them is not parsed.
   */
  public static final ChangeRule CHANGE_RULE = new ChangeRule() {
    @Override
    public void check(IBaseResource before, IBaseResource after) {
      checkChange(before, after);
    }

    @Override
    public boolean concerns(String beforeJson) {
      return beforeJson.contains(IDENTIFIER_SYSTEM) || beforeJson.contains(EhealthAppointment.CREATOR)
          || beforeJson.contains(AppointmentStatus.CANCELLED.toCode())
          || beforeJson.contains(AppointmentStatus.ENTEREDINERROR.toCode());
    }
  };

  public static void checkChange(IBaseResource before, IBaseResource after) {
    Appointment old = (Appointment) before;
    Appointment now = (Appointment) after;
    for (Identifier id : old.getIdentifier()) {
      if (IDENTIFIER_SYSTEM.equals(id.getSystem()) && now.getIdentifier().stream()
          .noneMatch(n -> IDENTIFIER_SYSTEM.equals(n.getSystem()) && id.getValue().equals(n.getValue()))) {
        String msg = "The eHealth identifier (" + IDENTIFIER_SYSTEM + "|" + id.getValue() + ") cannot be changed or removed";
        throw RuleViolation.businessRule(msg);
      }
    }
    String creatorBefore = CareContext.reference(old.getExtensionByUrl(EhealthAppointment.CREATOR));
    String creatorAfter = CareContext.reference(now.getExtensionByUrl(EhealthAppointment.CREATOR));
    if (creatorBefore != null && !creatorBefore.equals(creatorAfter)) {
      String msg = "The ehealth-creator of a group appointment (" + creatorBefore + ") cannot be changed or removed";
      throw RuleViolation.businessRule(msg);
    }
    AppointmentStatus was = old.getStatus();
    AppointmentStatus is = now.getStatus();
    if ((was == AppointmentStatus.CANCELLED || was == AppointmentStatus.ENTEREDINERROR) && was != is) {
      String msg = STATUS_FROZEN + ": the appointment is " + was.toCode() + "; its status cannot become "
          + (is == null ? "empty" : is.toCode());
      throw RuleViolation.businessRule(msg);
    }
  }

  /**
   * Group appointments (ehealth-group-appointment and its video variant, whose canonical URL is
   * {@code ehealth-group-videoappointment}, in the file {@code ehealth-group-video-appointment.xml})
   * have many patients.
   */
  static boolean isGroup(Appointment a) {
    return a.getMeta().getProfile().stream().anyMatch(p -> p.getValue() != null
        && (p.getValue().equals(EhealthAppointment.GROUP) || p.getValue().equals(VideoMeetings.GROUP_VIDEO_APPOINTMENT)));
  }

  /** responsible-1: the responsible care team takes part (as a participant's care team or actor). */
  private static void responsible1(Appointment a) {
    Extension responsible = a.getExtensionByUrl(EhealthAppointment.RESPONSIBLE);
    if (responsible == null || !(responsible.getValue() instanceof Reference r) || r.getReference() == null) {
      return;
    }
    Set<String> parties = new HashSet<>();
    for (AppointmentParticipantComponent p : a.getParticipant()) {
      if (p.getActor().getReference() != null) {
        parties.add(p.getActor().getReference());
      }
      for (Extension e : p.getExtensionsByUrl(EhealthAppointment.CARETEAM)) {
        if (e.getValue() instanceof Reference team && team.getReference() != null) {
          parties.add(team.getReference());
        }
      }
    }
    if (!parties.contains(r.getReference())) {
      throw violated("responsible-1", "Ensuring that responsible entity is a participating party: "
          + r.getReference() + " is not among the participants");
    }
  }

  /** single-patient-appointment: at most one Patient participant. */
  private static void singlePatient(Appointment a) {
    long patients = a.getParticipant().stream()
        .map(p -> p.getActor().getReference())
        .filter(ref -> ref != null && (ref.startsWith("Patient/") || ref.contains("/Patient/")))
        .count();
    if (patients > 1) {
      throw violated("single-patient-appointment", "Only a single patient is allowed pr. appointment");
    }
  }

  /** governance-1: with a legal basis, an episode of care is referenced. */
  private static void governance1(Appointment a) {
    boolean episode = a.getSupportingInformation().stream()
        .anyMatch(r -> r.getReference() != null && r.getReference().contains("EpisodeOfCare/"));
    if (!episode) {
      throw violated("governance-1", "When extension is used a Episode of Care MUST be referenced");
    }
  }

  /** responsible-2: with a legal basis, performing and responsible organization are both given. */
  private static void responsible2(Appointment a) {
    if (a.getExtensionsByUrl(PERFORMING_ORGANIZATION).isEmpty()
        || a.getExtensionsByUrl(RESPONSIBLE_ORGANIZATION).isEmpty()) {
      throw violated("responsible-2", "Both performing organization and responsible organization must be"
          + " populated when legal basis is used");
    }
  }

  private static RuleViolation violated(String key, String human) {
    return RuleViolation.invariant(key, human);
  }
}
