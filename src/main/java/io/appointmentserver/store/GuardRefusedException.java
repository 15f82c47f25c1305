package io.appointmentserver.store;

/** Refused by a {@link Write.Guard}: nothing was written. */
public final class GuardRefusedException extends RuntimeException {
  public GuardRefusedException() {
    super("refused by guard", null, false, false);
  }
}
