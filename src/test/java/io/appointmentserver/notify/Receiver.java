package io.appointmentserver.notify;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A rest-hook endpoint on 127.0.0.1 for the tests: records what it is sent, answers {@link #status}. */
final class Receiver implements AutoCloseable {
  record Received(String path, String contentType, String authorization, String body) {}

  final AtomicInteger status = new AtomicInteger(200);
  final AtomicInteger attempts = new AtomicInteger();
  private final LinkedBlockingQueue<Received> received = new LinkedBlockingQueue<>();
  private final HttpServer server;

  Receiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      attempts.incrementAndGet();
      int s = status.get();
      if (s == 200) {
        received.add(new Received(exchange.getRequestURI().getPath(),
            exchange.getRequestHeaders().getFirst("Content-Type"),
            exchange.getRequestHeaders().getFirst("Authorization"), body));
      }
      exchange.sendResponseHeaders(s, -1);
      exchange.close();
    });
    server.start();
  }

  String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  /** The next notification, waiting up to {@code ms}; null if none came. */
  Received next(long ms) throws InterruptedException {
    return received.poll(ms, TimeUnit.MILLISECONDS);
  }

  /** Every notification that comes within {@code ms}. */
  List<Received> drain(long ms) throws InterruptedException {
    Thread.sleep(ms);
    List<Received> out = new ArrayList<>();
    received.drainTo(out);
    return out;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
