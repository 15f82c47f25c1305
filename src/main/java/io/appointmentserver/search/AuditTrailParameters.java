package io.appointmentserver.search;

import io.appointmentserver.search.Match.DateMatch;
import io.appointmentserver.security.AccessTags;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The AuditEvent search parameters (<a href="https://hl7.org/fhir/STU3/auditevent.html#search">DSTU3
 * AuditEvent</a>) over the audit trail: the events are rows of the append-only table
 * {@code audit_event}, not in the search index (indexing them would make every audited request
 * write index rows). Each parameter is a condition on the columns an event's JSON is rendered
 * from ({@link io.appointmentserver.store.AuditEvents}): {@code date} and {@code _lastUpdated} on
 * {@code recorded} and {@code patient} on {@code patient} (both indexed); the others on the rows
 * those leave. What every event has alike (its type, outcome, the entities' types and roles) is
 * decided here, without SQL.
 */
final class AuditTrailParameters {
  private static final String EVENT_TYPE_SYSTEM = "http://hl7.org/fhir/audit-event-type";
  private static final String ENTITY_TYPE_SYSTEM = "http://hl7.org/fhir/audit-entity-type";
  private static final String OBJECT_ROLE_SYSTEM = "http://hl7.org/fhir/object-role";
  private static final String OPERATION_SYSTEM = "http://hl7.org/fhir/ValueSet/operation";
  private static final String INTERACTION_SYSTEM = "http://hl7.org/fhir/restful-interaction";
  private static final Set<String> TOKENS =
      Set.of("type", "subtype", "entity-type", "entity-role", "user", "action", "outcome");

  private AuditTrailParameters() {}

  static boolean supports(String name) {
    return name.equals("date") || name.equals("patient") || name.equals("entity") || name.equals("agent")
        || TOKENS.contains(name);
  }

  /** The condition of one parameter (a repeat; its values comma-separated). */
  static Audit condition(String name, String modifier, List<String> values, SearchQuery.Setting setting) {
    boolean not = "not".equals(modifier);
    boolean token = TOKENS.contains(name);
    if (modifier != null && !(not && token)) {
      throw new InvalidSearchException("The modifier :" + modifier + " is not supported on the AuditEvent parameter "
          + name + (token ? " (supported: :not)" : ""));
    }
    List<Event> alts = new ArrayList<>();
    for (String v : values) {
      alts.add(switch (name) {
        case "date" -> new Recorded(DateMatch.parse(name, v, setting.zone(), setting.now()));
        case "patient" -> {
          String ref = reference(v, setting.ownBases());
          yield new Patient(ref.contains("/") ? ref : "Patient/" + ref);
        }
        case "entity" -> new Entity(typedReference(name, v, setting.ownBases()));
        case "agent" -> new Agent(typedReference(name, v, setting.ownBases()));
        case "action" -> new Action(v);
        case "outcome" -> new Known(v.equals("0")); // every recorded request succeeded
        default -> coding(name, v);
      });
    }
    return new Audit(not, alts);
  }

  /**
   * {@code code}, {@code system|code}, {@code |code} or {@code system|} against the Codings (for
   * {@code user}, the Identifier) the parameter names.
   */
  private static Event coding(String name, String v) {
    List<String> parts = SearchQuery.split(v, '|');
    if (parts.size() > 2) {
      throw new InvalidSearchException("A token is code, system|code, |code or system|, not " + v);
    }
    String system = parts.size() == 2 ? parts.get(0) : null;
    String code = parts.get(parts.size() - 1);
    switch (name) {
      case "type" -> {
        return new Known(system(system, EVENT_TYPE_SYSTEM) && (code.isEmpty() || code.equals("rest")));
      }
      case "subtype" -> {
        if (system != null && !system.equals(OPERATION_SYSTEM) && !system.equals(INTERACTION_SYSTEM)) {
          return new Known(false);
        }
        return new Subtype(system == null ? null : system.equals(OPERATION_SYSTEM), code);
      }
      case "user" -> { // the agent's userId: an Identifier without a system
        return system != null && !system.isEmpty() ? new Known(false) : new User(code);
      }
      default -> { // entity-type and entity-role: the patient (1, 1), the resource (2, 4) and the trace id (2, 21)
        boolean type = name.equals("entity-type");
        if (!system(system, type ? ENTITY_TYPE_SYSTEM : OBJECT_ROLE_SYSTEM)) {
          return new Known(false);
        }
        if (code.isEmpty() || code.equals(type ? "2" : "4") || (!type && code.equals("21"))) {
          return new Known(true);
        }
        return code.equals("1") ? new PatientEntity() : new Known(false);
      }
    }
  }

  /** One repeat of a parameter: one of its values ({@code not}: none of them) on the trail's columns. */
  record Audit(boolean not, List<Event> anyOf) implements Condition {
    @Override
    public Sql sql(Condition.Row row) {
      Sql any = Sql.or(anyOf.stream().map(e -> e.sql(row.alias())).toList());
      return not ? new Sql.Builder().add("(").add(any).add(") IS NOT TRUE").build() : any;
    }
  }

  /** One value of a parameter, as a condition on the columns of the event row {@code alias}. */
  sealed interface Event {
    Sql sql(String alias);
  }

  /** What every event has alike: decided without SQL. */
  record Known(boolean holds) implements Event {
    @Override
    public Sql sql(String alias) {
      return holds ? Sql.TRUE : Sql.FALSE;
    }
  }

  /** {@code date}: when the event was recorded. */
  record Recorded(DateMatch date) implements Event {
    @Override
    public Sql sql(String alias) {
      return date.onLastUpdated(alias);
    }
  }

  record Patient(String ref) implements Event {
    @Override
    public Sql sql(String alias) {
      return Sql.of(alias + ".patient = ?", ref);
    }
  }

  /**
   * The patient's entity, or the resource's: a reference to a version ("Appointment/5/_history/2",
   * as reads are recorded) is one to the resource.
   */
  record Entity(String ref) implements Event {
    @Override
    public Sql sql(String alias) {
      return Sql.of("(" + alias + ".patient = ? OR " + alias + ".entity = ? OR starts_with(" + alias + ".entity, ?))",
          ref, ref, ref + "/_history/");
    }
  }

  record Agent(String ref) implements Event {
    @Override
    public Sql sql(String alias) {
      return Sql.of("(" + alias + ".agent_id = ? OR starts_with(" + alias + ".agent_id, ?))", ref, ref + "/_history/");
    }
  }

  record Action(String code) implements Event {
    @Override
    public Sql sql(String alias) {
      return Sql.of(alias + ".action = ?", code);
    }
  }

  /** An operation's name ({@code $…}) or an interaction's; {@code operation} null: either; {@code code} empty: any. */
  record Subtype(Boolean operation, String code) implements Event {
    @Override
    public Sql sql(String alias) {
      List<Sql> all = new ArrayList<>();
      if (operation != null) {
        all.add(Sql.of((operation ? "" : "NOT ") + "starts_with(" + alias + ".subtype, '$')"));
      }
      if (!code.isEmpty()) {
        all.add(Sql.of(alias + ".subtype = ?", code));
      }
      return all.isEmpty() ? Sql.TRUE : new Sql.Builder().add("(").join(" AND ", all).add(")").build();
    }
  }

  /** The agent's userId; {@code id} empty: any. */
  record User(String id) implements Event {
    @Override
    public Sql sql(String alias) {
      return id.isEmpty() ? Sql.of(alias + ".agent_subject IS NOT NULL") : Sql.of(alias + ".agent_subject = ?", id);
    }
  }

  /** The entity of type 1 and role 1: the patient, when the event has one. */
  record PatientEntity() implements Event {
    @Override
    public Sql sql(String alias) {
      return Sql.of(alias + ".patient IS NOT NULL");
    }
  }

  /** Whether a token's system part ({@code null}: none given) admits a Coding of {@code actual}. */
  private static boolean system(String given, String actual) {
    return given == null || given.equals(actual);
  }

  private static String typedReference(String name, String v, List<String> ownBases) {
    String ref = reference(v, ownBases);
    if (!ref.contains("/")) {
      throw new InvalidSearchException("AuditEvent's " + name + " is searched by [type]/[id] or a URL, not " + v);
    }
    return ref;
  }

  private static String reference(String v, List<String> ownBases) {
    for (String base : ownBases) {
      if (v.startsWith(base + "/")) {
        return AccessTags.withoutVersion(v.substring(base.length() + 1));
      }
    }
    return AccessTags.withoutVersion(v);
  }
}
