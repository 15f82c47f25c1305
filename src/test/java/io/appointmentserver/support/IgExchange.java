package io.appointmentserver.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One recorded exchange of the eHealth IG ({@code exampleOperations/*.md}): a first line with the
 * request such as {@code `PUT [base]/Appointment/309`}, then {@code __Header__} with a fenced block
 * of headers, {@code __Body__:} with a fenced block (empty, or missing, when there is no body) and
 * {@code __Response__} with a fenced block (empty when the response was not recorded).
 *
 * @param name     the file name without {@code .md}
 * @param method   HTTP method
 * @param path     the request path after {@code [base]}, e.g. {@code /Appointment/309}
 * @param headers  the recorded request headers as name, value pairs, in order
 * @param body     the request body, empty if none
 * @param response the recorded response body, empty if none
 */
public record IgExchange(String name, String method, String path, List<String[]> headers, String body,
    String response) {

  /** The server base of the recordings (in their URLs, bodies and tokens' claims). */
  public static final String RECORDED_BASE = "http://localhost:8080/fhir";

  private static final Pattern REQUEST = Pattern.compile("`?([A-Z]+) \\[base\\](\\S*?)`?");

  public static Path folder() {
    return TestServer.sharedDir().resolve("ehealth-ig").resolve("exampleOperations");
  }

  public static IgExchange load(String name) throws IOException {
    return parse(name, Files.readString(folder().resolve(name + ".md")));
  }

  public static IgExchange parse(String name, String text) {
    List<String> lines = text.lines().toList();
    int first = 0;
    while (first < lines.size() && lines.get(first).isBlank()) {
      first++;
    }
    Matcher m = REQUEST.matcher(first < lines.size() ? lines.get(first).trim() : "");
    if (!m.matches()) {
      throw new IllegalArgumentException(name + ": the first line is not a request such as `GET [base]/X/1`");
    }
    List<String[]> headers = new ArrayList<>();
    for (String line : block(lines, "__Header__").lines().toList()) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        headers.add(new String[] {line.substring(0, colon).trim(), line.substring(colon + 1).trim()});
      }
    }
    return new IgExchange(name, m.group(1), m.group(2), List.copyOf(headers), block(lines, "__Body__"),
        block(lines, "__Response__"));
  }

  /** The content of the first fenced block after the line starting with {@code marker}; "" if none. */
  private static String block(List<String> lines, String marker) {
    int i = 0;
    while (i < lines.size() && !lines.get(i).trim().startsWith(marker)) {
      i++;
    }
    for (i++; i < lines.size() && !lines.get(i).trim().startsWith("```"); i++) {
      if (lines.get(i).trim().startsWith("__")) {
        return ""; // the next section started: this one has no block
      }
    }
    StringBuilder out = new StringBuilder();
    for (i++; i < lines.size() && !lines.get(i).trim().equals("```"); i++) {
      out.append(lines.get(i)).append('\n');
    }
    return out.toString().strip();
  }

  /** The recorded value of a header, or null. */
  public String header(String headerName) {
    for (String[] h : headers) {
      if (h[0].equalsIgnoreCase(headerName)) {
        return h[1];
      }
    }
    return null;
  }

  /**
   * The recorded headers with If-Match set to {@code ifMatchVersion} (when given and different),
   * and the recorded token's claims re-signed for this run with the shared server's key: the
   * recorded base replaced by {@code claimsBase} (when given) and {@code extraRoles} added.
   */
  public String[] replayHeaders(Long ifMatchVersion, String claimsBase, List<String> extraRoles) {
    return replayHeaders(ifMatchVersion, claimsBase, extraRoles, java.util.Map.of());
  }

  /** The same, with the claims of {@code claims} (e.g. {@code context}, {@code user_id}) replacing the recorded ones. */
  public String[] replayHeaders(Long ifMatchVersion, String claimsBase, List<String> extraRoles,
      java.util.Map<String, Object> claims) {
    List<String> out = new ArrayList<>();
    for (String[] h : headers) {
      String value = h[1];
      if (h[0].equalsIgnoreCase("Authorization")) {
        // the recorded token's claims, signed with this server's key and valid from now
        value = "Bearer " + Tokens.resign(TestServer.dataDir(), value.substring("Bearer ".length()).trim(),
            claimsBase == null ? RECORDED_BASE : claimsBase, extraRoles, claims);
      }
      if (h[0].equalsIgnoreCase("If-Match") && ifMatchVersion != null
          && !value.replace("W/", "").equals("\"" + ifMatchVersion + "\"")) {
        value = "\"" + ifMatchVersion + "\"";
      }
      out.add(h[0]);
      out.add(value);
    }
    return out.toArray(String[]::new);
  }
}
