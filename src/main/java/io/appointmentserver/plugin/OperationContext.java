package io.appointmentserver.plugin;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.security.Principal;
import org.hl7.fhir.instance.model.api.IBaseResource;

/** What an operation of a plug-in may use of the server. */
public interface OperationContext {
  /** The resource an instance operation works on, with its version and the user asking. */
  record Target(IBaseResource resource, long version, Principal user) {}

  /**
   * The current version of {@code type/id} for {@code operation} on it, with the checks of a read
   * (privilege, 404, 410, the user's context: 403) and audited as that operation (action E).
   */
  Target read(RequestDetails request, String type, String id, String operation);
}
