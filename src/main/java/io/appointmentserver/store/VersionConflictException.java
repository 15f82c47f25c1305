package io.appointmentserver.store;

/**
 * The version a client based its change on ({@code If-Match}) is not the current one.
 * {@code currentVersion} is null when the resource does not exist at all.
 */
public final class VersionConflictException extends RuntimeException {
  private final String type;
  private final String id;
  private final long expectedVersion;
  private final Long currentVersion;

  public VersionConflictException(String type, String id, long expectedVersion, Long currentVersion) {
    super(currentVersion == null
        ? type + "/" + id + " does not exist, so version " + expectedVersion + " cannot be matched"
        : "Version " + expectedVersion + " of " + type + "/" + id
            + " is not the current version; the current version is " + currentVersion,
        null, false, false);
    this.type = type;
    this.id = id;
    this.expectedVersion = expectedVersion;
    this.currentVersion = currentVersion;
  }

  public String type() { return type; }
  public String id() { return id; }
  public long expectedVersion() { return expectedVersion; }
  public Long currentVersion() { return currentVersion; }
}
