package io.appointmentserver.security;

import io.appointmentserver.security.Principal.UserType;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoreUnavailableException;
import io.appointmentserver.store.StoredResource;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit trail: one DSTU3 AuditEvent per request and per patient involved, stored as an
 * ordinary AuditEvent resource (readable through the API with the AuditEvent privileges). A
 * write's events go into the write's own transaction; a read's are queued and written in batches
 * by one thread, at the latest a second later, on shutdown too, and retried (never dropped)
 * while the database is away. SYSTEM users, HEAD requests and refused requests are not audited.
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
  private final LinkedBlockingQueue<StoredResource> pending = new LinkedBlockingQueue<>();
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
      String id = UUID.randomUUID().toString();
      String[] eventTags = patient == null ? new String[0] : new String[] {AccessTags.PATIENT + patient};
      out.add(new StoredResource("AuditEvent", id, 1, now, false,
          json(id, p, info, action, subtype, type, resourceRef, patient, now), eventTags));
    }
    return out;
  }

  private static final JsonFactory JSON = new JsonFactory();
  private static final DateTimeFormatter INSTANT =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.UTC);

  /**
   * The DSTU3 AuditEvent as JSON, written straight with Jackson: it is made for every audited
   * request, so it skips building HAPI's model (the tests read it back through the API).
   */
  private static String json(String id, Principal p, RequestInfo info, String action, String subtype, String type,
      String resourceRef, String patient, Instant now) {
    StringWriter out = new StringWriter(1024);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      String at = INSTANT.format(now);
      g.writeStartObject();
      g.writeStringField("resourceType", "AuditEvent");
      g.writeStringField("id", id);
      g.writeObjectFieldStart("meta");
      g.writeStringField("versionId", "1");
      g.writeStringField("lastUpdated", at);
      g.writeEndObject();
      coding(g, "type", "http://hl7.org/fhir/audit-event-type", "rest", "RESTful Operation");
      g.writeArrayFieldStart("subtype");
      g.writeStartObject();
      g.writeStringField("system", subtype.startsWith("$")
          ? "http://hl7.org/fhir/ValueSet/operation" : "http://hl7.org/fhir/restful-interaction");
      g.writeStringField("code", subtype);
      g.writeEndObject();
      g.writeEndArray();
      g.writeStringField("action", action);
      g.writeStringField("recorded", at);
      g.writeStringField("outcome", "0");
      g.writeStringField("outcomeDesc", type);

      g.writeArrayFieldStart("agent");
      g.writeStartObject();
      if (p.context().organization() != null) {
        g.writeArrayFieldStart("extension");
        g.writeStartObject();
        g.writeStringField("url", CONTEXT_ORGANIZATION);
        g.writeObjectFieldStart("valueReference");
        g.writeStringField("reference", p.context().organization());
        g.writeEndObject();
        g.writeEndObject();
        g.writeEndArray();
      }
      g.writeArrayFieldStart("role");
      g.writeStartObject();
      g.writeStringField("text", p.userType().name());
      g.writeEndObject();
      g.writeEndArray();
      if (p.userId() != null) {
        g.writeObjectFieldStart("reference");
        g.writeStringField("reference", p.userId());
        if (p.name() != null) {
          g.writeStringField("display", p.name());
        }
        g.writeEndObject();
      }
      if (p.subject() != null) {
        g.writeObjectFieldStart("userId");
        g.writeStringField("value", p.subject());
        g.writeEndObject();
      }
      if (p.name() != null) {
        g.writeStringField("name", p.name());
      }
      g.writeBooleanField("requestor", true);
      if (info.clientAddress() != null) {
        g.writeObjectFieldStart("network");
        g.writeStringField("address", info.clientAddress());
        g.writeStringField("type", "2");
        g.writeEndObject();
      }
      g.writeEndObject();
      g.writeEndArray();

      g.writeObjectFieldStart("source");
      g.writeStringField("site", "appointment-server");
      g.writeObjectFieldStart("identifier");
      g.writeStringField("value", "appointment-server");
      g.writeEndObject();
      g.writeArrayFieldStart("type");
      codingObject(g, "http://hl7.org/fhir/security-source-type", "4", "Application Server");
      g.writeEndArray();
      g.writeEndObject();

      g.writeArrayFieldStart("entity");
      if (patient != null) {
        g.writeStartObject();
        g.writeObjectFieldStart("reference");
        g.writeStringField("reference", patient);
        g.writeEndObject();
        coding(g, "type", "http://hl7.org/fhir/audit-entity-type", "1", "Person");
        coding(g, "role", "http://hl7.org/fhir/object-role", "1", "Patient");
        g.writeEndObject();
      }
      g.writeStartObject();
      if (resourceRef != null) {
        g.writeObjectFieldStart("reference");
        g.writeStringField("reference", resourceRef);
        g.writeEndObject();
      }
      coding(g, "type", "http://hl7.org/fhir/audit-entity-type", "2", "System Object");
      coding(g, "role", "http://hl7.org/fhir/object-role", "4", "Domain Resource");
      if (resourceRef == null) {
        g.writeStringField("name", type);
      }
      if (info.query() != null && !info.query().isEmpty()) {
        g.writeStringField("query", Base64.getEncoder().encodeToString(maskCpr(info.query()).getBytes(StandardCharsets.UTF_8)));
      }
      g.writeEndObject();
      g.writeStartObject();
      g.writeObjectFieldStart("identifier");
      g.writeStringField("value", info.traceId());
      g.writeEndObject();
      coding(g, "type", "http://hl7.org/fhir/audit-entity-type", "2", "System Object");
      coding(g, "role", "http://hl7.org/fhir/object-role", "21", "Job Stream");
      g.writeStringField("name", "x-b3-traceid");
      g.writeEndObject();
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static void coding(JsonGenerator g, String field, String system, String code, String display)
      throws IOException {
    g.writeFieldName(field);
    codingObject(g, system, code, display);
  }

  private static void codingObject(JsonGenerator g, String system, String code, String display) throws IOException {
    g.writeStartObject();
    g.writeStringField("system", system);
    g.writeStringField("code", code);
    g.writeStringField("display", display);
    g.writeEndObject();
  }

  /** Queues a read's events; they are stored within a second. */
  public void record(List<StoredResource> events) {
    pending.addAll(events);
  }

  private void drain() {
    List<StoredResource> batch = new ArrayList<>();
    long backoff = 100;
    while (true) {
      try {
        if (batch.isEmpty()) {
          StoredResource first = pending.poll(200, TimeUnit.MILLISECONDS);
          if (first == null) {
            if (closing) {
              return;
            }
            continue;
          }
          batch.add(first);
          pending.drainTo(batch, 999);
        }
        store.insertAll(batch);
        batch.clear();
        backoff = 100;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        closing = true;
      } catch (StoreUnavailableException | IllegalStateException e) {
        // keep the batch and try again: audit events are never dropped
        log.warn("audit events not yet stored ({} waiting): {}", batch.size() + pending.size(), e.getMessage());
        try {
          Thread.sleep(backoff);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          closing = true;
        }
        backoff = Math.min(backoff * 2, 5_000);
        if (closing && backoff >= 5_000) {
          log.error("{} audit events could not be stored before shutdown", batch.size() + pending.size());
          return;
        }
      }
    }
  }

  /** Stores what is queued, then stops. */
  @Override
  public void close() throws InterruptedException {
    closing = true;
    writer.join(30_000);
  }
}
