package io.appointmentserver.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, for requests that {@link Http} (java.net.http) will not send:
 * malformed URLs, forbidden or broken headers, bodies that do not match their Content-Length.
 * One request per connection ({@code Connection: close}).
 */
public final class RawHttp {
  /** A response as read from the wire; {@code status} -1 when the server closed without answering. */
  public record Response(int status, Map<String, String> headers, byte[] body) {
    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** The request could not be sent whole (the server closed first) and no answer could be read. */
  public static final class SendFailed extends IOException {
    SendFailed(IOException cause) {
      super("the server closed the connection while the request was sent: " + cause, cause);
    }
  }

  private RawHttp() {}

  /** The request line, Host and Connection headers are added; {@code head} holds the other header lines. */
  public static Response send(String method, String target, String head, byte[] body, int timeoutMillis)
      throws IOException {
    URI base = URI.create(TestServer.base());
    StringBuilder req = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n")
        .append("Host: ").append(base.getHost()).append(':').append(base.getPort()).append("\r\n")
        .append("Connection: close\r\n").append(head);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(req.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
    if (body != null) {
      out.writeBytes(body);
    }
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(base.getHost(), base.getPort()), 5000);
      s.setSoTimeout(timeoutMillis);
      OutputStream os = s.getOutputStream();
      try {
        os.write(out.toByteArray());
        os.flush();
        s.shutdownOutput();
      } catch (IOException e) {
        // the server may have answered before it closed: read what it sent
        try {
          Response early = read(s.getInputStream());
          if (early.status() > 0) {
            return early;
          }
        } catch (IOException lost) {
          // reset: the answer is gone
        }
        throw new SendFailed(e);
      }
      return read(s.getInputStream());
    }
  }

  private static Response read(InputStream in) throws IOException {
    String statusLine = line(in);
    if (statusLine == null) {
      return new Response(-1, Map.of(), new byte[0]);
    }
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    if (status >= 100 && status < 200) { // 100 Continue: the final answer follows
      for (String h; (h = line(in)) != null && !h.isEmpty(); ) {
        // its headers
      }
      return read(in);
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (String h; (h = line(in)) != null && !h.isEmpty(); ) {
      int colon = h.indexOf(':');
      headers.merge(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim(),
          (a, b) -> a + ", " + b);
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      for (String size; (size = line(in)) != null; ) {
        int n = Integer.parseInt(size.split(";")[0].trim(), 16);
        if (n == 0) {
          break;
        }
        body.writeBytes(in.readNBytes(n));
        line(in);
      }
    } else if (headers.containsKey("content-length")) {
      body.writeBytes(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
    } else {
      body.writeBytes(in.readAllBytes());
    }
    return new Response(status, headers, body.toByteArray());
  }

  /** A header line without its CRLF; null at the end of the stream. */
  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int c; (c = in.read()) >= 0; ) {
      if (c == '\n') {
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }
}
