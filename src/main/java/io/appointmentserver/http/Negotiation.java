package io.appointmentserver.http;

import io.appointmentserver.rest.BrowserPages;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Locale;
import java.util.Set;

/**
 * Content negotiation of the FHIR formats (<a href="https://hl7.org/fhir/STU3/http.html#mime-type">DSTU3
 * mime types</a>): {@code _format} wins over {@code Accept}; {@code Accept} is read with its
 * q-values, the legacy {@code application/json+fhir} and {@code application/xml+fhir} included.
 */
final class Negotiation {
  enum Format { JSON, XML }

  private static final Set<String> JSON_TYPES =
      Set.of("application/fhir+json", "application/json+fhir", "application/json", "json", "text/json");
  private static final Set<String> XML_TYPES =
      Set.of("application/fhir+xml", "application/xml+fhir", "application/xml", "text/xml", "xml");
  /** Other types some operations produce; acceptable, but not a FHIR resource format. */
  private static final Set<String> OTHER_TYPES = Set.of("text/calendar", "text/html");

  private Negotiation() {}

  /** The format to answer in; null when the client accepts none that this server produces. */
  static Format responseFormat(HttpServletRequest req) {
    String format = formatParam(req);
    if (format != null && !format.isBlank()) {
      String f = mediaType(format);
      if (BrowserPages.isHtmlFormat(f)) {
        return f.equals("html/xml") ? Format.XML : Format.JSON; // a page of that format (rest.BrowserPages)
      }
      return JSON_TYPES.contains(f) ? Format.JSON : XML_TYPES.contains(f) ? Format.XML : null;
    }
    String accept = req.getHeader("Accept");
    if (accept == null || accept.isBlank()) {
      return Format.JSON;
    }
    Format best = null;
    double bestQ = 0;
    boolean other = false;
    for (String range : accept.split(",")) {
      String[] parts = range.split(";");
      String type = mediaType(parts[0]);
      double q = quality(parts);
      if (q <= 0) {
        continue;
      }
      Format f = JSON_TYPES.contains(type) || type.equals("*/*") || type.equals("application/*")
          ? Format.JSON
          : XML_TYPES.contains(type) || type.equals("text/*") ? Format.XML : null;
      if (f == null) {
        other |= OTHER_TYPES.contains(type);
        continue;
      }
      if (q > bestQ) {
        best = f;
        bestQ = q;
      }
    }
    if (best == null && other) {
      return Format.JSON; // the operation decides; errors come as JSON
    }
    return best;
  }

  /**
   * {@code _format} from the query string only: asking the servlet for parameters would consume
   * a form-encoded body.
   */
  static String formatParam(HttpServletRequest req) {
    return BrowserPages.formatParameter(req.getQueryString());
  }

  /** True when the client asked for the legacy DSTU2-style JSON type above the current one. */
  static boolean prefersLegacyJson(HttpServletRequest req) {
    String accept = req.getHeader("Accept");
    return accept != null && accept.contains("application/json+fhir")
        && !accept.contains("application/fhir+json");
  }

  static String mediaType(String s) {
    int semi = s.indexOf(';');
    return (semi >= 0 ? s.substring(0, semi) : s).trim().toLowerCase(Locale.ROOT);
  }

  private static double quality(String[] params) {
    for (int i = 1; i < params.length; i++) {
      String p = params[i].trim();
      if (p.startsWith("q=")) {
        try {
          return Double.parseDouble(p.substring(2).trim());
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 1;
  }
}
