package io.appointmentserver.store;

/** The database could not be reached or failed mid-way; nothing was written. */
public final class StoreUnavailableException extends RuntimeException {
  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
