package io.appointmentserver.search;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Locale;

/**
 * One value of a search parameter, as what it matches in an index row {@code x} of its kind
 * ({@link #table}): a value of each kind is read from the request here, and its SQL written here.
 */
sealed interface Match {
  /** The kind of parameter the value is of: its rows are in {@link #table} of it. */
  default RestSearchParameterTypeEnum kind() {
    if (this instanceof TokenMatch) {
      return RestSearchParameterTypeEnum.TOKEN;
    } else if (this instanceof StringMatch) {
      return RestSearchParameterTypeEnum.STRING;
    } else if (this instanceof ReferenceMatch || this instanceof IdMatch) {
      return RestSearchParameterTypeEnum.REFERENCE;
    } else if (this instanceof DateMatch) {
      return RestSearchParameterTypeEnum.DATE;
    } else if (this instanceof NumberMatch) {
      return RestSearchParameterTypeEnum.NUMBER;
    } else if (this instanceof QuantityMatch) {
      return RestSearchParameterTypeEnum.QUANTITY;
    } else if (this instanceof TextMatch) {
      return RestSearchParameterTypeEnum.SPECIAL; // no rows of a table of its own: search_indexed's words
    }
    return RestSearchParameterTypeEnum.URI; // UriMatch, the last kind
  }

  /** The condition on the index row {@code x}. */
  Sql sql();

  /** The index table of a kind: the rows {@code (res_type, res_id, param, …)} that {@link SearchIndex} writes. */
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

  /**
   * The comparison a date, number or quantity value starts with
   * (<a href="https://hl7.org/fhir/STU3/search.html#prefix">prefixes</a>).
   */
  enum Prefix {
    EQ, NE, GT, LT, GE, LE, SA, EB, AP;

    /** The prefix {@code v} starts with, or null (then {@code eq} is meant). */
    static Prefix of(String v) {
      if (v.length() > 2) {
        for (Prefix p : values()) {
          if (v.startsWith(p.name().toLowerCase(Locale.ROOT))) {
            return p;
          }
        }
      }
      return null;
    }
  }

  /**
   * {@code code}, {@code system|code}, {@code |code} or {@code system|}: {@code system} null when
   * any system will do, empty for none; {@code code} empty (with a system) when any code will do.
   */
  record TokenMatch(String system, String code) implements Match {
    static TokenMatch parse(String v) {
      List<String> parts = SearchQuery.split(v, '|');
      if (parts.size() == 1) {
        return new TokenMatch(null, parts.get(0));
      }
      if (parts.size() != 2) {
        throw new InvalidSearchException("A token is code, system|code, |code or system|, not " + v);
      }
      return new TokenMatch(parts.get(0), parts.get(1));
    }

    @Override
    public Sql sql() {
      if (system == null) {
        return Sql.of("x.code = ?", code);
      }
      if (system.isEmpty()) {
        return Sql.of("(x.system IS NULL AND x.code = ?)", code);
      }
      return code.isEmpty() ? Sql.of("x.system = ?", system) : Sql.of("(x.system = ? AND x.code = ?)", system, code);
    }
  }

  /** How a string value compares: the indexed value starts with it (no modifier), is it, or contains it. */
  enum StringMode { STARTS, EXACT, CONTAINS }

  /** A string, case and accent insensitive ({@link Strings}) but for {@code :exact}. */
  record StringMatch(String value, StringMode mode) implements Match {
    @Override
    public Sql sql() {
      String norm = Strings.clip(Strings.normalize(value));
      return switch (mode) {
        case CONTAINS -> Sql.of("x.norm LIKE ?", "%" + Strings.likeLiteral(norm) + "%");
        case EXACT -> Sql.of("(x.norm LIKE ? AND x.exact = ?)", Strings.likeLiteral(norm) + "%", value);
        case STARTS -> Sql.of("x.norm LIKE ?", Strings.likeLiteral(norm) + "%");
      };
    }
  }

  /** A reference as the server stores it: {@code Type/id}, or another server's absolute URL. */
  record ReferenceMatch(String ref) implements Match {
    @Override
    public Sql sql() {
      return Sql.of("x.ref = ?", ref);
    }
  }

  /** A plain id: a reference to it as any of {@code refs}, one per type the parameter may point at. */
  record IdMatch(List<String> refs) implements Match {
    @Override
    public Sql sql() {
      return Sql.array("x.ref = ANY(?::text[])", refs);
    }
  }

  /**
   * A date prefix over the value's range {@code [lo, hi)} and the resource's; for {@code ap} the
   * range is widened already ({@link #parse}).
   */
  record DateMatch(Prefix prefix, DateRange range) implements Match {
    static DateMatch parse(String name, String v, ZoneId zone, Instant now) {
      Prefix prefix = Prefix.of(v);
      DateRange range = DateRange.parse(prefix == null ? v : v.substring(2), zone);
      if (range == null) {
        throw new InvalidSearchException("Invalid date for " + name + ": " + v);
      }
      if (prefix == Prefix.AP) {
        // approximately: overlapping the value widened by a tenth of its distance from now
        Duration slack = Duration.between(range.lo(), now).abs().dividedBy(10);
        range = new DateRange(range.lo().minus(slack), range.hi().plus(slack));
      }
      return new DateMatch(prefix == null ? Prefix.EQ : prefix, range);
    }

    @Override
    public Sql sql() {
      return sql("x.lo", "x.hi");
    }

    /** Over a resource's moment of {@code alias.last_updated}: a range of one millisecond. */
    Sql onLastUpdated(String alias) {
      return sql(alias + ".last_updated", "(" + alias + ".last_updated + interval '1 millisecond')");
    }

    /** Over the resource's range {@code [lo, hi)}, two SQL expressions. */
    private Sql sql(String lo, String hi) {
      String vlo = IndexRows.sql(range.lo());
      String vhi = IndexRows.sql(range.hi());
      String eq = "(" + lo + " >= ?::timestamptz AND " + hi + " <= ?::timestamptz)";
      return switch (prefix) {
        case EQ -> Sql.of(eq, vlo, vhi);
        case NE -> Sql.of("NOT " + eq, vlo, vhi);
        case GT -> Sql.of(hi + " > ?::timestamptz", vhi);
        case LT -> Sql.of(lo + " < ?::timestamptz", vlo);
        case GE -> Sql.of("(" + hi + " > ?::timestamptz OR " + eq + ")", vhi, vlo, vhi);
        case LE -> Sql.of("(" + lo + " < ?::timestamptz OR " + eq + ")", vlo, vlo, vhi);
        case SA -> Sql.of(lo + " >= ?::timestamptz", vhi);
        case EB -> Sql.of(hi + " <= ?::timestamptz", vlo);
        case AP -> Sql.of("(" + lo + " < ?::timestamptz AND " + hi + " > ?::timestamptz)", vhi, vlo);
      };
    }
  }

  /** A number compared at the precision it is written with: {@code 100} is [99.5, 100.5). */
  record NumberMatch(Prefix prefix, BigDecimal number) implements Match {
    static NumberMatch parse(String name, String v) {
      Prefix prefix = Prefix.of(v);
      String n = prefix == null ? v : v.substring(2);
      try {
        return new NumberMatch(prefix == null ? Prefix.EQ : prefix, new BigDecimal(n));
      } catch (NumberFormatException e) {
        throw new InvalidSearchException("Invalid number for " + name + ": " + n);
      }
    }

    @Override
    public Sql sql() {
      return sql("x.value");
    }

    private Sql sql(String column) {
      BigDecimal half = BigDecimal.ONE.movePointLeft(Math.max(number.scale(), 0)).divide(BigDecimal.valueOf(2));
      BigDecimal lo = number.subtract(half);
      BigDecimal hi = number.add(half);
      return switch (prefix) {
        case EQ, AP -> Sql.of("(" + column + " >= ? AND " + column + " < ?)", lo, hi);
        case NE -> Sql.of("NOT (" + column + " >= ? AND " + column + " < ?)", lo, hi);
        case GT, SA -> Sql.of(column + " > ?", number);
        case LT, EB -> Sql.of(column + " < ?", number);
        case GE -> Sql.of(column + " >= ?", number);
        case LE -> Sql.of(column + " <= ?", number);
      };
    }
  }

  /** {@code [prefix]number} or {@code [prefix]number|system|code}; system and code null where not given. */
  record QuantityMatch(NumberMatch number, String system, String code) implements Match {
    static QuantityMatch parse(String name, String v) {
      List<String> parts = SearchQuery.split(v, '|');
      if (parts.size() != 1 && parts.size() != 3) {
        throw new InvalidSearchException("A quantity is [prefix]number or [prefix]number|system|code, not " + v);
      }
      NumberMatch number = NumberMatch.parse(name, parts.get(0));
      return parts.size() == 1 ? new QuantityMatch(number, null, null)
          : new QuantityMatch(number, blankAsNull(parts.get(1)), blankAsNull(parts.get(2)));
    }

    private static String blankAsNull(String s) {
      return s.isEmpty() ? null : s;
    }

    @Override
    public Sql sql() {
      Sql.Builder b = new Sql.Builder().add("(").add(number.sql("x.value"));
      if (system != null) {
        b.add(" AND x.system = ?", system);
      }
      if (code != null) {
        b.add(" AND x.code = ?", code);
      }
      return b.add(")").build();
    }
  }

  /**
   * A full-text query ({@link FullText}) over the words of {@code search_indexed}'s {@code column}
   * ({@code x} here is that row): as a search box reads it (words, "phrases", or, -word), in both
   * languages; normalized as the words were.
   */
  record TextMatch(String column, String query) implements Match {
    @Override
    public Sql sql() {
      // the column is one of FullText's two names, safe in the text
      return Sql.of("x." + column + " @@ fhir_text_query(?)", FullText.normalize(query));
    }
  }

  /** How a uri value compares: equal, or the indexed uri below it ({@code :below}) or above it ({@code :above}). */
  enum UriMode { EQUALS, BELOW, ABOVE }

  record UriMatch(String uri, UriMode mode) implements Match {
    @Override
    public Sql sql() {
      return switch (mode) {
        case BELOW -> Sql.of("x.uri LIKE ?", Strings.likeLiteral(uri) + "%");
        case ABOVE -> Sql.of("? LIKE replace(replace(replace(x.uri, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'", uri);
        case EQUALS -> Sql.of("x.uri = ?", uri);
      };
    }
  }
}
