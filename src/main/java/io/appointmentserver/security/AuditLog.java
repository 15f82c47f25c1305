package io.appointmentserver.security;

import ca.uhn.fhir.context.FhirContext;
import io.appointmentserver.security.Principal.UserType;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoreUnavailableException;
import io.appointmentserver.store.StoredResource;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.hl7.fhir.dstu3.model.AuditEvent;
import org.hl7.fhir.dstu3.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.dstu3.model.AuditEvent.AuditEventAgentComponent;
import org.hl7.fhir.dstu3.model.AuditEvent.AuditEventAgentNetworkType;
import org.hl7.fhir.dstu3.model.AuditEvent.AuditEventEntityComponent;
import org.hl7.fhir.dstu3.model.AuditEvent.AuditEventOutcome;
import org.hl7.fhir.dstu3.model.CodeableConcept;
import org.hl7.fhir.dstu3.model.Coding;
import org.hl7.fhir.dstu3.model.Identifier;
import org.hl7.fhir.dstu3.model.InstantType;
import org.hl7.fhir.dstu3.model.Meta;
import org.hl7.fhir.dstu3.model.Reference;
import org.hl7.fhir.dstu3.model.StringType;
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

  private final FhirContext ctx;
  private final ResourceStore store;
  private final Clock clock;
  private final LinkedBlockingQueue<StoredResource> pending = new LinkedBlockingQueue<>();
  private final Thread writer;
  private volatile boolean closing;

  public AuditLog(FhirContext ctx, ResourceStore store, Clock clock) {
    this.ctx = ctx;
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
      AuditEvent e = event(p, info, action, subtype, type, resourceRef, patient, now);
      e.setId(id);
      e.setMeta(new Meta().setVersionId("1").setLastUpdatedElement(new InstantType(Date.from(now))));
      String[] eventTags = patient == null ? new String[0] : new String[] {AccessTags.PATIENT + patient};
      out.add(new StoredResource("AuditEvent", id, 1, now, false, ctx.newJsonParser().encodeResourceToString(e),
          eventTags));
    }
    return out;
  }

  private AuditEvent event(Principal p, RequestInfo info, String action, String subtype, String type,
      String resourceRef, String patient, Instant now) {
    AuditEvent e = new AuditEvent();
    e.setType(new Coding("http://hl7.org/fhir/audit-event-type", "rest", "RESTful Operation"));
    e.addSubtype(subtype.startsWith("$")
        ? new Coding("http://hl7.org/fhir/ValueSet/operation", subtype, null)
        : new Coding("http://hl7.org/fhir/restful-interaction", subtype, null));
    e.setAction(AuditEventAction.fromCode(action));
    e.setRecorded(Date.from(now));
    e.setOutcome(AuditEventOutcome._0);
    e.setOutcomeDesc(type);

    AuditEventAgentComponent agent = e.addAgent().setRequestor(true);
    agent.addRole(new CodeableConcept().setText(p.userType().name()));
    if (p.userId() != null) {
      agent.setReference(new Reference(p.userId()).setDisplay(p.name()));
    }
    if (p.subject() != null) {
      agent.setUserId(new Identifier().setValue(p.subject()));
    }
    agent.setName(p.name());
    if (p.context().organization() != null) {
      agent.addExtension(CONTEXT_ORGANIZATION, new Reference(p.context().organization()));
    }
    if (info.clientAddress() != null) {
      agent.getNetwork().setAddress(info.clientAddress()).setType(AuditEventAgentNetworkType._2);
    }
    e.getSource().setSite("appointment-server").setIdentifier(new Identifier().setValue("appointment-server"))
        .addType(new Coding("http://hl7.org/fhir/security-source-type", "4", "Application Server"));

    if (patient != null) {
      e.addEntity().setReference(new Reference(patient))
          .setType(new Coding("http://hl7.org/fhir/audit-entity-type", "1", "Person"))
          .setRole(new Coding("http://hl7.org/fhir/object-role", "1", "Patient"));
    }
    AuditEventEntityComponent what = e.addEntity()
        .setType(new Coding("http://hl7.org/fhir/audit-entity-type", "2", "System Object"))
        .setRole(new Coding("http://hl7.org/fhir/object-role", "4", "Domain Resource"));
    if (resourceRef != null) {
      what.setReference(new Reference(resourceRef));
    } else {
      what.setName(type);
    }
    if (info.query() != null && !info.query().isEmpty()) {
      // base64Binary: the parser writes these bytes base64-encoded
      what.setQuery(maskCpr(info.query()).getBytes(StandardCharsets.UTF_8));
    }
    e.addEntity().setIdentifier(new Identifier().setValue(info.traceId()))
        .setType(new Coding("http://hl7.org/fhir/audit-entity-type", "2", "System Object"))
        .setRole(new Coding("http://hl7.org/fhir/object-role", "21", "Job Stream"))
        .setNameElement(new StringType("x-b3-traceid"));
    return e;
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
