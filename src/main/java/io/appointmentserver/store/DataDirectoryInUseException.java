package io.appointmentserver.store;

/** Another running server keeps its embedded PostgreSQL in the same data directory. */
public final class DataDirectoryInUseException extends RuntimeException {
  public DataDirectoryInUseException(String message) {
    super(message);
  }
}
