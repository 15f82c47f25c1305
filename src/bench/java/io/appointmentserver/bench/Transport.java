package io.appointmentserver.bench;

import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * One client's connection to the server: {@link HttpConnection} (minimal blocking HTTP/1.1 over a
 * socket, the default) or {@link JdkTransport}.
 */
interface Transport extends Closeable {
  Response send(Request request) throws IOException;

  @Override
  void close();

  /** One HTTP request; {@link HttpConnection} encodes it once per instance. */
  record Request(String method, String path, List<String[]> headers, byte[] body) {
    byte[] encode(String hostHeader) {
      StringBuilder sb = new StringBuilder(512);
      sb.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
      sb.append("Host: ").append(hostHeader).append("\r\n");
      for (String[] h : headers) {
        sb.append(h[0]).append(": ").append(h[1]).append("\r\n");
      }
      if (body != null) {
        sb.append("Content-Length: ").append(body.length).append("\r\n");
      }
      sb.append("\r\n");
      byte[] head = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
      if (body == null) {
        return head;
      }
      byte[] all = new byte[head.length + body.length];
      System.arraycopy(head, 0, all, 0, head.length);
      System.arraycopy(body, 0, all, head.length, body.length);
      return all;
    }
  }

  /** What the load generator looks at in a response: the status and the ETag. */
  record Response(int status, String etag) {}

  /** The same requests through {@code java.net.http.HttpClient} (HTTP/1.1, keep-alive), for comparison. */
  final class JdkTransport implements Transport {
    private final HttpClient http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    private final URI origin;

    JdkTransport(URI origin) {
      this.origin = origin;
    }

    @Override
    public Response send(Request r) throws IOException {
      HttpRequest.Builder b = HttpRequest.newBuilder(origin.resolve(r.path())).timeout(Duration.ofSeconds(30))
          .method(r.method(), r.body() == null ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofByteArray(r.body()));
      for (String[] h : r.headers()) {
        b.header(h[0], h[1]);
      }
      try {
        HttpResponse<Void> resp = http.send(b.build(), HttpResponse.BodyHandlers.discarding());
        return new Response(resp.statusCode(), resp.headers().firstValue("ETag").orElse(null));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }

    @Override
    public void close() {
      // the JDK's client has no close before Java 21; its connections go with the process
    }
  }
}
