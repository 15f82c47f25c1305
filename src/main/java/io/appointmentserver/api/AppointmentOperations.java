package io.appointmentserver.api;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import io.appointmentserver.ehealth.AppointmentCalendar;
import io.appointmentserver.security.Principal.UserType;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoredResource;
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
  private final ResourceStore store;
  private final ResourceCodec codec;
  private final Access access;

  public AppointmentOperations(ResourceStore store, ResourceCodec codec, Access access) {
    this.store = store;
    this.codec = codec;
    this.access = access;
  }

  @Operation(name = "$exportAsiCal", type = Appointment.class, idempotent = true)
  public Binary exportAsiCal(@IdParam IdType id, RequestDetails request) {
    String idPart = ResourceProvider.checkId(id.getIdPart());
    StoredResource s = store.reads().read("Appointment", idPart);
    if (s == null) {
      throw new ResourceNotFoundException(id);
    }
    access.check(request, "Appointment", s.tags());
    if (s.deleted()) {
      throw new ResourceGoneException("Resource Appointment/" + idPart + " was deleted");
    }
    Appointment a = (Appointment) codec.decode(s);
    boolean practitioner = Access.principal(request).userType() == UserType.PRACTITIONER;
    String ics = AppointmentCalendar.toICalendar(a, "Appointment/" + idPart + "@appointment-server", practitioner);
    access.auditedOperation(request, "$exportAsiCal", "Appointment", "Appointment/" + idPart + "/_history/" + s.version(),
        s.tags());
    Binary binary = new Binary();
    binary.setContentType("text/calendar");
    binary.setContent(ics.getBytes(StandardCharsets.UTF_8));
    return binary;
  }
}
