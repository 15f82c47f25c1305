package io.appointmentserver.plugin;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.security.Principal;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * What an operation of a plug-in may use of the server: reads with the checks of a read, lookups
 * the server makes for itself, and writes through the write pipeline (validation, access tags, the
 * user's context, the type's rules, audit), so an operation that writes behaves as a create or
 * update of its user would.
 */
public interface OperationContext {
  /** The resource an instance operation works on, with its version and the user asking. */
  record Target(IBaseResource resource, long version, Principal user) {}

  /**
   * A stored version: the resource, its id and version, whether the call created it, and its access
   * tags (for {@link #audited}; null when the call wrote it, its write being audited).
   */
  record Stored(IBaseResource resource, String id, long version, boolean created, String[] tags) {}

  /**
   * The current version of {@code type/id} for {@code operation} on it, with the checks of a read
   * (privilege, 404, 410, the user's context: 403) and audited as that operation (action E).
   */
  Target read(RequestDetails request, String type, String id, String operation);

  /**
   * The first {@code limit} current resources of {@code type} that the search {@code criteria}
   * select, as the server sees them (no user's context, not audited): for lookups an operation
   * makes for itself, not to be answered as they are.
   */
  List<Stored> find(String type, Map<String, String[]> criteria, int limit);

  /** Audits {@code operation} of the request's user as showing {@code found} (action E, per patient). */
  void audited(RequestDetails request, String operation, Stored found);

  /**
   * Creates {@code resource} as the request's user, unless a resource of its type within the
   * user's context matches {@code criteria}: then that one is returned (audited as a read). As a
   * conditional create ({@code If-None-Exist}): calls with the same criteria, in any server process
   * on the database, take turns, so racing calls create one resource.
   */
  Stored createUnlessExists(RequestDetails request, IBaseResource resource, Map<String, String[]> criteria);

  /**
   * Writes {@code resource} (its type and id in its id) as a new version replacing
   * {@code expectedVersion}, as the request's user; a version conflict is the store's 412.
   */
  Stored update(RequestDetails request, IBaseResource resource, long expectedVersion);
}
