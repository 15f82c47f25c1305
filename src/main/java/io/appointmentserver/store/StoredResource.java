package io.appointmentserver.store;

/**
 * One version of a resource as stored: {@code json} is null for a deletion (tombstone);
 * {@code tags} are its access tags (what the context check looks at); {@code method} the HTTP
 * method that made it (null when not known).
 */
public record StoredResource(Version at, String json, String[] tags, String method) implements Version.Of {

  public StoredResource(Version at, String json, String[] tags) {
    this(at, json, tags, null);
  }

  /**
   * The HTTP method that made this version, for history bundles; for versions stored without it,
   * the usual one (POST for the first, PUT for later ones, DELETE for a tombstone).
   */
  @Override
  public String method() {
    return method != null ? method : deleted() ? "DELETE" : version() == 1 ? "POST" : "PUT";
  }
}
