package io.appointmentserver.security;

import java.util.Set;

/**
 * What a user's context demands of a resource's access tags: at least one of {@code anyOf}
 * (when set), and no patient other than {@code onlyPatient} (when set). Evaluated here for one
 * resource; lists (history, search) apply it in their SQL, over the {@code tags} column
 * ({@code search.ContextSql}), so that totals and pages only ever count what the user may see.
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
}
