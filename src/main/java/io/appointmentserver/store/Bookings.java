package io.appointmentserver.store;

import java.time.Instant;
import java.util.List;

/**
 * The time a resource books its participants for (an appointment), kept in
 * {@code appointment_booking} so that overlaps are found, and under {@link Mode#REJECT} refused by
 * an exclusion constraint, in the database.
 *
 * @param participants references of the participants booked
 * @param booking      true for a booked or arrived appointment: the kind that must not overlap
 */
public record Bookings(List<String> participants, Instant start, Instant end, boolean booking) {
  /** For resources that book nobody (or no longer: a cancelled or deleted appointment). */
  public static final Bookings NONE = new Bookings(List.of(), null, null, false);

  /** What to do when a booking overlaps another one: {@code FHIR_APPOINTMENT_OVERLAP}. */
  public enum Mode { REJECT, WARN, OFF }

  public boolean isEmpty() {
    return participants.isEmpty() || start == null || end == null;
  }

  /** Under {@link Mode#REJECT}: {@code other} is booked for the same participant at the same time. */
  public static final class OverlapException extends RuntimeException {
    private final String other;

    public OverlapException(String other) {
      super("The appointment overlaps " + other + ", which books the same participant at the same time",
          null, false, false);
      this.other = other;
    }

    public String other() {
      return other;
    }
  }
}
