package io.appointmentserver.bench;

import io.appointmentserver.bench.Transport.Request;
import io.appointmentserver.bench.Transport.Response;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * One persistent HTTP/1.1 connection (keep-alive) with blocking I/O: writes a whole request in
 * one call, reads the status line and the few headers the load generator needs, and skips the
 * body (Content-Length or chunked) in its own buffer. It reconnects after the server closed the
 * connection. That is all a load generator needs, at a fraction of the CPU a general client
 * spends, which matters when the client shares two cores with the server it measures.
 */
final class HttpConnection implements Transport {
  private final String host;
  private final int port;
  private final String hostHeader;
  private final byte[] buf = new byte[65536];
  private final StringBuilder line = new StringBuilder(128);
  private int pos;
  private int limit;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private Request lastRequest;
  private byte[] lastBytes;

  HttpConnection(String host, int port) {
    this.host = host;
    this.port = port;
    this.hostHeader = host + ":" + port;
  }

  /** Sends the request in one write and reads the whole response. */
  @Override
  public Response send(Request request) throws IOException {
    if (request != lastRequest) { // the same request again is not encoded again
      lastBytes = request.encode(hostHeader);
      lastRequest = request;
    }
    if (socket == null) {
      connect();
    }
    try {
      out.write(lastBytes);
      return readResponse();
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  private void connect() throws IOException {
    Socket s = new Socket();
    s.setTcpNoDelay(true);
    s.connect(new InetSocketAddress(host, port), 5_000);
    s.setSoTimeout(30_000);
    socket = s;
    in = s.getInputStream();
    out = s.getOutputStream();
    pos = 0;
    limit = 0;
  }

  private Response readResponse() throws IOException {
    String statusLine = readLine();
    if (statusLine.length() < 12 || !statusLine.startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP response: " + statusLine);
    }
    int status = Integer.parseInt(statusLine, 9, 12, 10);
    boolean keepAlive = statusLine.startsWith("HTTP/1.1");
    long contentLength = -1;
    boolean chunked = false;
    String etag = null;
    for (String h = readLine(); !h.isEmpty(); h = readLine()) {
      int colon = h.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String name = h.substring(0, colon);
      if (name.equalsIgnoreCase("Content-Length")) {
        contentLength = Long.parseLong(h.substring(colon + 1).trim());
      } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
        chunked = h.regionMatches(true, h.length() - 7, "chunked", 0, 7);
      } else if (name.equalsIgnoreCase("ETag")) {
        etag = h.substring(colon + 1).trim();
      } else if (name.equalsIgnoreCase("Connection")) {
        keepAlive = !h.substring(colon + 1).trim().equalsIgnoreCase("close");
      }
    }
    boolean hasBody = !(status == 204 || status == 304 || status / 100 == 1);
    if (hasBody && chunked) {
      for (long size = chunkSize(); size > 0; size = chunkSize()) {
        skip(size + 2); // the chunk and its CRLF
      }
      while (!readLine().isEmpty()) {
        // trailers
      }
    } else if (hasBody && contentLength >= 0) {
      skip(contentLength);
    } else if (hasBody) {
      while (fill()) {
        // the body runs to the end of the connection
      }
      keepAlive = false;
    }
    if (!keepAlive) {
      close();
    }
    return new Response(status, etag);
  }

  private long chunkSize() throws IOException {
    String s = readLine();
    int semi = s.indexOf(';');
    return Long.parseLong((semi >= 0 ? s.substring(0, semi) : s).trim(), 16);
  }

  /** Reads more into the buffer; false at the end of the connection. */
  private boolean fill() throws IOException {
    int n = in.read(buf, 0, buf.length);
    if (n <= 0) {
      return false;
    }
    pos = 0;
    limit = n;
    return true;
  }

  private void skip(long n) throws IOException {
    while (n > 0) {
      if (pos == limit && !fill()) {
        throw new EOFException("connection closed in the middle of a body");
      }
      int k = (int) Math.min(limit - pos, n);
      pos += k;
      n -= k;
    }
  }

  /** A line without its CRLF, as ISO-8859-1 (header bytes). */
  private String readLine() throws IOException {
    line.setLength(0);
    while (true) {
      if (pos == limit && !fill()) {
        throw new EOFException("connection closed by the server");
      }
      byte b = buf[pos++];
      if (b == '\n') {
        return line.toString();
      }
      if (b != '\r') {
        line.append((char) (b & 0xff));
      }
    }
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      socket = null;
      in = null;
      out = null;
    }
  }
}
