package io.appointmentserver.security;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.appointmentserver.security.Principal.UserType;
import io.appointmentserver.store.AuditEvents;
import io.appointmentserver.store.AuditEvents.Agent;
import io.appointmentserver.store.AuditEvents.Event;
import io.appointmentserver.store.AuditEvents.Subject;
import io.appointmentserver.store.AuditEvents.Trace;
import io.appointmentserver.store.AuditEvents.User;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoreUnavailableException;
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
  /** A CPR number: ddmmyy, an optional dash, four digits. */
  private static final Pattern CPR = Pattern.compile(
      "(?<![0-9])(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])[0-9]{2}-?[0-9]{4}(?![0-9])");

  /** What the audit needs of the HTTP request. */
  public record RequestInfo(String traceId, String clientAddress, String query, String method) {}

  private final ResourceStore store;
  private final Clock clock;
  private final ConcurrentLinkedQueue<Event> pending = new ConcurrentLinkedQueue<>();
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
   * What a request did: {@code code} is the action, C, R, U, D or E; {@code subtype} the
   * interaction or operation name; {@code type} the resource type; {@code entity} the resource (or
   * version) it concerned, null for a search.
   */
  public record Action(String code, String subtype, String type, String entity) {}

  /**
   * The events of one request: one per patient among {@code tags} (or one without a patient). An
   * event is the request's values only: the AuditEvent is rendered when the trail is read.
   */
  public List<Event> events(Caller caller, Action what, String[] tags) {
    Principal p = caller == null ? null : caller.user();
    RequestInfo info = caller == null ? null : caller.request();
    if (p == null || p.userType() == UserType.SYSTEM || info == null || "HEAD".equals(info.method())) {
      return List.of();
    }
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    String query = info.query() == null || info.query().isEmpty() ? null : maskCpr(info.query());
    // the same agent and trace for each of the request's events
    Agent agent = agent(p, info);
    Trace trace = new Trace(info.traceId(), query);
    List<Event> out = new ArrayList<>(1);
    if (tags != null) {
      for (String t : tags) {
        if (t.startsWith(AccessTags.PATIENT)) {
          out.add(event(what, t.substring(AccessTags.PATIENT.length()), agent, trace, now));
        }
      }
    }
    if (out.isEmpty()) {
      out.add(event(what, null, agent, trace, now));
    }
    return out;
  }

  /**
   * Stores at once (not queued) the one event of a maintenance operation that removes or rebuilds
   * data ({@code $expunge}, reindexing), whoever sent it: SYSTEM users, whose requests are
   * otherwise not audited, are the only ones who may. {@code detail}, the operation's parameters
   * and outcome as a query string, is the event's query.
   */
  public void maintenance(Caller caller, Action what, String detail) {
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    RequestInfo info = caller.request();
    Trace trace = new Trace(info == null ? null : info.traceId(), detail);
    Agent agent = agent(caller.user(), info == null ? new RequestInfo(null, null, null, null) : info);
    store.writes().appendAudit(List.of(event(what, null, agent, trace, now)));
  }

  private static Event event(Action what, String patient, Agent agent, Trace trace, Instant now) {
    return new Event(AuditEvents.newId(now), now,
        new Subject(patient, what.code(), what.subtype(), what.type(), what.entity()), agent, trace);
  }

  /** What an agent is made of; the same for every request of one user from one address. */
  private record AgentValues(Principal.Identity user, String organization, String address) {}

  /** The agents seen lately, so that a request computes no digest (bounded: an unused one is made again). */
  private final Cache<AgentValues, Agent> agents = Caffeine.newBuilder().maximumSize(10_000)
      .executor(Runnable::run) // upkeep on the caller: no thread of the common pool woken for it (see ReadCache)
      .build();

  private Agent agent(Principal p, RequestInfo info) {
    AgentValues v = new AgentValues(p.identity(), p.context().organization(), info.clientAddress());
    return agents.get(v, k -> Agent.of(new User(k.user().userType().name(), k.user().userId(), k.user().name(),
        k.user().subject()), k.organization(), k.address()));
  }

  /** Queues a read's events; they are stored within a second. */
  public void record(List<Event> events) {
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
    List<Event> batch = new ArrayList<>();
    long backoff = GATHER_MILLIS;
    while (true) {
      boolean last = closing; // close() comes after the last request: all its events are queued
      for (Event e; batch.size() < MAX_BATCH && (e = pending.poll()) != null; ) {
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
        store.writes().appendAudit(batch);
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
