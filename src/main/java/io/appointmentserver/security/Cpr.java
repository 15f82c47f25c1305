package io.appointmentserver.security;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * CPR numbers, the Danish civil registration numbers ({@code urn:oid:1.2.208.176.1.2}): identifiers of
 * people, so a search by one needs a privilege of its own, {@code <Type>$search-by-cpr} (which
 * {@code <Type>.*} includes), beside the search privilege; and they are masked wherever the server
 * writes them into a log line, an audit event or a URL it builds ({@link AuditLog#maskCpr}).
 */
public final class Cpr {
  public static final String SYSTEM = "urn:oid:1.2.208.176.1.2";
  public static final String SEARCH_PRIVILEGE = "$search-by-cpr";
  private static final Pattern NUMBER = Pattern.compile("[0-9]{6}-?[0-9]{4}");

  private Cpr() {}

  /** Whether {@code value} is a CPR number as eHealth writes it: ten digits. */
  public static boolean valid(String value) {
    return value != null && value.matches("[0-9]{10}");
  }

  /**
   * 403 unless the user may search {@code type} by CPR, when one of {@code parameters} does: an
   * identifier parameter (also in a chain or {@code _has}) whose value has the CPR system, or no
   * system and the form of a CPR number.
   */
  public static void requireSearchPrivilege(Principal user, String type, Map<String, String[]> parameters) {
    if (searchesByCpr(parameters)) {
      Privileges.requireOperation(user, type, SEARCH_PRIVILEGE);
    }
  }

  static boolean searchesByCpr(Map<String, String[]> parameters) {
    for (Map.Entry<String, String[]> p : parameters.entrySet()) {
      String name = p.getKey().toLowerCase(java.util.Locale.ROOT);
      // identifier, patient.identifier, _has:...:identifier, identifier:not and the like
      if (!name.contains("identifier")) {
        continue;
      }
      for (String values : p.getValue()) {
        for (String value : values.split(",")) {
          String v = value.trim();
          if (v.startsWith(SYSTEM + "|") || (v.indexOf('|') < 0 && NUMBER.matcher(v).matches())) {
            return true;
          }
        }
      }
    }
    return false;
  }
}
