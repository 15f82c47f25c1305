package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import java.util.regex.Pattern;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;

/**
 * Resource ids, versions and their textual forms, in one place: the id rule, {@code Type/id/_history/n},
 * the weak ETag {@code W/"n"} and the version in {@code If-Match}.
 */
public final class Ids {
  private Ids() {}

  /** The FHIR id rule (<a href="https://hl7.org/fhir/STU3/datatypes.html#id">id</a>). */
  public static final String ID_PATTERN = "[A-Za-z0-9\\-.]{1,64}";
  private static final Pattern ID = Pattern.compile(ID_PATTERN);

  /** 400 unless {@code id} is a valid FHIR id. */
  public static String check(String id) {
    if (id == null || !ID.matcher(id).matches()) {
      String msg = "Invalid resource id '" + id + "': ids are 1 to 64 of A-Z, a-z, 0-9, '-' and '.'";
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.VALUE, msg));
    }
    return id;
  }

  /** {@code Type/id/_history/version}. */
  public static String versioned(String type, String id, long version) {
    return type + "/" + id + "/_history/" + version;
  }

  /** The weak ETag of a version: {@code W/"version"}. */
  public static String etag(long version) {
    return "W/\"" + version + "\"";
  }

  /** The version a version id names, or null when it is no number. */
  static Long parseVersion(String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** The version in {@code If-Match}, in either form {@code W/"1"} or {@code "1"}; null if absent. */
  public static Long ifMatch(RequestDetails request) {
    String header = request.getHeader("If-Match");
    if (header == null || header.isBlank()) {
      return null;
    }
    String v = header.trim();
    if (v.startsWith("W/")) {
      v = v.substring(2);
    }
    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
      v = v.substring(1, v.length() - 1);
    }
    Long version = parseVersion(v);
    if (version == null) {
      String msg = "If-Match must name a version such as W/\"1\" or \"1\", not " + header;
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.VALUE, msg));
    }
    return version;
  }
}
