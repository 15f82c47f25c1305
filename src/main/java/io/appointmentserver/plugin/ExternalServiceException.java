package io.appointmentserver.plugin;

/**
 * A service outside the server that an operation needs did not answer ({@link #timedOut}: not in
 * time) or answered with an error: answered 504 or 502 with an OperationOutcome (the mapping is the
 * REST layer's, in one place). Nothing of the operation was written.
 */
public final class ExternalServiceException extends RuntimeException {
  private final boolean timedOut;

  public ExternalServiceException(boolean timedOut, String message) {
    super(message, null, false, false);
    this.timedOut = timedOut;
  }

  public boolean timedOut() {
    return timedOut;
  }
}
