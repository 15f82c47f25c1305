package io.appointmentserver.store;

/**
 * PostgreSQL rolled the write back because it ran into another one at the same moment (a
 * deadlock, 40P01, or a serialization failure, 40001): nothing was written, and the same
 * request may simply be sent again.
 */
public final class ConcurrentWriteException extends RuntimeException {
  public ConcurrentWriteException(String message, Throwable cause) {
    super(message, cause);
  }
}
