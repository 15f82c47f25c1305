package io.appointmentserver.search;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The AuditEvent search parameters (<a href="https://hl7.org/fhir/STU3/auditevent.html#search">DSTU3
 * AuditEvent</a>) over the audit trail: the events are rows of the append-only table
 * {@code audit_event}, not in the search index (indexing them would make every audited request
 * write index rows). {@code date} and {@code _lastUpdated} are the column {@code recorded},
 * {@code patient} is the column {@code patient} (both indexed); the others are JSON path
 * conditions over the event's body, evaluated on the rows the other conditions leave.
 */
final class AuditTrailParameters {
  /** Parameter → the JSON path of the Codings (or, for {@code user}, Identifiers) it compares. */
  private static final Map<String, String> CODINGS = Map.of(
      "type", "$.type",
      "subtype", "$.subtype[*]",
      "entity-type", "$.entity[*].type",
      "entity-role", "$.entity[*].role",
      "user", "$.agent[*].userId");
  /** Parameter → the JSON path of the plain codes it compares. */
  private static final Map<String, String> CODES = Map.of("action", "$.action", "outcome", "$.outcome");
  /** Parameter → the JSON path of the references it compares. */
  private static final Map<String, String> REFERENCES = Map.of(
      "entity", "$.entity[*].reference.reference",
      "agent", "$.agent[*].reference.reference");

  private AuditTrailParameters() {}

  static boolean supports(String name) {
    return name.equals("date") || name.equals("patient") || CODINGS.containsKey(name) || CODES.containsKey(name)
        || REFERENCES.containsKey(name);
  }

  /** Adds the condition of one parameter (a repeat; its values comma-separated) to {@code q}. */
  static void add(SearchQuery q, String name, String modifier, List<String> values, String alias,
      List<String> ownBases) {
    boolean not = "not".equals(modifier);
    boolean token = CODINGS.containsKey(name) || CODES.containsKey(name);
    if (modifier != null && !(not && token)) {
      throw new InvalidSearchException("The modifier :" + modifier + " is not supported on the AuditEvent parameter "
          + name + (token ? " (supported: :not)" : ""));
    }
    List<String> alts = new ArrayList<>();
    for (String v : values) {
      if (name.equals("date")) {
        alts.add(q.dateCondition(name, v, alias + ".last_updated", "(" + alias + ".last_updated + interval '1 millisecond')"));
      } else if (name.equals("patient")) {
        String ref = reference(v, ownBases);
        q.binds.add(ref.contains("/") ? ref : "Patient/" + ref);
        alts.add(alias + ".patient = ?");
      } else if (REFERENCES.containsKey(name)) {
        String ref = reference(v, ownBases);
        if (!ref.contains("/")) {
          throw new InvalidSearchException("AuditEvent's " + name + " is searched by [type]/[id] or a URL, not " + v);
        }
        // the patient an event concerns is its entity too
        String also = name.equals("entity") && ref.startsWith("Patient/") ? alias + ".patient = ? OR " : "";
        if (!also.isEmpty()) {
          q.binds.add(ref);
        }
        // a reference to a version ("Appointment/5/_history/2", as reads are recorded) is one to the resource
        q.binds.add(ref);
        q.binds.add(ref + "/_history/");
        alts.add("(" + also + "jsonb_path_exists(" + alias + ".body::jsonb, '" + REFERENCES.get(name)
            + " ? (@ == $v || @ starts with $h)', jsonb_build_object('v', ?::text, 'h', ?::text)))");
      } else if (CODES.containsKey(name)) {
        q.binds.add(v);
        alts.add(json(alias, CODES.get(name) + " ? (@ == $v)"));
      } else {
        alts.add(coding(q, alias, name, v));
      }
    }
    String any = alts.size() == 1 ? alts.get(0) : "(" + String.join(" OR ", alts) + ")";
    q.and(not ? "NOT " + any : any);
  }

  /** {@code code}, {@code system|code}, {@code |code} or {@code system|} against the Codings (Identifiers) at the path. */
  private static String coding(SearchQuery q, String alias, String name, String v) {
    String codeField = name.equals("user") ? "value" : "code";
    List<String> parts = SearchQuery.split(v, '|');
    if (parts.size() > 2) {
      throw new InvalidSearchException("A token is code, system|code, |code or system|, not " + v);
    }
    String system = parts.size() == 2 ? parts.get(0) : null;
    String code = parts.get(parts.size() - 1);
    List<String> filter = new ArrayList<>();
    if (system != null) {
      filter.add(system.isEmpty() ? "!exists(@.system)" : "@.system == $s");
    }
    if (!code.isEmpty()) {
      filter.add("@." + codeField + " == $v");
    }
    q.binds.add(code);
    q.binds.add(system == null ? "" : system);
    return "jsonb_path_exists(" + alias + ".body::jsonb, '" + CODINGS.get(name) + " ? (" + String.join(" && ", filter)
        + ")', jsonb_build_object('v', ?::text, 's', ?::text))";
  }

  private static String json(String alias, String path) {
    return "jsonb_path_exists(" + alias + ".body::jsonb, '" + path + "', jsonb_build_object('v', ?::text))";
  }

  private static String reference(String v, List<String> ownBases) {
    for (String base : ownBases) {
      if (v.startsWith(base + "/")) {
        return io.appointmentserver.security.AccessTags.withoutVersion(v.substring(base.length() + 1));
      }
    }
    return io.appointmentserver.security.AccessTags.withoutVersion(v);
  }
}
