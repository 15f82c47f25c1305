package io.appointmentserver.security;

import java.util.List;
import java.util.Set;

/**
 * What a user's context demands of a resource's access tags: at least one of {@code anyOf}
 * (when set), and no patient other than {@code onlyPatient} (when set). Evaluated in Java for one
 * resource and as SQL over the {@code tags} column for lists (history, search), so that totals
 * and pages only ever count what the user may see.
 */
public record ContextRule(Set<String> anyOf, String onlyPatient) {

  public boolean allows(String[] tags) {
    boolean any = anyOf == null;
    for (String t : tags) {
      if (anyOf != null && anyOf.contains(t)) {
        any = true;
      }
      if (onlyPatient != null && t.startsWith(AccessTags.PATIENT) && !t.equals(AccessTags.PATIENT + onlyPatient)) {
        return false;
      }
    }
    return any;
  }

  /** What the rule expects, for a 403: "a reference to CareTeam/35102, and no patient but Patient/240". */
  public String describe() {
    StringBuilder b = new StringBuilder();
    if (anyOf != null) {
      b.append("a reference to ").append(String.join(" or ", anyOf.stream().sorted()
          .map(t -> t.substring(t.indexOf(':') + 1)).toList()));
    }
    if (onlyPatient != null && !(anyOf != null && anyOf.equals(Set.of(AccessTags.PATIENT + onlyPatient)))) {
      b.append(b.length() > 0 ? ", and " : "").append("no patient but ").append(onlyPatient);
    }
    return b.toString();
  }

  /** An SQL condition over the column {@code tags}, with its parameters. */
  public record Sql(String condition, List<Object> params) {}

  public Sql sql() {
    StringBuilder sql = new StringBuilder("(true");
    List<Object> params = new java.util.ArrayList<>();
    if (anyOf != null) {
      sql.append(" AND tags && ?::text[]");
      params.add(anyOf.toArray(String[]::new));
    }
    if (onlyPatient != null) {
      sql.append(" AND NOT EXISTS (SELECT 1 FROM unnest(tags) t WHERE t LIKE 'patient:%' AND t <> ?)");
      params.add(AccessTags.PATIENT + onlyPatient);
    }
    return new Sql(sql.append(')').toString(), params);
  }
}
