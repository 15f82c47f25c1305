package io.appointmentserver.ehealth;

import java.net.URI;
import net.fortuna.ical4j.model.Calendar;
import net.fortuna.ical4j.model.component.VEvent;
import net.fortuna.ical4j.model.parameter.Cn;
import net.fortuna.ical4j.model.parameter.Role;
import net.fortuna.ical4j.model.property.Attendee;
import net.fortuna.ical4j.model.property.Description;
import net.fortuna.ical4j.model.property.Location;
import net.fortuna.ical4j.model.property.ProdId;
import net.fortuna.ical4j.model.property.Status;
import net.fortuna.ical4j.model.property.Uid;
import net.fortuna.ical4j.model.property.immutable.ImmutableCalScale;
import net.fortuna.ical4j.model.property.immutable.ImmutableMethod;
import net.fortuna.ical4j.model.property.immutable.ImmutableVersion;
import org.hl7.fhir.dstu3.model.Appointment;
import org.hl7.fhir.dstu3.model.Appointment.AppointmentParticipantComponent;
import org.hl7.fhir.dstu3.model.Appointment.ParticipantRequired;
import org.hl7.fhir.dstu3.model.Resource;

/**
 * An appointment as an RFC 5545 calendar with one event (the
 * <a href="http://ehealth.sundhed.dk/fhir/OperationDefinition/ehealth-appointment-toical">$exportAsiCal</a>
 * operation), made with ical4j: times, summary, description, location, status and attendees.
 * Practitioners' names are shown only to practitioners.
 */
public final class AppointmentCalendar {
  private AppointmentCalendar() {}

  public static String toICalendar(Appointment a, String uid, boolean practitionerNames) {
    String summary = a.hasDescription() ? a.getDescription()
        : a.hasAppointmentType() && a.getAppointmentType().hasText() ? a.getAppointmentType().getText() : "Appointment";
    VEvent event = a.hasStart() && a.hasEnd()
        ? new VEvent(a.getStart().toInstant(), a.getEnd().toInstant(), summary)
        : new VEvent(a.hasStart() ? a.getStart().toInstant() : a.getCreated().toInstant(), summary);
    event.add(new Uid(uid));
    if (a.hasComment()) {
      event.add(new Description(a.getComment()));
    }
    event.add(new Status(switch (a.getStatus() == null ? Appointment.AppointmentStatus.NULL : a.getStatus()) {
      case CANCELLED, ENTEREDINERROR, NOSHOW -> "CANCELLED";
      case PROPOSED, PENDING -> "TENTATIVE";
      default -> "CONFIRMED";
    }));
    for (AppointmentParticipantComponent p : a.getParticipant()) {
      String ref = p.getActor().getReference();
      if (ref == null) {
        continue;
      }
      if (ref.startsWith("#")) {
        // a contained Location: where the appointment takes place
        for (Resource c : a.getContained()) {
          if (c instanceof org.hl7.fhir.dstu3.model.Location l && ref.equals("#" + c.getIdElement().getIdPart())) {
            event.add(new Location(l.getName()));
          }
        }
        continue;
      }
      boolean practitioner = ref.contains("Practitioner/");
      if (!ref.contains("Patient/") && !practitioner) {
        continue;
      }
      Attendee attendee = new Attendee(URI.create("urn:fhir:" + ref.replace(' ', '_')));
      attendee.add(p.getRequired() == ParticipantRequired.OPTIONAL ? Role.OPT_PARTICIPANT : Role.REQ_PARTICIPANT);
      String display = p.getActor().getDisplay();
      if (display != null && (!practitioner || practitionerNames)) {
        attendee.add(new Cn(display));
      }
      event.add(attendee);
    }
    Calendar calendar = new Calendar();
    calendar.add(new ProdId("-//Appointment Server//eHealth Appointment//EN"));
    calendar.add(ImmutableVersion.VERSION_2_0);
    calendar.add(ImmutableCalScale.GREGORIAN);
    calendar.add(ImmutableMethod.PUBLISH);
    calendar.add(event);
    return calendar.toString();
  }
}
