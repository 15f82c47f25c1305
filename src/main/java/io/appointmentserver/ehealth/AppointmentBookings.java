package io.appointmentserver.ehealth;

import io.appointmentserver.store.Bookings;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.dstu3.model.Appointment;
import org.hl7.fhir.dstu3.model.Appointment.AppointmentParticipantComponent;
import org.hl7.fhir.dstu3.model.Appointment.AppointmentStatus;
import org.hl7.fhir.dstu3.model.Appointment.ParticipationStatus;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * What an appointment books, for double-booking detection: its Patient and Practitioner
 * participants (declined ones left out) for its time, unless it is cancelled, noshow or
 * entered-in-error. Booked and arrived appointments are the ones that must not overlap.
 */
public final class AppointmentBookings {
  private AppointmentBookings() {}

  public static Bookings of(IBaseResource resource) {
    Appointment a = (Appointment) resource;
    AppointmentStatus status = a.getStatus();
    if (status == AppointmentStatus.CANCELLED || status == AppointmentStatus.NOSHOW
        || status == AppointmentStatus.ENTEREDINERROR || !a.hasStart() || !a.hasEnd()) {
      return Bookings.NONE;
    }
    List<String> participants = new ArrayList<>();
    for (AppointmentParticipantComponent p : a.getParticipant()) {
      String ref = p.getActor().getReference();
      if (ref == null || p.getStatus() == ParticipationStatus.DECLINED) {
        continue;
      }
      if (ref.startsWith("Patient/") || ref.contains("/Patient/")
          || ref.startsWith("Practitioner/") || ref.contains("/Practitioner/")) {
        participants.add(ref.replaceFirst("/_history/.*$", ""));
      }
    }
    return new Bookings(participants, a.getStart().toInstant(), a.getEnd().toInstant(),
        status == AppointmentStatus.BOOKED || status == AppointmentStatus.ARRIVED);
  }
}
