package io.appointmentserver.store;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.postgresql.PGConnection;

/**
 * The audit trail's storage: table {@code audit_event}, append-only, one row per AuditEvent
 * (no current row and history row as for other resources: an AuditEvent never changes). Reads,
 * vreads and history of the type AuditEvent see these rows as version 1 of the resource.
 */
public final class AuditEvents {
  public static final String TYPE = "AuditEvent";

  private AuditEvents() {}

  /** A version 7 UUID: time-ordered, so that the primary key grows at its right edge. */
  static String newId(Instant at) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long msb = (at.toEpochMilli() << 16) | 0x7000 | (r.nextInt() & 0x0fff);
    long lsb = (r.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
    return new UUID(msb, lsb).toString();
  }

  /** The patient among an event's access tags (an event concerns at most one), or null. */
  private static String patient(String[] tags) {
    if (tags != null) {
      for (String t : tags) {
        if (t.startsWith(PATIENT_TAG)) {
          return t.substring(PATIENT_TAG.length());
        }
      }
    }
    return null;
  }

  private static final String PATIENT_TAG = "patient:";

  /** An event's access tags, derived from its patient column as the write path tags resources. */
  private static final String TAGS =
      "CASE WHEN patient IS NULL THEN '{}'::text[] ELSE ARRAY['" + PATIENT_TAG + "' || patient] END";

  /**
   * The table's rows as the current resources a search reads (the columns of {@code resource},
   * and {@code patient}), to select from as a table: PostgreSQL inlines it, so conditions on
   * {@code patient} and {@code last_updated} use the table's indexes.
   */
  public static final String AS_RESOURCES = "(SELECT 'AuditEvent'::text AS res_type, id AS res_id, 1::bigint AS version,"
      + " recorded AS last_updated, false AS deleted, body, " + TAGS + " AS tags, patient FROM audit_event)";

  /** The table's rows as resource versions, for the history queries. */
  static final String AS_VERSIONS = "SELECT 'AuditEvent' AS res_type, id AS res_id, 1::bigint AS version,"
      + " recorded AS last_updated, false AS deleted, body, " + TAGS + " AS tags, 'POST' AS method FROM audit_event";

  /** resource_history together with the audit trail. */
  static final String HISTORY_WITH_AUDIT = "(SELECT res_type, res_id, version, last_updated, deleted, body, tags, method"
      + " FROM resource_history UNION ALL " + AS_VERSIONS + ") h";

  static final String READ = "SELECT 1::bigint, recorded, false, body, " + TAGS + " FROM audit_event WHERE id = ?";

  /** ON CONFLICT: a batch retried after its commit's acknowledgement was lost is stored once. */
  private static final String INSERT = """
      INSERT INTO audit_event (id, recorded, patient, body) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING""";

  /** A write's events, in the write's transaction (usually one). */
  static void insert(Connection c, List<StoredResource> events) throws SQLException {
    if (events.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(INSERT)) {
      for (StoredResource e : events) {
        ps.setString(1, e.id());
        ps.setObject(2, OffsetDateTime.ofInstant(e.lastUpdated(), ZoneOffset.UTC));
        ps.setString(3, patient(e.tags()));
        ps.setString(4, e.json());
        if (events.size() == 1) {
          ps.executeUpdate();
          return;
        }
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /**
   * A batch of read events in one COPY: PostgreSQL parses no statement and no array literal per
   * row, and the JSON goes through with only backslashes escaped.
   */
  static void copy(Connection c, List<StoredResource> events) throws SQLException {
    StringBuilder data = new StringBuilder(events.size() * 1400);
    for (StoredResource e : events) {
      data.append(e.id()).append('\t');
      data.append(e.lastUpdated()).append('\t'); // ISO 8601 in UTC, as PostgreSQL reads it
      String patient = patient(e.tags());
      if (patient == null) {
        data.append("\\N");
      } else {
        escape(data, patient);
      }
      data.append('\t');
      escape(data, e.json());
      data.append('\n');
    }
    try {
      c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY audit_event (id, recorded, patient, body) FROM STDIN",
          new ByteArrayInputStream(data.toString().getBytes(StandardCharsets.UTF_8)));
    } catch (SQLException e) {
      if (!"23505".equals(e.getSQLState())) {
        throw e;
      }
      // some of the batch was stored by an attempt whose success went unheard: store the rest
      insert(c, events);
    } catch (IOException e) {
      throw new SQLException("COPY of audit events failed: " + e.getMessage(), e);
    }
  }

  /** COPY's text format: backslash, newline, carriage return and tab escaped. */
  private static void escape(StringBuilder out, String s) {
    if (s.indexOf('\\') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0 && s.indexOf('\t') < 0) {
      out.append(s); // the usual case: Jackson writes control characters escaped
      return;
    }
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> out.append(ch);
      }
    }
  }
}
