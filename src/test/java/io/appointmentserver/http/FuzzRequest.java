package io.appointmentserver.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** One request of {@link FuzzTest} as it goes on the wire; {@code writes}: it may change the database. */
final class FuzzRequest {
  String method;
  String path;
  String query;
  final List<String[]> headers = new ArrayList<>();
  byte[] body;
  boolean writes;
  String interaction;
  String rawHead = ""; // header lines added as bytes (non-ASCII, broken ones)
  boolean noContentLength;
  /** The header block or the chunk framing cannot be parsed: HTTP/1.1 has the server answer 400 and close. */
  boolean unparseable;
  Integer contentLength;
  final List<String> mutations = new ArrayList<>();

  String target() {
    return path + (query == null ? "" : "?" + query);
  }

  void header(String name, String value) {
    headers.removeIf(h -> h[0].equalsIgnoreCase(name));
    headers.add(new String[] {name, value});
  }

  String describe() {
    String b = body == null ? "" : new String(body, 0, Math.min(body.length, 300), StandardCharsets.ISO_8859_1);
    StringBuilder h = new StringBuilder();
    headers.forEach(x -> h.append(x[0]).append(": ").append(x[1].length() > 120 ? x[1].substring(0, 120) + "..." : x[1])
        .append(" | "));
    String t = target();
    return method + " " + (t.length() > 300 ? t.substring(0, 300) + "..." : t) + " [" + h + rawHead.replace("\r\n", " | ")
        + "] mutations " + mutations + " body " + b;
  }

  /** The header lines as sent: the headers, the raw ones, and the Content-Length (true or not). */
  String head() {
    StringBuilder h = new StringBuilder();
    for (String[] x : headers) {
      h.append(x[0]).append(": ").append(x[1]).append("\r\n");
    }
    String out = h + rawHead;
    if (body != null && !noContentLength) {
      out += "Content-Length: " + (contentLength != null ? contentLength : body.length) + "\r\n";
    }
    return out;
  }
}
