package io.appointmentserver.store;

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
import org.postgresql.copy.CopyIn;

/**
 * The audit trail's storage: table {@code audit_event}, append-only, one row per AuditEvent
 * (no current row and history row as for other resources: an AuditEvent never changes). A row
 * holds only what differs between events (who, what, when, the patient, the trace id); the
 * DSTU3 AuditEvent is rendered from it by PostgreSQL ({@link #BODY}) when someone reads or
 * searches the audit trail, which is rare next to the reads and writes that are audited. Rows
 * stored before V70 keep the JSON they were served with in {@code body}. Reads, vreads and
 * history of the type AuditEvent see these rows as version 1 of the resource.
 */
public final class AuditEvents {
  public static final String TYPE = "AuditEvent";
  static final String CONTEXT_ORGANIZATION = "urn:appointment-server:audit:context-organization";

  private AuditEvents() {}

  /**
   * One event as stored. {@code id} is a version 7 UUID made at {@code recorded} ({@link #newId});
   * {@code subject} what the request did and to whom, {@code agent} who asked, {@code trace} the
   * request's trace id and query.
   */
  public record Event(String id, Instant recorded, Subject subject, Agent agent, Trace trace) {
    /** The text columns after id, recorded and agent, in the order of {@link #COLUMNS}. */
    String[] texts() {
      return new String[] {subject.patient(), subject.action(), subject.subtype(), subject.resourceType(),
          subject.entity(), trace.traceId(), trace.query()};
    }
  }

  /**
   * What an event is about: the patient involved (or null), the action (C, R, U, D or E), the
   * subtype (the interaction or operation), the resource type, and {@code entity} the resource
   * (or version) the request concerned, null for a search.
   */
  public record Subject(String patient, String action, String subtype, String resourceType, String entity) {
    public Subject {
      // PostgreSQL text holds no NUL character: a COPY with one would fail forever
      patient = withoutNul(patient);
    }
  }

  /**
   * The request an event belongs to: its {@code x-b3-traceid}, and {@code query} the request's
   * query, CPR numbers masked, or null. The same for all events of one request.
   */
  public record Trace(String traceId, String query) {
    public Trace {
      // PostgreSQL text holds no NUL character (a query may carry %00): a COPY with one would fail forever
      traceId = withoutNul(traceId);
      query = withoutNul(query);
    }
  }

  /**
   * The user of an agent as the token names them: the user type, the user id (a reference), the
   * name and the token's subject.
   */
  public record User(String type, String id, String name, String subject) {}

  /**
   * The requestor of an event: the same for all requests of one user from one address, so stored
   * once in {@code audit_agent} and referenced by its {@code key}, a digest of the values (make
   * one with {@link #of} and keep it: the digest is a SHA-256).
   */
  public record Agent(long key, User user, String organization, String address) {
    public static Agent of(User user, String organization, String address) {
      String[] values = {user.type(), withoutNul(user.id()), withoutNul(user.name()), withoutNul(user.subject()),
          withoutNul(organization), address};
      java.security.MessageDigest sha;
      try {
        sha = java.security.MessageDigest.getInstance("SHA-256");
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
      for (String v : values) {
        // a length before each value (-1: null), so that no two lists of values run together alike
        byte[] b = v == null ? new byte[0] : v.getBytes(StandardCharsets.UTF_8);
        int n = v == null ? -1 : b.length;
        sha.update(new byte[] {(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
        sha.update(b);
      }
      long key = java.nio.ByteBuffer.wrap(sha.digest()).getLong();
      return new Agent(key, new User(values[0], values[1], values[2], values[3]), values[4], values[5]);
    }
  }

  private static String withoutNul(String s) {
    return s == null || s.indexOf('\0') < 0 ? s : s.replace('\0', '\uFFFD');
  }

  /** A version 7 UUID: time-ordered, so that the primary key grows at its right edge. */
  public static String newId(Instant at) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long msb = (at.toEpochMilli() << 16) | 0x7000 | (r.nextInt() & 0x0fff);
    long lsb = (r.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
    return new UUID(msb, lsb).toString();
  }

  /**
   * The table with each event's agent columns filled, from {@code audit_agent} (events since V80)
   * or from its own (before): to select from as {@code audit_event}. PostgreSQL pulls the join up
   * into the query, so conditions on the event's columns still use the table's indexes.
   */
  private static final String ROWS = "(SELECT e.id, e.recorded, e.patient, e.action, e.subtype, e.res_type, e.entity,"
      + " e.body, e.trace_id, e.query, coalesce(g.agent_type, e.agent_type) AS agent_type,"
      + " coalesce(g.agent_id, e.agent_id) AS agent_id, coalesce(g.agent_name, e.agent_name) AS agent_name,"
      + " coalesce(g.agent_subject, e.agent_subject) AS agent_subject, coalesce(g.agent_org, e.agent_org) AS agent_org,"
      + " coalesce(g.address, e.address) AS address"
      + " FROM audit_event e LEFT JOIN audit_agent g ON g.key = e.agent) audit_event";

  /** An event's access tags, derived from its patient column as the write path tags resources. */
  private static final String TAGS =
      "CASE WHEN patient IS NULL THEN '{}'::text[] ELSE ARRAY['patient:' || patient] END";

  // ---------------------------------------------------------------- the AuditEvent as JSON

  private static String lit(String s) {
    return "'" + s.replace("'", "''") + "'";
  }

  /** A column as a JSON string (escaped by PostgreSQL). */
  private static String str(String column) {
    return "to_json(" + column + ")::text";
  }

  /** {@code parts} when {@code column} is not null, else nothing (concat skips nulls). */
  private static String when(String column, String... parts) {
    return "CASE WHEN " + column + " IS NOT NULL THEN concat(" + String.join(", ", parts) + ") END";
  }

  private static String coding(String field, String system, String code, String display) {
    return "\"" + field + "\":" + codingObject(system, code, display);
  }

  private static String codingObject(String system, String code, String display) {
    return "{\"system\":\"" + system + "\",\"code\":\"" + code + "\",\"display\":\"" + display + "\"}";
  }

  private static final String AT = "to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
  private static final String EVENT_TYPE = coding("type", "http://hl7.org/fhir/audit-event-type", "rest",
      "RESTful Operation");
  private static final String SOURCE = ",\"source\":{\"site\":\"appointment-server\",\"identifier\":"
      + "{\"value\":\"appointment-server\"},\"type\":[" + codingObject("http://hl7.org/fhir/security-source-type",
      "4", "Application Server") + "]}";
  private static final String PATIENT_ENTITY = "}," + coding("type", "http://hl7.org/fhir/audit-entity-type", "1",
      "Person") + "," + coding("role", "http://hl7.org/fhir/object-role", "1", "Patient") + "},";
  private static final String RESOURCE_ENTITY = coding("type", "http://hl7.org/fhir/audit-entity-type", "2",
      "System Object") + "," + coding("role", "http://hl7.org/fhir/object-role", "4", "Domain Resource");
  private static final String TRACE_ENTITY = "}," + coding("type", "http://hl7.org/fhir/audit-entity-type", "2",
      "System Object") + "," + coding("role", "http://hl7.org/fhir/object-role", "21", "Job Stream")
      + ",\"name\":\"x-b3-traceid\"}]}";
  static final String OPERATION_SYSTEM = "http://hl7.org/fhir/ValueSet/operation";
  static final String INTERACTION_SYSTEM = "http://hl7.org/fhir/restful-interaction";

  /**
   * The DSTU3 AuditEvent of a row, as eHealth prescribes it: action, subtype (the interaction or
   * operation), outcomeDesc (the resource type), one requestor (the user, with the context
   * organization), the patient as entity (role 1), the resource with the base64-encoded query
   * (role 4), the {@code x-b3-traceid} (role 21). A row from before V70 is its stored JSON.
   */
  static final String BODY = "coalesce(body, concat(" + String.join(", ",
      lit("{\"resourceType\":\"AuditEvent\",\"id\":"), str("id"),
      lit(",\"meta\":{\"versionId\":\"1\",\"lastUpdated\":\""), AT, lit("\"}," + EVENT_TYPE + ",\"subtype\":[{\"system\":\""),
      "CASE WHEN starts_with(subtype, '$') THEN " + lit(OPERATION_SYSTEM) + " ELSE " + lit(INTERACTION_SYSTEM) + " END",
      lit("\",\"code\":"), str("subtype"), lit("}],\"action\":"), str("action"),
      lit(",\"recorded\":\""), AT, lit("\",\"outcome\":\"0\""),
      // no type: a system-level operation ($expunge, reindexing)
      when("res_type", lit(",\"outcomeDesc\":"), str("res_type")),
      lit(",\"agent\":[{"),
      when("agent_org", lit("\"extension\":[{\"url\":\"" + CONTEXT_ORGANIZATION + "\",\"valueReference\":{\"reference\":"),
          str("agent_org"), lit("}}],")),
      lit("\"role\":[{\"text\":"), str("agent_type"), lit("}]"),
      when("agent_id", lit(",\"reference\":{\"reference\":"), str("agent_id"),
          when("agent_name", lit(",\"display\":"), str("agent_name")), lit("}")),
      when("agent_subject", lit(",\"userId\":{\"value\":"), str("agent_subject"), lit("}")),
      when("agent_name", lit(",\"name\":"), str("agent_name")),
      lit(",\"requestor\":true"),
      when("address", lit(",\"network\":{\"address\":"), str("address"), lit(",\"type\":\"2\"}")),
      lit("}]" + SOURCE + ",\"entity\":["),
      when("patient", lit("{\"reference\":{\"reference\":"), str("patient"), lit(PATIENT_ENTITY)),
      lit("{"),
      when("entity", lit("\"reference\":{\"reference\":"), str("entity"), lit("},")),
      lit(RESOURCE_ENTITY),
      "CASE WHEN entity IS NULL AND res_type IS NOT NULL THEN concat(',\"name\":', " + str("res_type") + ") END",
      // encode() breaks base64 into lines of 76 characters
      when("query", lit(",\"query\":\""), "translate(encode(convert_to(query, 'UTF8'), 'base64'), E'\\n', '')", lit("\"")),
      lit("},{\"identifier\":{\"value\":"), str("trace_id"), lit(TRACE_ENTITY)) + "))";

  /**
   * The table's rows as the current resources a search reads (the columns of {@code resource},
   * and the event's own columns), to select from as a table: PostgreSQL inlines it, so conditions
   * on the columns use the table's indexes, and only the rows of a page are rendered.
   */
  public static final String AS_RESOURCES = "(SELECT 'AuditEvent'::text AS res_type, id AS res_id, 1::bigint AS version,"
      + " recorded AS last_updated, false AS deleted, " + BODY + " AS body, " + TAGS + " AS tags, patient, action,"
      + " subtype, entity, agent_id, agent_subject FROM " + ROWS + ")";

  /** The table's rows as resource versions, for the history queries. */
  static final String AS_VERSIONS = "SELECT 'AuditEvent' AS res_type, id AS res_id, 1::bigint AS version,"
      + " recorded AS last_updated, false AS deleted, " + BODY + " AS body, " + TAGS + " AS tags, 'POST' AS method"
      + " FROM " + ROWS;

  /** resource_history together with the audit trail. */
  static final String HISTORY_WITH_AUDIT = "(SELECT res_type, res_id, version, last_updated, deleted, body, tags, method"
      + " FROM resource_history UNION ALL " + AS_VERSIONS + ") h";

  /**
   * The time a version 7 UUID was made, as an SQL expression over the text {@code id}, or null
   * for any other id: the key is (recorded, id), and an event's id is made at its recorded time.
   */
  public static String recordedOf(String id) {
    return "CASE WHEN " + id + " ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'"
        + " THEN timestamptz 'epoch' + ('x' || substr(" + id + ", 1, 8) || substr(" + id + ", 10, 4))::bit(48)::bigint"
        + " * interval '1 millisecond' END";
  }

  static final String READ = "SELECT 1::bigint, recorded, false, " + BODY + ", " + TAGS
      + " FROM " + ROWS + ", (SELECT ?::text AS k) p WHERE recorded = " + recordedOf("p.k") + " AND id = p.k";

  private static final String COLUMNS = "id, recorded, agent, patient, action, subtype, res_type, entity, trace_id, query";

  private static final String AGENT_COLUMNS = "key, agent_type, agent_id, agent_name, agent_subject, agent_org, address";

  /**
   * A write's event with its agent, in one statement: the agent's row is there after the first
   * request of its user (the conflict check finds it), the event's row is new. ON CONFLICT: a
   * batch retried after its commit's acknowledgement was lost is stored once.
   */
  private static final String INSERT = "WITH a AS (INSERT INTO audit_agent (" + AGENT_COLUMNS + ")"
      + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING)"
      + " INSERT INTO audit_event (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";

  /** A write's events, in the write's transaction (usually one). */
  static void insert(Connection c, List<Event> events) throws SQLException {
    if (events.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(INSERT)) {
      for (Event e : events) {
        bindWithUpdate(ps, 1, e);
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
   * {@code statement} (a WITH query whose last part is a SELECT without parameters) that also
   * stores one event with its agent, the event only if the CTE {@code written} has a row: the write
   * and its audit in one statement. Parameters after the statement's own: {@link #bindWithUpdate}.
   */
  static String withUpdate(String statement, String written) {
    int last = -1; // the last SELECT outside parentheses: the query after the CTEs
    for (int i = 0, depth = 0; i < statement.length(); i++) {
      char ch = statement.charAt(i);
      depth += ch == '(' ? 1 : ch == ')' ? -1 : 0;
      if (depth == 0 && statement.startsWith("SELECT ", i)) {
        last = i;
      }
    }
    if (!statement.startsWith("WITH ") || last < 0 || statement.indexOf('?', last) >= 0) {
      throw new IllegalArgumentException("not a WITH query ending in a SELECT without parameters: " + statement);
    }
    return statement.substring(0, last).stripTrailing() + ",\n"
        + "agent AS (INSERT INTO audit_agent (" + AGENT_COLUMNS + ")"
        + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING),\n"
        + "audit AS (INSERT INTO audit_event (" + COLUMNS + ")"
        + " SELECT ?::text, ?::timestamptz, ?::bigint, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text"
        + " FROM " + written + " ON CONFLICT DO NOTHING)\n" + statement.substring(last);
  }

  /** Binds {@code e} to the parameters {@link #withUpdate} adds, from {@code first} on. */
  static void bindWithUpdate(PreparedStatement ps, int first, Event e) throws SQLException {
    int i = agent(ps, first, e.agent());
    ps.setString(i++, e.id());
    ps.setObject(i++, OffsetDateTime.ofInstant(e.recorded(), ZoneOffset.UTC));
    ps.setLong(i++, e.agent().key());
    for (String value : e.texts()) {
      ps.setString(i++, value);
    }
  }

  private static int agent(PreparedStatement ps, int i, Agent a) throws SQLException {
    ps.setLong(i++, a.key());
    User u = a.user();
    for (String value : new String[] {u.type(), u.id(), u.name(), u.subject(), a.organization(), a.address()}) {
      ps.setString(i++, value);
    }
    return i;
  }

  private static final String INSERT_AGENT = "INSERT INTO audit_agent (" + AGENT_COLUMNS + ")"
      + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";

  /**
   * A batch of read events in one binary COPY: PostgreSQL parses no statement, no text and no
   * timestamp per row, and the values need no escaping (each is sent with its length). The
   * batch's agents (usually a few for thousands of events) go first, in the same transaction.
   */
  static void copy(Connection c, List<Event> events) throws SQLException {
    java.util.Map<Long, Agent> agents = new java.util.HashMap<>();
    for (Event e : events) {
      agents.putIfAbsent(e.agent().key(), e.agent());
    }
    try (PreparedStatement ps = c.prepareStatement(INSERT_AGENT)) {
      for (Agent a : agents.values()) {
        agent(ps, 1, a);
        ps.addBatch();
      }
      ps.executeBatch();
    }
    CopyData data = new CopyData(events.size() * 200);
    data.write(COPY_HEADER, 0, COPY_HEADER.length);
    for (Event e : events) {
      data.int16(3 + 7);
      data.text(e.id());
      data.int32(8);
      data.int64((e.recorded().getEpochSecond() - POSTGRES_EPOCH_SECOND) * 1_000_000 + e.recorded().getNano() / 1_000);
      data.int32(8);
      data.int64(e.agent().key());
      for (String value : e.texts()) {
        data.text(value);
      }
    }
    data.int16(-1);
    try {
      CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI().copyIn(
          "COPY audit_event (" + COLUMNS + ") FROM STDIN (FORMAT binary)");
      try {
        copy.writeToCopy(data.bytes(), 0, data.size());
        copy.endCopy();
      } finally {
        if (copy.isActive()) {
          copy.cancelCopy();
        }
      }
    } catch (SQLException e) {
      if (!"23505".equals(e.getSQLState())) {
        throw e;
      }
      // some of the batch was stored by an attempt whose success went unheard: store the rest
      insert(c, events);
    }
  }

  /** The binary COPY signature, flags and header extension length. */
  private static final byte[] COPY_HEADER = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0,
      0, 0, 0, 0, 0, 0, 0, 0};
  /** 2000-01-01T00:00:00Z, where PostgreSQL's timestamps count from. */
  private static final long POSTGRES_EPOCH_SECOND = 946_684_800L;

  /**
   * The bytes of a binary COPY: big-endian integers, text as UTF-8 after its length (-1: null).
   * Unlike ByteArrayOutputStream, no lock per byte written.
   */
  private static final class CopyData {
    private byte[] buf;
    private int size;

    CopyData(int capacity) {
      buf = new byte[capacity];
    }

    byte[] bytes() {
      return buf;
    }

    int size() {
      return size;
    }

    private void room(int n) {
      if (size + n > buf.length) {
        buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
      }
    }

    void write(byte[] b, int off, int len) {
      room(len);
      System.arraycopy(b, off, buf, size, len);
      size += len;
    }

    void int16(int v) {
      room(2);
      buf[size++] = (byte) (v >>> 8);
      buf[size++] = (byte) v;
    }

    void int32(int v) {
      room(4);
      for (int shift = 24; shift >= 0; shift -= 8) {
        buf[size++] = (byte) (v >>> shift);
      }
    }

    void int64(long v) {
      int32((int) (v >>> 32));
      int32((int) v);
    }

    void text(String s) {
      if (s == null) {
        int32(-1);
        return;
      }
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      int32(b.length);
      write(b, 0, b.length);
    }
  }
}
