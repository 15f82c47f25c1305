package io.appointmentserver.ehealth;

import io.appointmentserver.plugin.ChangeRule;
import io.appointmentserver.plugin.OperationContext;
import io.appointmentserver.plugin.Operations;
import io.appointmentserver.plugin.TypePlugin;
import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.security.Principal;
import io.appointmentserver.store.Bookings;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The eHealth Appointment
 * (<a href="http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-appointment">ehealth-appointment</a>)
 * as the patient service has it: who sees it ({@link EhealthAppointment}), its rules
 * ({@link AppointmentRules}), video meetings ({@link VideoMeetings}), double booking
 * ({@link AppointmentBookings}) and {@code $exportAsiCal} ({@link AppointmentOperations}).
 */
public final class AppointmentPlugin implements TypePlugin {
  private final VideoMeetings meetings;

  /** {@code meetingBaseUrl}: the video meeting service's base URL, or null when there is none. */
  public AppointmentPlugin(String meetingBaseUrl) {
    this.meetings = new VideoMeetings(meetingBaseUrl);
  }

  @Override
  public String type() {
    return "Appointment";
  }

  @Override
  public void addAccessTags(IBaseResource resource, Set<String> tags) {
    EhealthAppointment.addTags(resource, tags);
  }

  @Override
  public AccessPolicy.TypePolicy accessPolicy() {
    return EhealthAppointment::rule;
  }

  @Override
  public Set<String> teamSearchParameters() {
    return EhealthAppointment.TEAM_PARAMETERS;
  }

  @Override
  public void onCreate(IBaseResource resource, Principal creator) {
    AppointmentRules.onCreate(resource, creator);
    meetings.onCreate(resource);
  }

  @Override
  public void checkContent(IBaseResource resource) {
    AppointmentRules.checkContent(resource);
  }

  @Override
  public ChangeRule changeRule() {
    return AppointmentRules.CHANGE_RULE;
  }

  @Override
  public boolean books() {
    return true;
  }

  @Override
  public Bookings bookings(IBaseResource resource) {
    return AppointmentBookings.of(resource);
  }

  @Override
  public Set<String> assignedIdentifierSystems() {
    return Set.of(AppointmentRules.IDENTIFIER_SYSTEM);
  }

  @Override
  public Operations operations(OperationContext context) {
    AppointmentOperations operations = new AppointmentOperations(context);
    return new Operations(List.of(operations),
        Map.of("Appointment/" + AppointmentOperations.EXPORT_AS_ICAL, (id, request) -> operations.exportAsiCal(id, request)));
  }
}
