package io.appointmentserver.store;

/** A resource refers to {@code reference} (Type/id), which does not exist on this server. */
public final class MissingReferenceException extends RuntimeException {
  private final String reference;

  public MissingReferenceException(String reference) {
    super("Resource " + reference + " is referenced but does not exist on this server", null, false, false);
    this.reference = reference;
  }

  public String reference() {
    return reference;
  }
}
