package io.appointmentserver.store;

import java.time.Instant;

/**
 * One version of a resource as stored: {@code json} is null for a deletion (tombstone);
 * {@code tags} are its access tags (what the context check looks at); {@code method} the HTTP
 * method that made it (null when not known).
 */
public record StoredResource(String type, String id, long version, Instant lastUpdated, boolean deleted,
    String json, String[] tags, String method) {

  public StoredResource(String type, String id, long version, Instant lastUpdated, boolean deleted, String json,
      String[] tags) {
    this(type, id, version, lastUpdated, deleted, json, tags, null);
  }

  /**
   * The HTTP method that made this version, for history bundles; for versions stored without it,
   * the usual one (POST for the first, PUT for later ones, DELETE for a tombstone).
   */
  @Override
  public String method() {
    return method != null ? method : deleted ? "DELETE" : version == 1 ? "POST" : "PUT";
  }
}
