package io.appointmentserver.http;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Query strings as they may be logged: a CPR number (ten digits, a dash after the sixth allowed)
 * in the value of an identifier parameter ({@code identifier=}, {@code patient.identifier=},
 * {@code _has:...:identifier=}, with or without a modifier) is masked, the system kept.
 */
public final class QueryMask {
  private static final Pattern CPR = Pattern.compile("(?<![0-9])[0-9]{6}-?[0-9]{4}(?![0-9])");
  static final String MASK = "**********";

  private QueryMask() {}

  public static String mask(String query) {
    if (query == null || query.isEmpty() || !query.toLowerCase(java.util.Locale.ROOT).contains("identifier")) {
      return query; // the common case costs one scan
    }
    StringBuilder out = new StringBuilder(query.length());
    int start = 0;
    while (start <= query.length()) {
      int amp = query.indexOf('&', start);
      int end = amp < 0 ? query.length() : amp;
      out.append(maskParameter(query.substring(start, end)));
      if (amp < 0) {
        break;
      }
      out.append('&');
      start = amp + 1;
    }
    return out.toString();
  }

  private static String maskParameter(String p) {
    int eq = p.indexOf('=');
    if (eq < 0 || !decode(p.substring(0, eq)).toLowerCase(java.util.Locale.ROOT).contains("identifier")) {
      return p;
    }
    String raw = p.substring(eq + 1);
    String value = decode(raw);
    Matcher m = CPR.matcher(value);
    if (!m.find()) {
      return p;
    }
    return p.substring(0, eq + 1) + encode(m.replaceAll(MASK));
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException malformed) {
      return s; // a broken escape: look at it as sent
    }
  }

  /** Percent-encodes all but what reads well in a log line and cannot break it. */
  private static String encode(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~:|/*,".indexOf(c) >= 0) {
        b.append((char) c);
      } else {
        b.append('%').append(Character.toUpperCase(Character.forDigit((c >> 4) & 0xF, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
      }
    }
    return b.toString();
  }
}
