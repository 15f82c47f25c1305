package io.appointmentserver.ehealth;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.plugin.OperationContext;
import io.appointmentserver.security.Principal.UserType;
import java.nio.charset.StandardCharsets;
import org.hl7.fhir.dstu3.model.Appointment;
import org.hl7.fhir.dstu3.model.Binary;
import org.hl7.fhir.dstu3.model.IdType;

/**
 * {@code Appointment/[id]/$exportAsiCal}
 * (<a href="http://ehealth.sundhed.dk/fhir/OperationDefinition/ehealth-appointment-toical">eHealth
 * OperationDefinition</a>): a Binary wrapping the appointment as an iCalendar; with
 * {@code Accept: text/calendar} HAPI sends the calendar itself. The read's context rules apply.
 */
public final class AppointmentOperations {
  static final String EXPORT_AS_ICAL = "$exportAsiCal";

  private final OperationContext server;

  AppointmentOperations(OperationContext server) {
    this.server = server;
  }

  @Operation(name = EXPORT_AS_ICAL, type = Appointment.class, idempotent = true)
  public Binary exportAsiCal(@IdParam IdType id, RequestDetails request) {
    OperationContext.Target target = server.read(request, "Appointment", id.getIdPart(), EXPORT_AS_ICAL);
    boolean practitioner = target.user().userType() == UserType.PRACTITIONER;
    String ics = AppointmentCalendar.toICalendar((Appointment) target.resource(),
        "Appointment/" + id.getIdPart() + "@appointment-server", practitioner);
    Binary binary = new Binary();
    binary.setContentType("text/calendar");
    binary.setContent(ics.getBytes(StandardCharsets.UTF_8));
    return binary;
  }
}
