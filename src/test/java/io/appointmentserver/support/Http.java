package io.appointmentserver.support;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A plain HTTP client for tests that look at statuses, headers and raw bodies. */
public final class Http {
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5))
      .version(HttpClient.Version.HTTP_1_1)
      .build();

  /**
   * Requests wait up to two minutes: the first validation of a new server loads the DSTU3
   * definitions, which takes half a minute when the machine is shared by several builds.
   */
  private static final Duration TIMEOUT = Duration.ofSeconds(120);

  /** Pass as the Authorization header's value to send none. */
  public static final String NO_AUTH = "<none>";

  private Http() {}

  /**
   * Every request carries the shared server's SYSTEM token unless the test sets Authorization
   * itself ({@link #NO_AUTH} for none).
   */
  private static void headers(HttpRequest.Builder b, String... headers) {
    boolean auth = false;
    for (int i = 0; i < headers.length; i += 2) {
      if (headers[i].equalsIgnoreCase("Authorization")) {
        auth = true;
        if (NO_AUTH.equals(headers[i + 1])) {
          continue;
        }
      }
      b.header(headers[i], headers[i + 1]);
    }
    if (!auth) {
      b.header("Authorization", "Bearer " + TestServer.systemToken());
    }
  }

  /** {@code headers} are name, value pairs. */
  public static HttpResponse<String> send(String method, String url, String body, String... headers) {
    return sendBytes(method, url, body == null ? null : body.getBytes(StandardCharsets.UTF_8), headers);
  }

  public static HttpResponse<String> sendBytes(String method, String url, byte[] body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(body));
    headers(b, headers);
    try {
      return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException(method + " " + url + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public static HttpResponse<byte[]> sendForBytes(String method, String url, byte[] body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(body));
    headers(b, headers);
    try {
      return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new IllegalStateException(method + " " + url + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public static HttpResponse<String> get(String url, String... headers) {
    return send("GET", url, null, headers);
  }

  public static HttpResponse<String> put(String url, String json, String... headers) {
    return send("PUT", url, json, withJson(headers));
  }

  public static HttpResponse<String> post(String url, String json, String... headers) {
    return send("POST", url, json, withJson(headers));
  }

  private static String[] withJson(String[] headers) {
    for (int i = 0; i < headers.length; i += 2) {
      if (headers[i].equalsIgnoreCase("Content-Type")) {
        return headers;
      }
    }
    String[] out = new String[headers.length + 2];
    System.arraycopy(headers, 0, out, 0, headers.length);
    out[headers.length] = "Content-Type";
    out[headers.length + 1] = "application/fhir+json; charset=UTF-8";
    return out;
  }
}
