package io.appointmentserver.search;

import io.appointmentserver.search.Match.DateMatch;
import io.appointmentserver.search.SearchParameters.Param;
import io.appointmentserver.store.AuditEvents;
import java.util.List;

/**
 * One search parameter of a request (one repeat of it: repeats are ANDed) as what it demands of
 * the searched resource, read by {@link SearchQuery}. Each kind writes its SQL in its own
 * {@link #sql}, a condition on the searched {@code resource} row; comma-separated values are
 * alternatives (ORed) within it.
 */
sealed interface Condition permits Condition.Indexed, Condition.Missing, Condition.Ids, Condition.LastUpdated,
    Condition.AllOf, Condition.SameElement, Condition.Composite, Condition.Chain, Condition.Has,
    Condition.Text, AuditTrailParameters.Audit {

  /** The searched resource row: its type, and its alias in the SQL ({@code r}, or that of a chain's or _has's subquery). */
  record Row(String type, String alias) {}

  Sql sql(Row row);

  /** The conditions as they follow the row's own WHERE: each after an AND. */
  static Sql where(List<Condition> conditions, Row row) {
    Sql.Builder b = new Sql.Builder();
    for (Condition c : conditions) {
      b.add(" AND ").add(c.sql(row));
    }
    return b.build();
  }

  /** The start of an EXISTS over the row's index rows {@code x} of {@code param}; the caller closes it. */
  private static Sql.Builder indexRows(String table, String param, Row row) {
    return new Sql.Builder().add("EXISTS (SELECT 1 FROM " + table + " x WHERE x.res_type = ? AND x.res_id = "
        + row.alias() + ".res_id AND x.param = ?", row.type(), param);
  }

  /** A parameter with index rows: a row of it matching one of the values (none, for a token's {@code :not}). */
  record Indexed(String param, boolean not, List<Match> anyOf) implements Condition {
    @Override
    public Sql sql(Row row) {
      Sql values = Sql.or(anyOf.stream().map(Match::sql).toList());
      return new Sql.Builder().add(not ? "NOT " : "")
          .add(indexRows(Match.table(anyOf.get(0).kind()), param, row).build()).add(" AND ").add(values).add(")")
          .build();
    }
  }

  /**
   * {@code _content}, {@code _text} ({@link FullText}): the words of the resource match one of the
   * queries. The words are in the resource's {@code search_indexed} row, found by its key.
   */
  record Text(List<Match.TextMatch> anyOf) implements Condition {
    @Override
    public Sql sql(Row row) {
      return new Sql.Builder().add("EXISTS (SELECT 1 FROM search_indexed x WHERE x.res_type = ? AND x.res_id = "
          + row.alias() + ".res_id AND ", row.type()).add(Sql.or(anyOf.stream().map(Match::sql).toList())).add(")")
          .build();
    }
  }

  /** {@code :missing}: the parameter has no index row ({@code missing}) or has one. */
  record Missing(Param param, boolean missing) implements Condition {
    @Override
    public Sql sql(Row row) {
      if (Extractor.FROM_COLUMNS.contains(param.name())) {
        return missing ? Sql.FALSE : Sql.TRUE; // every resource has an id and a lastUpdated
      }
      return new Sql.Builder().add(missing ? "NOT " : "")
          .add(indexRows(Match.table(param.kind()), param.name(), row).build()).add(")").build();
    }
  }

  /** {@code _id}: one of the ids ({@code not}: none of them). */
  record Ids(List<String> ids, boolean not) implements Condition {
    @Override
    public Sql sql(Row row) {
      Sql in = Sql.array((not ? "NOT " : "") + row.alias() + ".res_id = ANY(?::text[])", ids);
      if (not || !row.type().equals(AuditEvents.TYPE)) {
        return in;
      }
      // the audit trail's key is (recorded, id), and an event's id tells when it was recorded
      return in.and(Sql.array(row.alias() + ".last_updated IN (SELECT " + AuditEvents.recordedOf("x")
          + " FROM unnest(?::text[]) x)", ids));
    }
  }

  /** {@code _lastUpdated}: one of the dates, over the row's column. */
  record LastUpdated(List<DateMatch> anyOf) implements Condition {
    @Override
    public Sql sql(Row row) {
      return Sql.or(anyOf.stream().map(d -> d.onLastUpdated(row.alias())).toList());
    }
  }

  /** All of the conditions: a composite's value whose components pair over the whole resource. */
  record AllOf(List<Condition> all) implements Condition {
    @Override
    public Sql sql(Row row) {
      return new Sql.Builder().add("(true").add(where(all, row)).add(")").build();
    }
  }

  /**
   * A composite's value whose components pair per element ({@link Composites}): a row of the
   * first component in some element (its number is the rest of the row's name, {@code xe.g}),
   * and a row of each other component in the element of that number. Each row is {@code x} in
   * its own subquery, as the matches name it.
   */
  record SameElement(String composite, List<Match> components) implements Condition {
    @Override
    public Sql sql(Row row) {
      Sql.Builder b = new Sql.Builder();
      for (int i = 0; i < components.size(); i++) {
        Match c = components.get(i);
        String prefix = Composites.rowPrefix(composite, i);
        if (i == 0) {
          b.add("EXISTS (SELECT 1 FROM " + Match.table(c.kind()) + " x, LATERAL (SELECT substr(x.param, ?) AS g) xe"
              + " WHERE x.res_type = ? AND x.res_id = " + row.alias() + ".res_id AND x.param LIKE ?",
              prefix.length() + 1, row.type(), Strings.likeLiteral(prefix) + "%");
        } else {
          b.add(" AND EXISTS (SELECT 1 FROM " + Match.table(c.kind()) + " x WHERE x.res_type = ? AND x.res_id = "
              + row.alias() + ".res_id AND x.param = ? || xe.g", row.type(), prefix);
        }
        b.add(" AND ").add(c.sql());
        if (i > 0) {
          b.add(")");
        }
      }
      return b.add(")").build();
    }
  }

  /**
   * A composite parameter (<a href="https://hl7.org/fhir/STU3/search.html#combining">search.html</a>):
   * one of its values, each an {@link AllOf} or a {@link SameElement}.
   */
  record Composite(List<Condition> anyOf) implements Condition {
    @Override
    public Sql sql(Row row) {
      return Sql.or(anyOf.stream().map(c -> c.sql(row)).toList());
    }
  }

  /**
   * The conditions on one type a chain or {@code _has} looks into, and what the user may see of
   * it (their context, as SQL over {@code tags}).
   */
  record Into(String type, List<Condition> conditions, Sql context) {}

  /**
   * One level of chaining (<a href="https://hl7.org/fhir/STU3/search.html#chaining">chained
   * parameters</a>): the reference {@code param} points at a resource of one of the targets that
   * their conditions select and that the user may see (its context is part of the subquery, so a
   * chain reveals nothing outside it). No target left: nothing matches.
   */
  record Chain(String param, List<Into> targets) implements Condition {
    @Override
    public Sql sql(Row row) {
      Sql.Builder b = indexRows("search_reference", param, row).add(" AND (");
      String or = "";
      for (Into t : targets) {
        b.add(or + "x.ref IN (SELECT ? || c.res_id FROM resource c WHERE c.res_type = ? AND NOT c.deleted",
                t.type() + "/", t.type())
            .add(where(t.conditions(), new Row(t.type(), "c"))).add(" AND ").add(t.context()).add(")");
        or = " OR ";
      }
      return b.add(targets.isEmpty() ? "false" : "").add("))").build();
    }
  }

  /**
   * Reverse chaining (<a href="https://hl7.org/fhir/STU3/search.html#has">_has</a>): a resource
   * of {@code from} that the user may see refers to this one by {@code param} and meets its
   * conditions. Resources outside the user's context never count, so their existence does not show.
   */
  record Has(Into from, String param) implements Condition {
    @Override
    public Sql sql(Row row) {
      return new Sql.Builder()
          .add("EXISTS (SELECT 1 FROM search_reference hx JOIN resource h ON h.res_type = hx.res_type"
              + " AND h.res_id = hx.res_id WHERE hx.res_type = ? AND hx.param = ? AND hx.ref = ? || " + row.alias()
              + ".res_id AND NOT h.deleted", from.type(), param, row.type() + "/")
          .add(where(from.conditions(), new Row(from.type(), "h"))).add(" AND ").add(from.context()).add(")")
          .build();
    }
  }
}
