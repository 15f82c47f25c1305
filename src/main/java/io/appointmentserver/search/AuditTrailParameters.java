package io.appointmentserver.search;

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

  /** Adds the condition of one parameter (a repeat; its values comma-separated) to {@code q}. */
  static void add(SearchQuery q, String name, String modifier, List<String> values, String alias,
      List<String> ownBases) {
    boolean not = "not".equals(modifier);
    boolean token = TOKENS.contains(name);
    if (modifier != null && !(not && token)) {
      throw new InvalidSearchException("The modifier :" + modifier + " is not supported on the AuditEvent parameter "
          + name + (token ? " (supported: :not)" : ""));
    }
    List<String> alts = new ArrayList<>();
    for (String v : values) {
      switch (name) {
        case "date" -> alts.add(q.dateCondition(name, v, alias + ".last_updated",
            "(" + alias + ".last_updated + interval '1 millisecond')"));
        case "patient" -> {
          String ref = reference(v, ownBases);
          q.binds.add(ref.contains("/") ? ref : "Patient/" + ref);
          alts.add(alias + ".patient = ?");
        }
        case "entity" -> {
          // the patient's entity, or the resource's: a reference to a version
          // ("Appointment/5/_history/2", as reads are recorded) is one to the resource
          String ref = typedReference(name, v, ownBases);
          q.binds.add(ref);
          q.binds.add(ref);
          q.binds.add(ref + "/_history/");
          alts.add("(" + alias + ".patient = ? OR " + alias + ".entity = ? OR starts_with(" + alias + ".entity, ?))");
        }
        case "agent" -> {
          String ref = typedReference(name, v, ownBases);
          q.binds.add(ref);
          q.binds.add(ref + "/_history/");
          alts.add("(" + alias + ".agent_id = ? OR starts_with(" + alias + ".agent_id, ?))");
        }
        case "action" -> {
          q.binds.add(v);
          alts.add(alias + ".action = ?");
        }
        case "outcome" -> alts.add(String.valueOf(v.equals("0"))); // every recorded request succeeded
        default -> alts.add(coding(q, alias, name, v));
      }
    }
    String any = alts.size() == 1 ? alts.get(0) : "(" + String.join(" OR ", alts) + ")";
    q.and(not ? "(" + any + ") IS NOT TRUE" : any);
  }

  /**
   * {@code code}, {@code system|code}, {@code |code} or {@code system|} against the Codings (for
   * {@code user}, the Identifier) the parameter names, as a condition.
   */
  private static String coding(SearchQuery q, String alias, String name, String v) {
    List<String> parts = SearchQuery.split(v, '|');
    if (parts.size() > 2) {
      throw new InvalidSearchException("A token is code, system|code, |code or system|, not " + v);
    }
    String system = parts.size() == 2 ? parts.get(0) : null;
    String code = parts.get(parts.size() - 1);
    switch (name) {
      case "type" -> {
        return String.valueOf(system(system, EVENT_TYPE_SYSTEM) && (code.isEmpty() || code.equals("rest")));
      }
      case "subtype" -> {
        List<String> cond = new ArrayList<>();
        if (system != null) {
          if (system.equals(OPERATION_SYSTEM) || system.equals(INTERACTION_SYSTEM)) {
            cond.add((system.equals(INTERACTION_SYSTEM) ? "NOT " : "") + "starts_with(" + alias + ".subtype, '$')");
          } else {
            return "false";
          }
        }
        if (!code.isEmpty()) {
          q.binds.add(code);
          cond.add(alias + ".subtype = ?");
        }
        return cond.isEmpty() ? "true" : "(" + String.join(" AND ", cond) + ")";
      }
      case "user" -> { // the agent's userId: an Identifier without a system
        if (system != null && !system.isEmpty()) {
          return "false";
        }
        if (code.isEmpty()) {
          return alias + ".agent_subject IS NOT NULL";
        }
        q.binds.add(code);
        return alias + ".agent_subject = ?";
      }
      default -> { // entity-type and entity-role: the patient (1, 1), the resource (2, 4) and the trace id (2, 21)
        boolean type = name.equals("entity-type");
        if (!system(system, type ? ENTITY_TYPE_SYSTEM : OBJECT_ROLE_SYSTEM)) {
          return "false";
        }
        if (code.isEmpty() || code.equals(type ? "2" : "4") || (!type && code.equals("21"))) {
          return "true";
        }
        return code.equals("1") ? alias + ".patient IS NOT NULL" : "false";
      }
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
