package io.appointmentserver.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.List;

/**
 * The bookings of a write ({@link Bookings}) in {@code appointment_booking}, in the write's
 * transaction, and the overlaps they have, as {@link Bookings.Mode} says.
 */
final class BookingSql {
  private final Bookings.Mode overlapMode;

  BookingSql(Bookings.Mode overlapMode) {
    this.overlapMode = overlapMode;
  }

  /**
   * One statement for an appointment's bookings: drop the rows it no longer has, add the ones it
   * did not have yet (an update that keeps time and participants, the usual case, writes nothing
   * here), and list the other resources booked for one of the same participants at an overlapping
   * time. The {@code count(*)} makes the delete run before the insert.
   */
  private static final String BOOK = """
      WITH wanted AS (
        SELECT p AS participant, tstzrange(?, ?) AS period, ? AS enforced FROM unnest(?::text[]) AS p),
      gone AS (
        DELETE FROM appointment_booking b WHERE b.res_type = ? AND b.res_id = ?
           AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.participant = b.participant
                              AND w.period = b.period AND w.enforced = b.enforced)
        RETURNING 1),
      added AS (
        INSERT INTO appointment_booking (res_type, res_id, participant, period, enforced)
        SELECT ?, ?, w.participant, w.period, w.enforced FROM wanted w
         WHERE (SELECT count(*) FROM gone) >= 0
           AND NOT EXISTS (SELECT 1 FROM appointment_booking b WHERE b.res_type = ? AND b.res_id = ?
                              AND b.participant = w.participant AND b.period = w.period
                              AND b.enforced = w.enforced))
      SELECT res_type || '/' || res_id FROM appointment_booking
       WHERE ? AND participant = ANY(?::text[]) AND period && tstzrange(?, ?)
         AND NOT (res_type = ? AND res_id = ?)
       LIMIT 20""";

  /**
   * Replaces the bookings of {@code type/id} ({@code null}: the type books nobody) and returns the
   * other resources that a booked or arrived appointment overlaps. Under REJECT an overlap
   * throws; two transactions booking the same slot at once are settled by the exclusion
   * constraint, and the loser learns whom it collided with.
   */
  List<String> book(Connection c, String type, String id, Bookings bookings) throws SQLException {
    if (bookings == null || overlapMode == Bookings.Mode.OFF) {
      return List.of();
    }
    boolean reject = overlapMode == Bookings.Mode.REJECT;
    Savepoint beforeBooking = reject ? c.setSavepoint() : null;
    List<String> overlaps;
    try {
      overlaps = bookAndFindOverlaps(c, type, id, bookings, reject);
    } catch (SQLException e) {
      if (reject && "23P01".equals(e.getSQLState())) {
        // booked at the same moment by another transaction, which committed first
        c.rollback(beforeBooking);
        overlaps = bookAndFindOverlaps(c, type, id, new Bookings(bookings.participants(), bookings.start(),
            bookings.end(), bookings.booking()), false);
        throw new Bookings.OverlapException(overlaps.isEmpty() ? "another appointment" : overlaps.get(0));
      }
      throw e;
    }
    if (reject && !overlaps.isEmpty()) {
      throw new Bookings.OverlapException(overlaps.get(0));
    }
    return overlaps;
  }

  private static List<String> bookAndFindOverlaps(Connection c, String type, String id, Bookings b, boolean enforce)
      throws SQLException {
    boolean any = !b.isEmpty();
    java.sql.Array participants = c.createArrayOf("text", any ? b.participants().toArray() : new Object[0]);
    try (PreparedStatement ps = c.prepareStatement(BOOK)) {
      int i = 1;
      ps.setObject(i++, any ? Sql.ts(b.start()) : null);
      ps.setObject(i++, any ? Sql.ts(b.end()) : null);
      ps.setBoolean(i++, enforce && b.booking());
      ps.setArray(i++, participants);
      ps.setString(i++, type);
      ps.setString(i++, id);
      ps.setString(i++, type);
      ps.setString(i++, id);
      ps.setString(i++, type);
      ps.setString(i++, id);
      ps.setBoolean(i++, any && b.booking());
      ps.setArray(i++, participants);
      ps.setObject(i++, any ? Sql.ts(b.start()) : null);
      ps.setObject(i++, any ? Sql.ts(b.end()) : null);
      ps.setString(i++, type);
      ps.setString(i, id);
      // no DISTINCT or ORDER BY: the query stops at the first matches, however many there are
      java.util.Set<String> out = new java.util.LinkedHashSet<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
      return List.copyOf(out);
    }
  }
}
