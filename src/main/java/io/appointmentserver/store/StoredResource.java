package io.appointmentserver.store;

import java.time.Instant;

/** One version of a resource as stored: {@code json} is null for a deletion (tombstone). */
public record StoredResource(
    String type, String id, long version, Instant lastUpdated, boolean deleted, String json) {

  /** The HTTP method that made this version, for history bundles. */
  public String method() {
    return deleted ? "DELETE" : version == 1 ? "POST" : "PUT";
  }
}
