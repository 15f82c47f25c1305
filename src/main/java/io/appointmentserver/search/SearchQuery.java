package io.appointmentserver.search;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import io.appointmentserver.search.Match.DateMatch;
import io.appointmentserver.search.Match.IdMatch;
import io.appointmentserver.search.Match.NumberMatch;
import io.appointmentserver.search.Match.QuantityMatch;
import io.appointmentserver.search.Match.ReferenceMatch;
import io.appointmentserver.search.Match.StringMatch;
import io.appointmentserver.search.Match.TokenMatch;
import io.appointmentserver.search.Match.UriMatch;
import io.appointmentserver.search.SearchParameters.Param;
import io.appointmentserver.store.AuditEvents;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads one type search (<a href="https://hl7.org/fhir/STU3/search.html">DSTU3 search</a>) into
 * {@link Condition}s over the {@code resource} table and the index tables: each parameter (each
 * repeat of it) one condition, repeated parameters ANDed, comma-separated values ORed. Every value
 * the client sent becomes a bind parameter of the conditions' SQL.
 */
public final class SearchQuery {
  /** The parameters that steer the search rather than select resources. */
  public static final Set<String> CONTROL = Set.of("_count", "_sort", Searcher.CURSOR, "_format", "_pretty", "_summary",
      "_elements", "_total", Includes.INCLUDE, Includes.REVINCLUDE);
  /** Reverse chaining, which every type's search takes (no parameter of a type, so not among a type's). */
  public static final String HAS = "_has";
  /** Known to FHIR but not answered yet: a 400 that says so (ignored under lenient handling). */
  static final Set<String> NOT_YET = Set.of("_list", "_query", "_filter", "_contained",
      "_containedType");

  /**
   * What a search's parameters are read with: the definitions, the time zone of dates without
   * one, this server's base URLs (without trailing slash: an absolute reference to one of them is
   * searched as the relative reference the server stores), the moment of the search ({@code ap}
   * dates) and what the user may see of the types that chains and {@code _has} look into.
   */
  record Setting(SearchParameters params, ZoneId zone, List<String> ownBases, Instant now, Searcher.Scope scope) {}

  private final String type;
  private final Setting setting;
  private final SearchParameters params;
  /** Whether chains and _has may come in this query: not in a chain's (one level), no _has in a _has's. */
  private final boolean chains;
  private final boolean has;
  /** The conditions, in the order of the parameters. */
  final List<Condition> conditions = new ArrayList<>();
  /** The parameters (name with modifier) that lenient handling ignored: a link to the search leaves them out. */
  final Set<String> ignored = new java.util.LinkedHashSet<>();
  /** The types whose words a condition reads (this one's, or a chain's or _has's): their text must be indexed. */
  final Set<String> textTypes = new java.util.TreeSet<>();

  SearchQuery(String type, Setting setting) {
    this(type, setting, true, true);
  }

  private SearchQuery(String type, Setting setting, boolean chains, boolean has) {
    this.type = type;
    this.setting = setting;
    this.params = setting.params();
    this.chains = chains;
    this.has = has;
  }

  /** Reads all selecting parameters; {@code lenient} skips the unknown ones. */
  void addAll(Map<String, String[]> parameters, boolean lenient) {
    for (Map.Entry<String, String[]> e : parameters.entrySet()) {
      String key = e.getKey();
      int colon = key.indexOf(':');
      String name = colon < 0 ? key : key.substring(0, colon);
      String modifier = colon < 0 ? null : key.substring(colon + 1);
      if (CONTROL.contains(name)) {
        continue;
      }
      if (type.equals(AuditEvents.TYPE) && !name.equals("_id") && !name.equals("_lastUpdated")) {
        // the audit trail is not in the index: its own parameters, over its own table
        if (AuditTrailParameters.supports(name) && !key.contains(".")) {
          for (String value : e.getValue()) {
            List<String> values = split(value, ',');
            if (!values.stream().allMatch(String::isEmpty)) {
              conditions.add(AuditTrailParameters.condition(name, modifier, values, setting));
            }
          }
        } else if (lenient) {
          ignored.add(key);
        } else {
          throw new InvalidSearchException("The search parameter " + key + " is not supported for AuditEvent"
              + " (supported: date, patient, entity, agent, user, type, subtype, action, outcome, entity-type,"
              + " entity-role, _id, _lastUpdated)");
        }
        continue;
      }
      if (name.equals(HAS) || key.contains(".")) {
        if (!(name.equals(HAS) ? has : chains)) {
          throw new InvalidSearchException("Only one level of chaining is supported: " + key);
        }
        if (name.equals(HAS)) {
          has(key, e.getValue(), lenient);
        } else {
          chain(key, e.getValue(), lenient);
        }
        continue;
      }
      if (NOT_YET.contains(name)) {
        if (lenient) {
          ignored.add(key);
          continue;
        }
        throw new InvalidSearchException("The search parameter " + key + " is not supported by this server yet");
      }
      if (FullText.PARAMS.contains(name)) {
        for (String value : e.getValue()) {
          text(name, modifier, value);
        }
        continue;
      }
      Param p = params.get(type, name);
      Composites.Shape shape = p != null && p.kind() == RestSearchParameterTypeEnum.COMPOSITE && modifier == null
          ? Composites.shape(type, p, params.of(type)) : null;
      if (shape != null) {
        for (String value : e.getValue()) {
          composite(p, shape, value);
        }
        continue;
      }
      if (p == null || (p.expression() == null && !Extractor.FROM_COLUMNS.contains(name))
          || p.kind() == RestSearchParameterTypeEnum.COMPOSITE || p.kind() == RestSearchParameterTypeEnum.SPECIAL) {
        if (lenient) {
          ignored.add(key);
          continue;
        }
        throw new InvalidSearchException(p == null
            ? "Unknown search parameter " + key + " for " + type
            : "The search parameter " + key + " (" + p.kind().getCode() + ") is not supported by this server yet");
      }
      for (String value : e.getValue()) {
        add(p, modifier, value);
      }
    }
  }

  /** Whether {@code name} of {@code type} is a composite this server answers (the others are a 400). */
  public static boolean answers(SearchParameters params, String type, String name) {
    Param p = params.get(type, name);
    return p != null && Composites.shape(type, p, params.of(type)) != null;
  }

  /**
   * A composite parameter (<a href="https://hl7.org/fhir/STU3/search.html#combining">search.html</a>):
   * each comma-separated value is the components' values joined by {@code $}, all of which must
   * match, and from one element where the composite pairs them per element ({@link Composites});
   * the values are alternatives.
   */
  private void composite(Param p, Composites.Shape shape, String value) {
    List<Condition> alts = new ArrayList<>();
    List<Param> components = shape.components();
    for (String v : split(value, ',')) {
      List<String> parts = split(v, '$');
      if (parts.size() != components.size() || parts.stream().anyMatch(String::isEmpty)) {
        throw new InvalidSearchException(p.name() + " takes " + String.join("$",
            components.stream().map(Param::name).toList()) + ", not " + v);
      }
      if (!shape.perElement()) {
        SearchQuery all = new SearchQuery(type, setting, chains, has);
        for (int i = 0; i < parts.size(); i++) {
          all.add(components.get(i), null, parts.get(i));
        }
        alts.add(new Condition.AllOf(all.conditions));
      } else {
        List<Match> matches = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
          matches.add(match(components.get(i), null, parts.get(i)));
        }
        alts.add(new Condition.SameElement(p.name(), matches));
      }
    }
    if (!alts.isEmpty()) {
      conditions.add(new Condition.Composite(alts));
    }
  }

  private void add(Param p, String modifier, String value) {
    if ("missing".equals(modifier)) {
      boolean missing = switch (value) {
        case "true" -> true;
        case "false" -> false;
        default -> throw new InvalidSearchException(p.name() + ":missing must be true or false, not " + value);
      };
      conditions.add(new Condition.Missing(p, missing));
      return;
    }
    List<String> values = split(value, ',');
    if (values.isEmpty() || values.stream().allMatch(String::isEmpty)) {
      return; // an empty parameter selects nothing: ignored, as the spec allows
    }
    switch (p.name()) {
      case "_id" -> {
        if (modifier != null && !modifier.equals("not")) {
          throw new InvalidSearchException("The modifier :" + modifier + " is not supported on _id");
        }
        conditions.add(new Condition.Ids(values, "not".equals(modifier)));
      }
      case "_lastUpdated" -> {
        noModifier(p, modifier);
        conditions.add(new Condition.LastUpdated(
            values.stream().map(v -> DateMatch.parse(p.name(), v, setting.zone(), setting.now())).toList()));
      }
      default -> indexed(p, modifier, values);
    }
  }

  /** A row of the parameter's index matching one of the values (none, for :not). */
  private void indexed(Param p, String modifier, List<String> values) {
    if (p.kind() == RestSearchParameterTypeEnum.TOKEN && "text".equals(modifier)) {
      // the texts of the codes are string rows of their own parameter (see Extractor.TEXT)
      p = new Param(p.name() + Extractor.TEXT, RestSearchParameterTypeEnum.STRING, p.expression(), p.targets());
      modifier = null;
    }
    boolean negate = false;
    switch (p.kind()) {
      case TOKEN -> {
        if ("not".equals(modifier)) {
          negate = true;
          modifier = null;
        } else if (modifier != null) {
          throw new InvalidSearchException("The modifier :" + modifier + " is not supported on the token parameter "
              + p.name() + " (supported: :not, :text, :missing)");
        }
      }
      case STRING -> {
        if (modifier != null && !modifier.equals("exact") && !modifier.equals("contains")) {
          throw new InvalidSearchException("The modifier :" + modifier + " is not supported on the string parameter "
              + p.name() + " (supported: :exact, :contains, :missing)");
        }
      }
      case URI -> {
        if (modifier != null && !modifier.equals("below") && !modifier.equals("above")) {
          throw new InvalidSearchException("The modifier :" + modifier + " is not supported on the uri parameter "
              + p.name() + " (supported: :below, :above, :missing)");
        }
      }
      case REFERENCE -> {
        if (modifier != null && !isTypeModifier(p, modifier)) {
          throw new InvalidSearchException("The modifier :" + modifier + " is not supported on the reference parameter "
              + p.name() + " (supported: :[type], :missing)");
        }
      }
      default -> noModifier(p, modifier);
    }
    List<Match> alts = new ArrayList<>();
    for (String v : values) {
      alts.add(match(p, modifier, v));
    }
    conditions.add(new Condition.Indexed(p.name(), negate, alts));
  }

  /** One value of {@code p} with its (checked) modifier, as what it matches in an index row. */
  private Match match(Param p, String modifier, String v) {
    return switch (p.kind()) {
      case STRING -> new StringMatch(v, "contains".equals(modifier) ? Match.StringMode.CONTAINS
          : "exact".equals(modifier) ? Match.StringMode.EXACT : Match.StringMode.STARTS);
      case TOKEN -> TokenMatch.parse(v);
      case REFERENCE -> reference(p, modifier, v);
      case DATE -> DateMatch.parse(p.name(), v, setting.zone(), setting.now());
      case NUMBER -> NumberMatch.parse(p.name(), v);
      case QUANTITY -> QuantityMatch.parse(p.name(), v);
      case URI -> new UriMatch(v, "below".equals(modifier) ? Match.UriMode.BELOW
          : "above".equals(modifier) ? Match.UriMode.ABOVE : Match.UriMode.EQUALS);
      default -> throw new IllegalStateException(p.kind().toString());
    };
  }

  /**
   * One level of chaining (<a href="https://hl7.org/fhir/STU3/search.html#chaining">chained
   * parameters</a>), {@code patient.name=x} or {@code subject:Patient.name=x}: the reference
   * points at a resource of a target type that the chained parameter selects, and that the user
   * may see (its context is part of the subquery, so a chain reveals nothing outside it).
   */
  private void chain(String key, String[] values, boolean lenient) {
    int dot = key.indexOf('.');
    String left = key.substring(0, dot);
    String right = key.substring(dot + 1);
    if (right.contains(".")) {
      throw new InvalidSearchException("Only one level of chaining is supported: " + key);
    }
    int colon = left.indexOf(':');
    String name = colon < 0 ? left : left.substring(0, colon);
    String typeModifier = colon < 0 ? null : left.substring(colon + 1);
    Param p = params.get(type, name);
    if (p == null || p.kind() != RestSearchParameterTypeEnum.REFERENCE) {
      if (lenient) {
        ignored.add(key);
        return;
      }
      throw new InvalidSearchException(p == null ? "Unknown search parameter " + name + " for " + type
          : "The search parameter " + name + " of " + type + " is no reference and cannot be chained");
    }
    if (typeModifier != null && !isTypeModifier(p, typeModifier)) {
      throw new InvalidSearchException(name + " of " + type + " cannot point at " + typeModifier);
    }
    String chained = right.contains(":") ? right.substring(0, right.indexOf(':')) : right;
    List<String> targets = new ArrayList<>();
    for (String t : typeModifier != null ? List.of(typeModifier)
        : new java.util.TreeSet<>(p.targets().isEmpty() ? params.types() : p.targets())) {
      if (params.get(t, chained) != null || Extractor.FROM_COLUMNS.contains(chained)) {
        targets.add(t);
      }
    }
    if (targets.isEmpty()) {
      if (lenient) {
        ignored.add(key);
        return;
      }
      throw new InvalidSearchException("Unknown search parameter " + chained + " in the chain " + key);
    }
    List<Condition.Into> into = new ArrayList<>();
    for (String t : targets) {
      // a type the search names (by modifier, or as the only target) must be visible: 403; among
      // several possible targets, those the user may not see just match nothing
      Sql context = setting.scope().of(t, targets.size() == 1);
      if (context != null) {
        SearchQuery sub = new SearchQuery(t, setting, false, false);
        sub.addAll(Map.of(right, values), lenient);
        textTypes.addAll(sub.textTypes);
        into.add(new Condition.Into(t, sub.conditions, context));
      }
    }
    conditions.add(new Condition.Chain(p.name(), into));
  }

  /**
   * Reverse chaining (<a href="https://hl7.org/fhir/STU3/search.html#has">_has</a>),
   * {@code _has:Observation:patient:code=x}: a resource of that type that the user may see
   * refers to this one by that parameter and matches the last one. Resources outside the
   * user's context never count, so their existence does not show.
   */
  private void has(String key, String[] values, boolean lenient) {
    String[] parts = key.split(":", 4);
    if (parts.length < 4 || parts[1].isEmpty() || parts[2].isEmpty() || parts[3].isEmpty()) {
      throw new InvalidSearchException("_has is _has:[type]:[reference parameter]:[parameter], not " + key);
    }
    String other = parts[1];
    Param ref = params.types().contains(other) ? params.get(other, parts[2]) : null;
    if (ref == null || ref.kind() != RestSearchParameterTypeEnum.REFERENCE
        || (!ref.targets().isEmpty() && !ref.targets().contains(type))) {
      if (lenient) {
        ignored.add(key);
        return;
      }
      throw new InvalidSearchException("In " + key + ", " + parts[2] + " is no reference parameter of " + other
          + " that can point at " + type);
    }
    Sql context = setting.scope().of(other, true);
    SearchQuery sub = new SearchQuery(other, setting, true, false);
    sub.addAll(Map.of(parts[3], values), lenient);
    textTypes.addAll(sub.textTypes);
    conditions.add(new Condition.Has(new Condition.Into(other, sub.conditions, context), ref.name()));
  }

  /**
   * {@code _content} or {@code _text}: comma-separated queries are alternatives, as for every
   * parameter; within one, the search-box syntax of {@link Match.TextMatch}. A query without a
   * letter or digit (empty, only quotes or operators) would search nothing: a 400, as is one too long.
   */
  private void text(String name, String modifier, String value) {
    if (modifier != null) {
      throw new InvalidSearchException("The modifier :" + modifier + " is not supported on " + name);
    }
    List<Match.TextMatch> alts = new ArrayList<>();
    for (String v : split(value, ',')) {
      if (v.length() > FullText.MAX_QUERY_CHARS) {
        throw new InvalidSearchException(name + " takes at most " + FullText.MAX_QUERY_CHARS + " characters");
      }
      if (v.codePoints().noneMatch(Character::isLetterOrDigit)) {
        throw new InvalidSearchException(name + " needs a word to search for, not '" + v + "'");
      }
      alts.add(new Match.TextMatch(FullText.column(name), v));
    }
    conditions.add(new Condition.Text(alts));
    textTypes.add(type);
  }

  private static boolean isTypeModifier(Param p, String modifier) {
    return !modifier.isEmpty() && Character.isUpperCase(modifier.charAt(0))
        && (p.targets().isEmpty() || p.targets().contains(modifier));
  }

  private static void noModifier(Param p, String modifier) {
    if (modifier != null) {
      throw new InvalidSearchException("The modifier :" + modifier + " is not supported on the "
          + p.kind().getCode() + " parameter " + p.name() + " (supported: :missing)");
    }
  }

  /** A reference value: {@code Type/id} or an absolute URL (this server's as its relative), or a plain id. */
  private Match reference(Param p, String modifier, String v) {
    String ref = v;
    for (String base : setting.ownBases()) {
      if (ref.startsWith(base + "/")) {
        ref = ref.substring(base.length() + 1);
        break;
      }
    }
    ref = io.appointmentserver.security.AccessTags.withoutVersion(ref);
    if (ref.contains("/")) {
      if (modifier != null && Extractor.localType(ref) != null && !ref.startsWith(modifier + "/")) {
        throw new InvalidSearchException(p.name() + ":" + modifier + " names another type than " + v);
      }
      return new ReferenceMatch(ref);
    }
    // a plain id: any of the types the parameter may point at
    List<String> refs = new ArrayList<>();
    if (modifier != null) {
      refs.add(modifier + "/" + ref);
    } else {
      for (String t : p.targets().isEmpty() ? params.types() : p.targets()) {
        refs.add(t + "/" + ref);
      }
    }
    return new IdMatch(refs);
  }

  // ---------------------------------------------------------------- text

  /** Splits on {@code sep} where it is not escaped with a backslash, and removes the escapes. */
  static List<String> split(String s, char sep) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        char next = s.charAt(i + 1);
        if (next == ',' || next == '|' || next == '$' || next == '\\') {
          // keep the escape of the other separator for the next split
          if (next != sep && next != '\\') {
            cur.append(c);
          }
          cur.append(next);
          i++;
          continue;
        }
      }
      if (c == sep) {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    out.add(cur.toString());
    return out;
  }
}
