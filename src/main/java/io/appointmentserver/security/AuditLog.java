package io.appointmentserver.security;

import io.appointmentserver.security.Principal.UserType;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoreUnavailableException;
import io.appointmentserver.store.StoredResource;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit trail: one DSTU3 AuditEvent per request and per patient involved, stored in the
 * append-only audit table and readable through the API as AuditEvent resources (with the
 * AuditEvent privileges). A write's events go into the write's own transaction; a read's are
 * queued and written in batches (one COPY) by one thread, at the latest a second later, on
 * shutdown too, and retried (never dropped) while the database is away. SYSTEM users, HEAD requests and refused requests are not audited.
 */
public final class AuditLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
  /** Where the authentication filter leaves the {@link RequestInfo}. */
  public static final String ATTRIBUTE = "io.appointmentserver.security.AuditLog.RequestInfo";
  static final String CONTEXT_ORGANIZATION = "urn:appointment-server:audit:context-organization";
  /** A CPR number: ddmmyy, an optional dash, four digits. */
  private static final Pattern CPR = Pattern.compile(
      "(?<![0-9])(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])[0-9]{2}-?[0-9]{4}(?![0-9])");

  /** What the audit needs of the HTTP request. */
  public record RequestInfo(String traceId, String clientAddress, String query, String method) {}

  private final ResourceStore store;
  private final Clock clock;
  private final ConcurrentLinkedQueue<StoredResource> pending = new ConcurrentLinkedQueue<>();
  private final Thread writer;
  private volatile boolean closing;

  public AuditLog(ResourceStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
    this.writer = new Thread(this::drain, "audit-writer");
    writer.setDaemon(true);
    writer.start();
  }

  public static String maskCpr(String s) {
    return s == null ? null : CPR.matcher(s).replaceAll("xxxxxx-xxxx");
  }

  /**
   * The events of one request: one per patient among {@code tags} (or one without a patient).
   * {@code action} is C, R, U, D or E; {@code subtype} the interaction or operation name.
   */
  public List<StoredResource> events(Principal p, RequestInfo info, String action, String subtype,
      String type, String resourceRef, String[] tags) {
    if (p == null || p.userType() == UserType.SYSTEM || info == null || "HEAD".equals(info.method())) {
      return List.of();
    }
    List<String> patients = new ArrayList<>();
    if (tags != null) {
      for (String t : tags) {
        if (t.startsWith(AccessTags.PATIENT)) {
          patients.add(t.substring(AccessTags.PATIENT.length()));
        }
      }
    }
    if (patients.isEmpty()) {
      patients.add(null);
    }
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    List<StoredResource> out = new ArrayList<>(patients.size());
    for (String patient : patients) {
      String id = ResourceStore.newAuditId(now);
      String[] eventTags = patient == null ? new String[0] : new String[] {AccessTags.PATIENT + patient};
      out.add(new StoredResource("AuditEvent", id, 1, now, false,
          json(id, p, info, action, subtype, type, resourceRef, patient, now), eventTags));
    }
    return out;
  }

  private static final DateTimeFormatter INSTANT =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.UTC);

  private static String coding(String field, String system, String code, String display) {
    return "\"" + field + "\":" + codingObject(system, code, display);
  }

  private static String codingObject(String system, String code, String display) {
    return "{\"system\":\"" + system + "\",\"code\":\"" + code + "\",\"display\":\"" + display + "\"}";
  }

  // the constant parts of every event, JSON text as it is sent
  private static final String TYPE = "," + coding("type", "http://hl7.org/fhir/audit-event-type", "rest",
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

  /**
   * The DSTU3 AuditEvent as JSON, written straight into one buffer from constant parts and the
   * request's values: it is made for every audited request, so it skips HAPI's model and a
   * generator (the tests read it back through the API).
   */
  static String json(String id, Principal p, RequestInfo info, String action, String subtype, String type,
      String resourceRef, String patient, Instant now) {
    String at = INSTANT.format(now);
    StringBuilder b = new StringBuilder(1500);
    b.append("{\"resourceType\":\"AuditEvent\",\"id\":");
    str(b, id);
    b.append(",\"meta\":{\"versionId\":\"1\",\"lastUpdated\":\"").append(at).append("\"}").append(TYPE);
    b.append(",\"subtype\":[{\"system\":\"").append(subtype.startsWith("$")
        ? "http://hl7.org/fhir/ValueSet/operation" : "http://hl7.org/fhir/restful-interaction").append("\",\"code\":");
    str(b, subtype);
    b.append("}],\"action\":");
    str(b, action);
    b.append(",\"recorded\":\"").append(at).append("\",\"outcome\":\"0\",\"outcomeDesc\":");
    str(b, type);

    b.append(",\"agent\":[{");
    if (p.context().organization() != null) {
      b.append("\"extension\":[{\"url\":\"" + CONTEXT_ORGANIZATION + "\",\"valueReference\":{\"reference\":");
      str(b, p.context().organization());
      b.append("}}],");
    }
    b.append("\"role\":[{\"text\":");
    str(b, p.userType().name());
    b.append("}]");
    if (p.userId() != null) {
      b.append(",\"reference\":{\"reference\":");
      str(b, p.userId());
      if (p.name() != null) {
        b.append(",\"display\":");
        str(b, p.name());
      }
      b.append('}');
    }
    if (p.subject() != null) {
      b.append(",\"userId\":{\"value\":");
      str(b, p.subject());
      b.append('}');
    }
    if (p.name() != null) {
      b.append(",\"name\":");
      str(b, p.name());
    }
    b.append(",\"requestor\":true");
    if (info.clientAddress() != null) {
      b.append(",\"network\":{\"address\":");
      str(b, info.clientAddress());
      b.append(",\"type\":\"2\"}");
    }
    b.append("}]").append(SOURCE);

    b.append(",\"entity\":[");
    if (patient != null) {
      b.append("{\"reference\":{\"reference\":");
      str(b, patient);
      b.append(PATIENT_ENTITY);
    }
    b.append('{');
    if (resourceRef != null) {
      b.append("\"reference\":{\"reference\":");
      str(b, resourceRef);
      b.append("},");
    }
    b.append(RESOURCE_ENTITY);
    if (resourceRef == null) {
      b.append(",\"name\":");
      str(b, type);
    }
    if (info.query() != null && !info.query().isEmpty()) {
      b.append(",\"query\":\"")
          .append(Base64.getEncoder().encodeToString(maskCpr(info.query()).getBytes(StandardCharsets.UTF_8)))
          .append('"');
    }
    b.append("},{\"identifier\":{\"value\":");
    str(b, info.traceId());
    return b.append(TRACE_ENTITY).toString();
  }

  /** A JSON string: quotes, backslashes and control characters escaped, the rest as it is. */
  private static void str(StringBuilder b, String s) {
    b.append('"');
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\' || c < 0x20) {
        b.append(s, start, i);
        switch (c) {
          case '"' -> b.append("\\\"");
          case '\\' -> b.append("\\\\");
          case '\n' -> b.append("\\n");
          case '\r' -> b.append("\\r");
          case '\t' -> b.append("\\t");
          default -> b.append(String.format("\\u%04X", (int) c));
        }
        start = i + 1;
      }
    }
    b.append(s, start, s.length()).append('"');
  }

  /** Queues a read's events; they are stored within a second. */
  public void record(List<StoredResource> events) {
    pending.addAll(events);
  }

  /**
   * How long read events are gathered before they are stored together: the writer sleeps between
   * batches rather than waking for every event (which would cost each read a thread wake-up and
   * the database a commit for every few events).
   */
  private static final long GATHER_MILLIS = 100;
  private static final int MAX_BATCH = 5_000;

  private void drain() {
    List<StoredResource> batch = new ArrayList<>();
    long backoff = GATHER_MILLIS;
    while (true) {
      boolean last = closing; // close() comes after the last request: all its events are queued
      for (StoredResource e; batch.size() < MAX_BATCH && (e = pending.poll()) != null; ) {
        batch.add(e);
      }
      if (batch.isEmpty()) {
        if (last) {
          return;
        }
        pause(GATHER_MILLIS);
        continue;
      }
      try {
        int stored = batch.size();
        store.appendAudit(batch);
        batch.clear();
        backoff = GATHER_MILLIS;
        if (stored < MAX_BATCH && !closing) {
          pause(GATHER_MILLIS);
        }
      } catch (StoreUnavailableException | IllegalStateException e) {
        // keep the batch and try again: audit events are never dropped
        log.warn("audit events not yet stored ({} waiting): {}", batch.size() + pending.size(), e.getMessage());
        pause(backoff);
        backoff = Math.min(backoff * 2, 5_000);
        if (closing && backoff >= 5_000) {
          log.error("{} audit events could not be stored before shutdown", batch.size() + pending.size());
          return;
        }
      }
    }
  }

  private void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      closing = true; // nobody else interrupts this thread: take it as the end
    }
  }

  /** Stores what is queued, then stops. */
  @Override
  public void close() throws InterruptedException {
    closing = true;
    writer.join(30_000);
  }
}
