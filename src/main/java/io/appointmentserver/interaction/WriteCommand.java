package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * One create or update (of its own, or the last step of a patch or a conditional write) as the
 * interactions pass it on to {@link Writes} (the store takes a {@code store.Write} of its own).
 *
 * @param type            the resource type
 * @param id              the resource's id; for a create null (the server names it) or the id a
 *                        transaction assigned beforehand
 * @param resource        the content to store
 * @param expectedVersion the version it must replace ({@code If-Match}), or null
 * @param origin          the request the write belongs to, and where its references are checked
 */
public record WriteCommand(String type, String id, IBaseResource resource, Long expectedVersion, Origin origin) {

  /**
   * The request a write belongs to (its user, base URL and audit details) and, within a
   * transaction, the set its local references are collected in to be checked once every entry is
   * written (null: they are checked in the write's own statement).
   */
  public record Origin(RequestDetails request, Set<String> deferredReferences) {
    /** A write of a request of its own. */
    public static Origin of(RequestDetails request) {
      return new Origin(request, null);
    }

    /** The references the write itself must find in the database: none when they are deferred. */
    Set<String> toCheck(Set<String> references) {
      if (deferredReferences == null) {
        return references;
      }
      deferredReferences.addAll(references);
      return Set.of();
    }
  }

  RequestDetails request() {
    return origin.request();
  }
}
