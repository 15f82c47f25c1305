package io.appointmentserver.search;

import ca.uhn.fhir.util.UrlUtil;
import io.appointmentserver.search.Match.DateMatch;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;

/**
 * A search ({@code Appointment?patient=Patient/240&status=booked}) read by {@link SearchQuery}, as the
 * search API reads it, and evaluated in memory against the index rows of one version
 * ({@link #matches}): what a Subscription's criteria are. Evaluating against the rows a write has
 * already computed costs no query, however many Subscriptions there are. Conditions that look
 * beyond the resource itself (chains, {@code _has}, full text, composites) are refused at
 * {@link #parse}: they would need the database.
 */
public final class Criteria {
  private final String type;
  private final List<Condition> conditions;

  private Criteria(String type, List<Condition> conditions) {
    this.type = type;
    this.conditions = conditions;
  }

  /**
   * Reads {@code criteria} as a search of the server's; {@link InvalidSearchException} when the
   * server cannot evaluate it (unknown type or parameter, a bad value, a condition beyond the resource).
   */
  public static Criteria parse(SearchParameters params, ZoneId zone, List<String> ownBases, String criteria) {
    int q = criteria == null ? -1 : criteria.indexOf('?');
    String type = q < 0 ? criteria : criteria.substring(0, q);
    if (type == null || type.isBlank() || !params.types().contains(type)) {
      throw new InvalidSearchException("The criteria must be a search of a resource type of this server"
          + " (Type?parameters), not " + criteria);
    }
    Map<String, String[]> parameters = q < 0 ? Map.of() : UrlUtil.parseQueryString(criteria.substring(q + 1));
    for (String name : parameters.keySet()) {
      String plain = name.contains(":") ? name.substring(0, name.indexOf(':')) : name;
      if (SearchQuery.CONTROL.contains(plain)) {
        throw new InvalidSearchException("The criteria select resources; " + name + " has no meaning in them");
      }
      if (plain.equals("_has") || name.contains(".") || FullText.PARAMS.contains(plain)) {
        throw new InvalidSearchException("Criteria with " + name + " cannot be evaluated for a Subscription: it"
            + " looks beyond the resource itself");
      }
    }
    SearchQuery query = new SearchQuery(type, new SearchQuery.Setting(params, zone, ownBases, Instant.now(), null));
    query.addAll(parameters, false);
    for (Condition c : query.conditions) {
      evaluable(c);
    }
    return new Criteria(type, List.copyOf(query.conditions));
  }

  private static void evaluable(Condition c) {
    if (c instanceof Condition.Indexed i) {
      i.anyOf().forEach(Criteria::evaluable);
    } else if (c instanceof Condition.AllOf a) {
      a.all().forEach(Criteria::evaluable);
    } else if (!(c instanceof Condition.Missing || c instanceof Condition.Ids || c instanceof Condition.LastUpdated)) {
      throw new InvalidSearchException("Criteria with " + c.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT)
          + " conditions cannot be evaluated for a Subscription: they look beyond the resource itself");
    }
  }

  private static void evaluable(Match m) {
    if (m instanceof Match.TextMatch) {
      throw new InvalidSearchException("Full-text criteria cannot be evaluated for a Subscription");
    }
  }

  /** The resource type the criteria select. */
  public String type() {
    return type;
  }

  /** Whether the version {@code id} written at {@code lastUpdated} with {@code rows} meets every condition. */
  public boolean matches(String id, Instant lastUpdated, IndexRows rows) {
    for (Condition c : conditions) {
      if (!holds(c, id, lastUpdated, rows)) {
        return false;
      }
    }
    return true;
  }

  private static boolean holds(Condition c, String id, Instant lastUpdated, IndexRows rows) {
    if (c instanceof Condition.Indexed i) {
      boolean any = false;
      for (Match m : i.anyOf()) {
        any |= anyRow(i.param(), m, rows);
      }
      return any != i.not();
    }
    if (c instanceof Condition.Missing m) {
      if (Extractor.FROM_COLUMNS.contains(m.param().name())) {
        return !m.missing();
      }
      return has(m.param().kind(), m.param().name(), rows) != m.missing();
    }
    if (c instanceof Condition.Ids ids) {
      return ids.ids().contains(id) != ids.not();
    }
    if (c instanceof Condition.LastUpdated lu) {
      Instant hi = lastUpdated.plusMillis(1);
      return lu.anyOf().stream().anyMatch(d -> date(d, lastUpdated, hi));
    }
    Condition.AllOf all = (Condition.AllOf) c; // parse admits nothing else
    return all.all().stream().allMatch(a -> holds(a, id, lastUpdated, rows));
  }

  private static boolean has(ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum kind, String param, IndexRows r) {
    return switch (kind) {
      case STRING -> r.stringParam.contains(param);
      case TOKEN -> r.tokenParam.contains(param);
      case REFERENCE -> r.refParam.contains(param);
      case DATE -> r.dateParam.contains(param);
      case NUMBER -> r.numberParam.contains(param);
      case QUANTITY -> r.quantityParam.contains(param);
      default -> r.uriParam.contains(param);
    };
  }

  /** Whether a row of {@code param} matches {@code m}, as {@link Match#sql} says over the row {@code x}. */
  private static boolean anyRow(String param, Match m, IndexRows r) {
    if (m instanceof Match.TokenMatch t) {
      for (int i = 0; i < r.tokenParam.size(); i++) {
        if (r.tokenParam.get(i).equals(param) && token(t, r.tokenSystem.get(i), r.tokenCode.get(i))) {
          return true;
        }
      }
    } else if (m instanceof Match.StringMatch s) {
      String norm = Strings.clip(Strings.normalize(s.value()));
      for (int i = 0; i < r.stringParam.size(); i++) {
        String n = r.stringNorm.get(i);
        if (r.stringParam.get(i).equals(param) && switch (s.mode()) {
          case CONTAINS -> n.contains(norm);
          case EXACT -> n.startsWith(norm) && s.value().equals(r.stringExact.get(i));
          case STARTS -> n.startsWith(norm);
        }) {
          return true;
        }
      }
    } else if (m instanceof Match.ReferenceMatch || m instanceof Match.IdMatch) {
      List<String> refs = m instanceof Match.IdMatch ids ? ids.refs() : List.of(((Match.ReferenceMatch) m).ref());
      for (int i = 0; i < r.refParam.size(); i++) {
        if (r.refParam.get(i).equals(param) && refs.contains(r.ref.get(i))) {
          return true;
        }
      }
    } else if (m instanceof DateMatch d) {
      for (int i = 0; i < r.dateParam.size(); i++) {
        if (r.dateParam.get(i).equals(param) && date(d, instant(r.dateLo.get(i)), instant(r.dateHi.get(i)))) {
          return true;
        }
      }
    } else if (m instanceof Match.NumberMatch n) {
      for (int i = 0; i < r.numberParam.size(); i++) {
        if (r.numberParam.get(i).equals(param) && number(n, r.number.get(i))) {
          return true;
        }
      }
    } else if (m instanceof Match.QuantityMatch q) {
      for (int i = 0; i < r.quantityParam.size(); i++) {
        if (r.quantityParam.get(i).equals(param) && number(q.number(), r.quantity.get(i))
            && (q.system() == null || q.system().equals(r.quantitySystem.get(i)))
            && (q.code() == null || q.code().equals(r.quantityCode.get(i)))) {
          return true;
        }
      }
    } else if (m instanceof Match.UriMatch u) {
      for (int i = 0; i < r.uriParam.size(); i++) {
        String x = r.uriParam.get(i).equals(param) ? r.uri.get(i) : null;
        if (x != null && switch (u.mode()) {
          case BELOW -> x.startsWith(u.uri());
          case ABOVE -> u.uri().startsWith(x);
          case EQUALS -> x.equals(u.uri());
        }) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean token(Match.TokenMatch t, String system, String code) {
    if (t.system() == null) {
      return t.code().equals(code);
    }
    if (t.system().isEmpty()) {
      return system == null && t.code().equals(code);
    }
    return t.system().equals(system) && (t.code().isEmpty() || t.code().equals(code));
  }

  private static Instant instant(String sql) {
    return switch (sql) {
      case "-infinity" -> DateRange.MIN;
      case "infinity" -> DateRange.MAX;
      default -> Instant.parse(sql);
    };
  }

  /** {@link DateMatch#sql} over the resource's range {@code [lo, hi)}. */
  private static boolean date(DateMatch d, Instant lo, Instant hi) {
    Instant vlo = d.range().lo();
    Instant vhi = d.range().hi();
    boolean eq = !lo.isBefore(vlo) && !hi.isAfter(vhi);
    return switch (d.prefix()) {
      case EQ -> eq;
      case NE -> !eq;
      case GT -> hi.isAfter(vhi);
      case LT -> lo.isBefore(vlo);
      case GE -> hi.isAfter(vhi) || eq;
      case LE -> lo.isBefore(vlo) || eq;
      case SA -> !lo.isBefore(vhi);
      case EB -> !hi.isAfter(vlo);
      case AP -> lo.isBefore(vhi) && hi.isAfter(vlo);
    };
  }

  /** {@link Match.NumberMatch#sql}: a number at the precision it is written with. */
  private static boolean number(Match.NumberMatch n, BigDecimal v) {
    if (v == null) {
      return false;
    }
    BigDecimal half = BigDecimal.ONE.movePointLeft(Math.max(n.number().scale(), 0)).divide(BigDecimal.valueOf(2));
    boolean eq = v.compareTo(n.number().subtract(half)) >= 0 && v.compareTo(n.number().add(half)) < 0;
    int cmp = v.compareTo(n.number());
    return switch (n.prefix()) {
      case EQ, AP -> eq;
      case NE -> !eq;
      case GT, SA -> cmp > 0;
      case LT, EB -> cmp < 0;
      case GE -> cmp >= 0;
      case LE -> cmp <= 0;
    };
  }
}
