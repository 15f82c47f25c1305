package io.appointmentserver.search;

import io.appointmentserver.security.AccessTags;
import io.appointmentserver.security.ContextRule;
import java.util.List;

/**
 * A user's context ({@link ContextRule}) as an SQL condition over the column {@code tags} of the
 * rows listed: part of the SQL of every search, include, chain, {@code _has} and history, so that
 * totals and pages only ever count what the user may see.
 */
public final class ContextSql {
  private ContextSql() {}

  /** The condition the rule sets; {@code true} for none (null: the user is not limited). */
  public static Sql of(ContextRule rule) {
    if (rule == null) {
      return Sql.TRUE;
    }
    Sql.Builder sql = new Sql.Builder().add("(true");
    if (rule.anyOf() != null) {
      sql.add(Sql.array(" AND tags && ?::text[]", List.copyOf(rule.anyOf())));
    }
    if (rule.onlyPatient() != null) {
      sql.add(" AND NOT EXISTS (SELECT 1 FROM unnest(tags) t WHERE t LIKE 'patient:%' AND t <> ?)",
          AccessTags.PATIENT + rule.onlyPatient());
    }
    return sql.add(")").build();
  }
}
