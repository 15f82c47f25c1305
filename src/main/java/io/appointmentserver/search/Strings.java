package io.appointmentserver.search;

import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Pattern;

/** How string parameters compare: case and accent insensitive, on both sides of the search. */
final class Strings {
  private static final Pattern MARKS = Pattern.compile("\\p{M}+");
  /** Longer values are indexed by their start: a B-tree entry must stay small. */
  static final int MAX = 200;

  private Strings() {}

  static String normalize(String s) {
    String d = Normalizer.normalize(s, Normalizer.Form.NFD);
    return MARKS.matcher(d).replaceAll("").toLowerCase(Locale.ROOT);
  }

  static String clip(String s) {
    return s.length() <= MAX ? s : s.substring(0, MAX);
  }

  /** {@code s} as a literal inside a LIKE pattern (escape character {@code \}). */
  static String likeLiteral(String s) {
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
  }
}
