package io.appointmentserver.store;

import java.time.Instant;

/**
 * One version of a resource as stored: {@code json} is null for a deletion (tombstone);
 * {@code tags} are its access tags (what the context check looks at).
 */
public record StoredResource(
    String type, String id, long version, Instant lastUpdated, boolean deleted, String json, String[] tags) {

  /** The HTTP method that made this version, for history bundles. */
  public String method() {
    return deleted ? "DELETE" : version == 1 ? "POST" : "PUT";
  }
}
