package io.appointmentserver.search;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import io.appointmentserver.search.SearchParameters.Param;
import io.appointmentserver.store.AuditEvents;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One type search (<a href="https://hl7.org/fhir/STU3/search.html">DSTU3 search</a>) as SQL over
 * the {@code resource} table and the index tables: each parameter a condition, repeated
 * parameters ANDed, comma-separated values ORed. The text is built here from fixed fragments; every
 * value the client sent is a bind parameter.
 */
public final class SearchQuery {
  /** The parameters that steer the search rather than select resources. */
  static final Set<String> CONTROL = Set.of("_count", "_sort", Searcher.CURSOR, "_format", "_pretty", "_summary",
      "_elements", "_total", Includes.INCLUDE, Includes.REVINCLUDE);
  /** Known to FHIR but not answered yet: a 400 that says so (ignored under lenient handling). */
  static final Set<String> NOT_YET = Set.of("_content", "_text", "_list", "_query", "_filter", "_contained",
      "_containedType");

  private final String type;
  private final SearchParameters params;
  private final ZoneId zone;
  private final List<String> ownBases;
  private final Instant now;
  /** The alias of the searched {@code resource} row in the SQL: {@code r}, or that of a chain's or _has's subquery. */
  private final String alias;
  /** What the user may see of the types that chains and {@code _has} look into. */
  private final Searcher.Scope scope;
  /** Whether chains and _has may come in this query: not in a chain's (one level), no _has in a _has's. */
  private final boolean chains;
  private final boolean has;
  final StringBuilder where = new StringBuilder();
  final List<Object> binds = new ArrayList<>();
  /** The parameters (name with modifier) that lenient handling ignored: a link to the search leaves them out. */
  final Set<String> ignored = new java.util.LinkedHashSet<>();

  /**
   * {@code ownBases} are this server's base URLs (without trailing slash): an absolute reference
   * to one of them is searched as the relative reference the server stores.
   */
  SearchQuery(String type, SearchParameters params, ZoneId zone, List<String> ownBases, Instant now,
      Searcher.Scope scope) {
    this(type, params, zone, ownBases, now, scope, "r", true, true);
  }

  private SearchQuery(String type, SearchParameters params, ZoneId zone, List<String> ownBases, Instant now,
      Searcher.Scope scope, String alias, boolean chains, boolean has) {
    this.type = type;
    this.params = params;
    this.zone = zone;
    this.ownBases = ownBases;
    this.now = now;
    this.scope = scope;
    this.alias = alias;
    this.chains = chains;
    this.has = has;
  }

  /** Adds the conditions of all selecting parameters; {@code lenient} skips the unknown ones. */
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
              AuditTrailParameters.add(this, name, modifier, values, alias, ownBases);
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
      if (name.equals("_has") || key.contains(".")) {
        if (!(name.equals("_has") ? has : chains)) {
          throw new InvalidSearchException("Only one level of chaining is supported: " + key);
        }
        if (name.equals("_has")) {
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
    List<String> alts = new ArrayList<>();
    List<Object> altBinds = new ArrayList<>();
    List<Param> components = shape.components();
    for (String v : split(value, ',')) {
      List<String> parts = split(v, '$');
      if (parts.size() != components.size() || parts.stream().anyMatch(String::isEmpty)) {
        throw new InvalidSearchException(p.name() + " takes " + String.join("$",
            components.stream().map(Param::name).toList()) + ", not " + v);
      }
      SearchQuery all = new SearchQuery(type, params, zone, ownBases, now, scope, alias, chains, has);
      if (!shape.perElement()) {
        for (int i = 0; i < parts.size(); i++) {
          all.add(components.get(i), null, parts.get(i));
        }
        alts.add("(true" + all.where + ")");
      } else {
        alts.add(all.sameElement(p.name(), components, parts));
      }
      altBinds.addAll(all.binds);
    }
    if (!alts.isEmpty()) {
      and(or(alts));
      binds.addAll(altBinds);
    }
  }

  /**
   * The components' values in one element: a row of the first component in some element (its
   * number is the rest of the row's name, {@code xe.g}), and a row of each other component in the
   * element of that number. Each row is {@code x} in its own subquery, as the kinds' conditions
   * name it.
   */
  private String sameElement(String name, List<Param> components, List<String> values) {
    StringBuilder sql = new StringBuilder();
    for (int i = 0; i < components.size(); i++) {
      Param c = components.get(i);
      String prefix = Composites.rowPrefix(name, i);
      if (i == 0) {
        sql.append("EXISTS (SELECT 1 FROM ").append(table(c.kind()))
            .append(" x, LATERAL (SELECT substr(x.param, ?) AS g) xe WHERE x.res_type = ? AND x.res_id = ")
            .append(alias).append(".res_id AND x.param LIKE ?");
        binds.add(prefix.length() + 1);
        binds.add(type);
        binds.add(Strings.likeLiteral(prefix) + "%");
      } else {
        sql.append(" AND EXISTS (SELECT 1 FROM ").append(table(c.kind())).append(" x WHERE x.res_type = ? AND x.res_id = ")
            .append(alias).append(".res_id AND x.param = ? || xe.g");
        binds.add(type);
        binds.add(prefix);
      }
      sql.append(" AND ").append(kindCondition(c, values.get(i)));
      if (i > 0) {
        sql.append(')');
      }
    }
    return sql.append(')').toString();
  }

  /** The condition on a row {@code x} of {@code p}'s kind for one value without modifier. */
  private String kindCondition(Param p, String v) {
    return switch (p.kind()) {
      case STRING -> stringCondition(null, v);
      case TOKEN -> tokenCondition(v);
      case REFERENCE -> referenceCondition(p, null, v);
      case DATE -> dateCondition(p.name(), v, "x.lo", "x.hi");
      case NUMBER -> numberCondition(p, v, "x.value");
      case QUANTITY -> quantityCondition(p, v);
      case URI -> uriCondition(null, v);
      default -> throw new IllegalStateException(p.kind().toString());
    };
  }

  private void add(Param p, String modifier, String value) {
    if ("missing".equals(modifier)) {
      boolean missing = switch (value) {
        case "true" -> true;
        case "false" -> false;
        default -> throw new InvalidSearchException(p.name() + ":missing must be true or false, not " + value);
      };
      if (Extractor.FROM_COLUMNS.contains(p.name())) {
        and(missing ? "false" : "true");
        return;
      }
      and((missing ? "NOT " : "") + "EXISTS (SELECT 1 FROM " + table(p.kind()) + " x WHERE x.res_type = ? AND x.res_id = " + alias + ".res_id AND x.param = ?)");
      binds.add(type);
      binds.add(p.name());
      return;
    }
    List<String> values = split(value, ',');
    if (values.isEmpty() || values.stream().allMatch(String::isEmpty)) {
      return; // an empty parameter selects nothing: ignored, as the spec allows
    }
    switch (p.name()) {
      case "_id" -> idCondition(modifier, values);
      case "_lastUpdated" -> {
        noModifier(p, modifier);
        List<String> alts = new ArrayList<>();
        for (String v : values) {
          alts.add(dateCondition(p.name(), v, alias + ".last_updated", "(" + alias + ".last_updated + interval '1 millisecond')"));
        }
        and(or(alts));
      }
      default -> indexCondition(p, modifier, values);
    }
  }

  private void idCondition(String modifier, List<String> values) {
    if (modifier != null && !modifier.equals("not")) {
      throw new InvalidSearchException("The modifier :" + modifier + " is not supported on _id");
    }
    and(("not".equals(modifier) ? "NOT " : "") + alias + ".res_id = ANY(?::text[])");
    binds.add(values.toArray(String[]::new));
    if (type.equals(AuditEvents.TYPE) && modifier == null) {
      // the audit trail's key is (recorded, id), and an event's id tells when it was recorded
      and(alias + ".last_updated IN (SELECT " + AuditEvents.recordedOf("x") + " FROM unnest(?::text[]) x)");
      binds.add(values.toArray(String[]::new));
    }
  }

  /** EXISTS a row of the parameter's table matching one of the values (NOT EXISTS for :not). */
  private void indexCondition(Param p, String modifier, List<String> values) {
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
    List<String> alts = new ArrayList<>();
    for (String v : values) {
      alts.add(switch (p.kind()) {
        case STRING -> stringCondition(modifier, v);
        case REFERENCE -> referenceCondition(p, modifier, v);
        case URI -> uriCondition(modifier, v);
        default -> kindCondition(p, v);
      });
    }
    // the parameter's bind values come first: they are in the text before the alternatives'
    String head = (negate ? "NOT " : "") + "EXISTS (SELECT 1 FROM " + table(p.kind())
        + " x WHERE x.res_type = ? AND x.res_id = " + alias + ".res_id AND x.param = ? AND ";
    int at = binds.size() - countBinds(alts);
    binds.add(at, p.name());
    binds.add(at, type);
    and(head + or(alts) + ")");
  }

  /** How many bind values the alternatives just added: the {@code ?} in their text. */
  private static int countBinds(List<String> alts) {
    int n = 0;
    for (String a : alts) {
      for (int i = 0; i < a.length(); i++) {
        if (a.charAt(i) == '?') {
          n++;
        }
      }
    }
    return n;
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
    StringBuilder cond = new StringBuilder("EXISTS (SELECT 1 FROM search_reference x WHERE x.res_type = ? AND x.res_id = ")
        .append(alias).append(".res_id AND x.param = ? AND (");
    binds.add(type);
    binds.add(p.name());
    String or = "";
    for (String t : targets) {
      // a type the search names (by modifier, or as the only target) must be visible: 403; among
      // several possible targets, those the user may not see just match nothing
      Searcher.Filter f = scope.of(t, targets.size() == 1);
      if (f == null) {
        continue;
      }
      SearchQuery sub = new SearchQuery(t, params, zone, ownBases, now, scope, "c", false, false);
      sub.addAll(Map.of(right, values), lenient);
      cond.append(or).append("x.ref IN (SELECT ? || c.res_id FROM resource c WHERE c.res_type = ?"
          + " AND NOT c.deleted").append(sub.where).append(" AND ").append(f.condition()).append(')');
      or = " OR ";
      binds.add(t + "/");
      binds.add(t);
      binds.addAll(sub.binds);
      binds.addAll(f.params());
    }
    if (or.isEmpty()) {
      cond.append("false");
    }
    and(cond.append("))").toString());
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
    Searcher.Filter f = scope.of(other, true);
    SearchQuery sub = new SearchQuery(other, params, zone, ownBases, now, scope, "h", true, false);
    sub.addAll(Map.of(parts[3], values), lenient);
    and("EXISTS (SELECT 1 FROM search_reference hx JOIN resource h ON h.res_type = hx.res_type AND h.res_id = hx.res_id"
        + " WHERE hx.res_type = ? AND hx.param = ? AND hx.ref = ? || " + alias + ".res_id AND NOT h.deleted"
        + sub.where + " AND " + f.condition() + ")");
    binds.add(other);
    binds.add(ref.name());
    binds.add(type + "/");
    binds.addAll(sub.binds);
    binds.addAll(f.params());
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

  // ---------------------------------------------------------------- kinds

  private String stringCondition(String modifier, String v) {
    String norm = Strings.clip(Strings.normalize(v));
    if ("contains".equals(modifier)) {
      binds.add("%" + Strings.likeLiteral(norm) + "%");
      return "x.norm LIKE ?";
    }
    binds.add(Strings.likeLiteral(norm) + "%");
    if ("exact".equals(modifier)) {
      binds.add(v);
      return "(x.norm LIKE ? AND x.exact = ?)";
    }
    return "x.norm LIKE ?";
  }

  private String tokenCondition(String v) {
    List<String> parts = split(v, '|');
    if (parts.size() == 1) {
      binds.add(parts.get(0));
      return "x.code = ?";
    }
    if (parts.size() != 2) {
      throw new InvalidSearchException("A token is code, system|code, |code or system|, not " + v);
    }
    String system = parts.get(0);
    String code = parts.get(1);
    if (system.isEmpty()) {
      binds.add(code);
      return "(x.system IS NULL AND x.code = ?)";
    }
    binds.add(system);
    if (code.isEmpty()) {
      return "x.system = ?";
    }
    binds.add(code);
    return "(x.system = ? AND x.code = ?)";
  }

  private String referenceCondition(Param p, String modifier, String v) {
    String ref = v;
    for (String base : ownBases) {
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
      binds.add(ref);
      return "x.ref = ?";
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
    binds.add(refs.toArray(String[]::new));
    return "x.ref = ANY(?::text[])";
  }

  /**
   * A date prefix over the value's range {@code [vlo, vhi)} and the resource's {@code [lo, hi)}
   * (<a href="https://hl7.org/fhir/STU3/search.html#prefix">prefixes</a>).
   */
  String dateCondition(String name, String v, String lo, String hi) {
    String prefix = prefix(v);
    String raw = prefix == null ? v : v.substring(2);
    DateRange range = DateRange.parse(raw, zone);
    if (range == null) {
      throw new InvalidSearchException("Invalid date for " + name + ": " + v);
    }
    String vlo = IndexRows.sql(range.lo());
    String vhi = IndexRows.sql(range.hi());
    String eq = "(" + lo + " >= ?::timestamptz AND " + hi + " <= ?::timestamptz)";
    switch (prefix == null ? "eq" : prefix) {
      case "eq" -> {
        binds.add(vlo);
        binds.add(vhi);
        return eq;
      }
      case "ne" -> {
        binds.add(vlo);
        binds.add(vhi);
        return "NOT " + eq;
      }
      case "gt" -> {
        binds.add(vhi);
        return hi + " > ?::timestamptz";
      }
      case "lt" -> {
        binds.add(vlo);
        return lo + " < ?::timestamptz";
      }
      case "ge" -> {
        binds.add(vhi);
        binds.add(vlo);
        binds.add(vhi);
        return "(" + hi + " > ?::timestamptz OR " + eq + ")";
      }
      case "le" -> {
        binds.add(vlo);
        binds.add(vlo);
        binds.add(vhi);
        return "(" + lo + " < ?::timestamptz OR " + eq + ")";
      }
      case "sa" -> {
        binds.add(vhi);
        return lo + " >= ?::timestamptz";
      }
      case "eb" -> {
        binds.add(vlo);
        return hi + " <= ?::timestamptz";
      }
      case "ap" -> {
        // approximately: overlapping the value widened by a tenth of its distance from now
        Duration slack = Duration.between(range.lo(), now).abs().dividedBy(10);
        binds.add(IndexRows.sql(range.hi().plus(slack)));
        binds.add(IndexRows.sql(range.lo().minus(slack)));
        return "(" + lo + " < ?::timestamptz AND " + hi + " > ?::timestamptz)";
      }
      default -> throw new IllegalStateException(prefix);
    }
  }

  /** A number compared at the precision it is written with: {@code 100} is [99.5, 100.5). */
  private String numberCondition(Param p, String v, String column) {
    String prefix = prefix(v);
    BigDecimal n = number(p, prefix == null ? v : v.substring(2));
    BigDecimal half = BigDecimal.ONE.movePointLeft(Math.max(n.scale(), 0)).divide(BigDecimal.valueOf(2));
    BigDecimal lo = n.subtract(half);
    BigDecimal hi = n.add(half);
    switch (prefix == null ? "eq" : prefix) {
      case "eq", "ap" -> {
        binds.add(lo);
        binds.add(hi);
        return "(" + column + " >= ? AND " + column + " < ?)";
      }
      case "ne" -> {
        binds.add(lo);
        binds.add(hi);
        return "NOT (" + column + " >= ? AND " + column + " < ?)";
      }
      case "gt", "sa" -> {
        binds.add(n);
        return column + " > ?";
      }
      case "lt", "eb" -> {
        binds.add(n);
        return column + " < ?";
      }
      case "ge" -> {
        binds.add(n);
        return column + " >= ?";
      }
      case "le" -> {
        binds.add(n);
        return column + " <= ?";
      }
      default -> throw new IllegalStateException(prefix);
    }
  }

  private String quantityCondition(Param p, String v) {
    List<String> parts = split(v, '|');
    if (parts.size() != 1 && parts.size() != 3) {
      throw new InvalidSearchException("A quantity is [prefix]number or [prefix]number|system|code, not " + v);
    }
    String cond = numberCondition(p, parts.get(0), "x.value");
    if (parts.size() == 3) {
      if (!parts.get(1).isEmpty()) {
        binds.add(parts.get(1));
        cond += " AND x.system = ?";
      }
      if (!parts.get(2).isEmpty()) {
        binds.add(parts.get(2));
        cond += " AND x.code = ?";
      }
    }
    return "(" + cond + ")";
  }

  private String uriCondition(String modifier, String v) {
    if ("below".equals(modifier)) {
      binds.add(Strings.likeLiteral(v) + "%");
      return "x.uri LIKE ?";
    }
    binds.add(v);
    if ("above".equals(modifier)) {
      return "? LIKE replace(replace(replace(x.uri, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'";
    }
    return "x.uri = ?";
  }

  private static BigDecimal number(Param p, String v) {
    try {
      return new BigDecimal(v);
    } catch (NumberFormatException e) {
      throw new InvalidSearchException("Invalid number for " + p.name() + ": " + v);
    }
  }

  private static final Set<String> PREFIXES = Set.of("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap");

  private static String prefix(String v) {
    return v.length() > 2 && PREFIXES.contains(v.substring(0, 2)) ? v.substring(0, 2) : null;
  }

  static String table(RestSearchParameterTypeEnum kind) {
    return switch (kind) {
      case STRING -> "search_string";
      case TOKEN -> "search_token";
      case REFERENCE -> "search_reference";
      case DATE -> "search_date";
      case NUMBER -> "search_number";
      case QUANTITY -> "search_quantity";
      case URI -> "search_uri";
      default -> throw new InvalidSearchException("Search parameters of type " + kind.getCode() + " are not supported yet");
    };
  }

  // ---------------------------------------------------------------- text

  void and(String condition) {
    where.append(" AND ").append(condition);
  }

  private static String or(List<String> alts) {
    return alts.size() == 1 ? alts.get(0) : "(" + String.join(" OR ", alts) + ")";
  }

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
