package io.appointmentserver.search;

/** A search the server cannot answer as asked: an unknown parameter, a bad value (400). */
public final class InvalidSearchException extends RuntimeException {
  public InvalidSearchException(String message) {
    super(message, null, false, false);
  }
}
