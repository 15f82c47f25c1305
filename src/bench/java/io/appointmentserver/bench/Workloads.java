package io.appointmentserver.bench;

import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.bench.Transport.Request;
import io.appointmentserver.bench.Transport.Response;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the {@link LoadGenerator}'s clients send, workload by workload, built from the seed
 * exchange ({@code --seed}):
 * <ul>
 *   <li>{@code put}: each client creates {@code Appointment/bench-<client>} from the seed body, then
 *       updates it again and again with {@code If-Match: "<version>"}, taking the next version
 *       from the response's ETag; anything but 200 is an error. Its {@code comment} ends in 0 and 1
 *       by turns: each PUT is a new version (the server keeps the version for a PUT of the current
 *       content), and the validation of both bodies is answered from the outcomes it remembers.
 *   <li>{@code edit}: as {@code put}, but every request changes the appointment's {@code comment}
 *       (a counter appended), as a client editing it does: the content is new each time, so the
 *       server cannot answer validation from an outcome it remembers.
 *   <li>{@code room}: as {@code edit}, but the counter goes into the name of the contained
 *       Location (the appointment moves to another room): new content that is not a top-level
 *       free text, so the whole appointment is validated again.
 *   <li>{@code read}: each client creates {@code Appointment/bench-<client>} and then reads it as
 *       JSON; anything but 200 is an error. With {@code --path} it reads that path under
 *       {@code --url} instead and needs no set-up: the same client then measures a static file
 *       server.
 *   <li>{@code create}: POST of the seed body without its id; anything but 201 is an error.
 *   <li>{@code ccreate}: the same as a conditional create: each POST carries an identifier of its
 *       own and {@code If-None-Exist} naming it, so that every one searches (under its advisory
 *       lock) and creates; anything but 201 is an error.
 *   <li>{@code validate}: POST {@code Appointment/$validate} of the seed body whose {@code comment}
 *       ends in a counter, as {@code edit} sends it: new content every time, nothing stored;
 *       anything but 200 is an error.
 *   <li>{@code validateroom}: as {@code validate}, but the counter goes into the contained
 *       Location's name, as {@code room} sends it: the whole appointment is validated again.
 *   <li>{@code search}: GET {@code --path} with {@code {n}} replaced by a random number below
 *       {@code --range} each time (e.g. a patient of the search benchmark); anything but 200 is an error.
 * </ul>
 * {@code Patient/240}, which the seed appointment refers to, is written first ({@link #writePatient}).
 */
final class Workloads {

  enum Workload { put, edit, room, read, create, ccreate, search, validate, validateroom }

  /** What one client sends over and over, and what an answer means for the next request. */
  interface Session {
    Request next();

    /** True when {@code r} is the expected answer to the request {@link #next} gave last. */
    boolean accept(Response r) throws IOException;
  }

  /** Headers and body of the seed PUT, without Authorization and If-Match. */
  record Seed(List<String[]> headers, ObjectNode body) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Workload workload;
  private final URI url;
  private final String path;
  private final int range;
  private final Path seed;
  private final boolean gzip;
  private final String token;

  /** The options of the same names: {@code --workload}, {@code --url}, {@code --path} and so on. */
  Workloads(Workload workload, URI url, String path, int range, Path seed, boolean gzip, String token) {
    this.workload = workload;
    this.url = url;
    this.path = path;
    this.range = range;
    this.seed = seed;
    this.gzip = gzip;
    this.token = token;
  }

  Seed readSeed() throws IOException {
    List<String[]> headers = new ArrayList<>();
    List<String> lines = Files.readAllLines(seed.resolve("request-headers.txt"), StandardCharsets.UTF_8);
    for (String line : lines.subList(1, lines.size())) { // the first line is "PUT [base]/Appointment/309"
      int colon = line.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String name = line.substring(0, colon).trim();
      if (name.equalsIgnoreCase("Authorization") || name.equalsIgnoreCase("If-Match")
          || (name.equalsIgnoreCase("Accept-Encoding") && !gzip)) {
        continue;
      }
      headers.add(new String[] {name, line.substring(colon + 1).trim()});
    }
    if (token != null) {
      headers.add(new String[] {"Authorization", "Bearer " + token});
    }
    ObjectNode body = (ObjectNode) JSON.readTree(seed.resolve("request-body.json").toFile());
    return new Seed(List.copyOf(headers), body);
  }

  /** Writes {@code Patient/240}, which the seed appointment refers to. */
  void writePatient(Transport t, Seed s) throws IOException {
    put(t, fhirPath("Patient/240"), s.headers(),
        "{\"resourceType\":\"Patient\",\"id\":\"240\",\"name\":[{\"family\":\"Hansen\"}]}"
            .getBytes(StandardCharsets.UTF_8));
  }

  /** The JSON as the seed client sends it (HAPI's pretty printing is Jackson's). */
  private static byte[] pretty(ObjectNode json) throws IOException {
    return JSON.writer(new DefaultPrettyPrinter()).writeValueAsBytes(json);
  }

  private String fhirPath(String relative) {
    String base = url.getRawPath() == null ? "" : url.getRawPath();
    return (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/" + relative;
  }

  private static List<String[]> with(List<String[]> headers, String name, String value) {
    List<String[]> all = new ArrayList<>(headers);
    all.add(new String[] {name, value});
    return all;
  }

  private List<String[]> readHeaders() {
    List<String[]> h = new ArrayList<>();
    h.add(new String[] {"Accept", "application/fhir+json"});
    if (token != null) {
      h.add(new String[] {"Authorization", "Bearer " + token});
    }
    if (gzip) {
      h.add(new String[] {"Accept-Encoding", "gzip"});
    }
    return List.copyOf(h);
  }

  /** The version in an ETag such as {@code W/"3"}. */
  private static long version(Response r) throws IOException {
    String etag = r.etag();
    if (etag == null) {
      throw new IOException("no ETag in a " + r.status() + " response");
    }
    return Long.parseLong(etag.replace("W/", "").replace("\"", "").trim());
  }

  /** Writes {@code path} with a plain PUT (no If-Match) and returns the version written. */
  private static long put(Transport t, String path, List<String[]> headers, byte[] body) throws IOException {
    Response r = t.send(new Request("PUT", path, headers, body));
    if (r.status() != 200 && r.status() != 201) {
      throw new IOException("set-up PUT " + path + " answered " + r.status());
    }
    return version(r);
  }

  /**
   * The edits' counter, shared by the clients and starting from the clock: no content repeats
   * within a run or in the next one (the server remembers outcomes by content, without the id).
   */
  private static final AtomicLong EDITS = new AtomicLong(System.currentTimeMillis() * 1000);

  /**
   * The seed PUT with If-Match, on this client's own appointment: a body whose comment (or
   * contained Location's name) ends in a counter, made from the body's bytes around it; the
   * counter is {@code counter}'s next value each time.
   */
  private static final class UpdateSession implements Session {
    private final Transport t;
    private final String path;
    private final List<String[]> headers;
    private final Counted body;
    private final java.util.function.LongSupplier counter;
    private long version;

    UpdateSession(Transport t, String path, List<String[]> headers, Counted body,
        java.util.function.LongSupplier counter) throws IOException {
      this.t = t;
      this.path = path;
      this.headers = headers;
      this.body = body;
      this.counter = counter;
      this.version = put(t, path, headers, body(counter.getAsLong()));
    }

    private byte[] body(long n) {
      return withCounter(body.body(), body.counterAt(), n);
    }

    @Override
    public Request next() {
      return new Request("PUT", path, with(headers, "If-Match", "\"" + version + "\""), body(counter.getAsLong()));
    }

    @Override
    public boolean accept(Response r) throws IOException {
      if (r.status() == 200) {
        version = version(r);
        return true;
      }
      // learn the current version so that the next request can succeed again
      version = version(t.send(new Request("GET", path, headers, null)));
      return false;
    }
  }

  /** {@code body} with {@code n} inserted at {@code counterAt}. */
  private static byte[] withCounter(byte[] body, int counterAt, long n) {
    byte[] counter = Long.toString(n).getBytes(StandardCharsets.ISO_8859_1);
    byte[] b = new byte[body.length + counter.length];
    System.arraycopy(body, 0, b, 0, counterAt);
    System.arraycopy(counter, 0, b, counterAt, counter.length);
    System.arraycopy(body, counterAt, b, counterAt + counter.length, body.length - counterAt);
    return b;
  }

  /** The body with a counter where the marker was, and where that is ({@link #withCounter}). */
  private record Counted(byte[] body, int counterAt) {}

  /** {@code body} with {@code marker} appended to {@code field} of {@code edited} (a node in it), and then taken out again. */
  private static Counted counted(ObjectNode body, ObjectNode edited, String field) throws IOException {
    String marker = "\u0001edit\u0001"; // JSON escapes it: unique in the encoded body
    edited.put(field, edited.path(field).asText() + " #" + marker);
    byte[] json = pretty(body);
    String encoded = new String(json, StandardCharsets.ISO_8859_1);
    String escaped = JSON.writeValueAsString(marker);
    int at = encoded.indexOf(escaped.substring(1, escaped.length() - 1));
    byte[] withoutMarker = (encoded.substring(0, at) + encoded.substring(at + escaped.length() - 2))
        .getBytes(StandardCharsets.ISO_8859_1);
    return new Counted(withoutMarker, at);
  }

  /** The same request every time, answered with {@code expected}. */
  private record FixedSession(Request request, int expected) implements Session {
    @Override
    public Request next() {
      return request;
    }

    @Override
    public boolean accept(Response r) {
      return r.status() == expected;
    }
  }

  /** POSTs with an identifier never used before and {@code If-None-Exist} naming it: all creates. */
  private static final class ConditionalCreateSession implements Session {
    private final String path;
    private final List<String[]> headers;
    private final ObjectNode body;
    private final String prefix;
    private long n;

    ConditionalCreateSession(String path, List<String[]> headers, ObjectNode body, int client) {
      this.path = path;
      this.headers = headers;
      this.body = body;
      this.prefix = "c" + client + "-" + System.nanoTime() + "-";
    }

    @Override
    public Request next() {
      String value = prefix + n++;
      ObjectNode b = body.deepCopy();
      b.putArray("identifier").addObject().put("system", "urn:bench").put("value", value);
      List<String[]> h = new ArrayList<>(headers);
      h.add(new String[] {"If-None-Exist", "identifier=urn:bench%7C" + value});
      try {
        return new Request("POST", path, h, pretty(b));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    @Override
    public boolean accept(Response r) {
      return r.status() == 201;
    }
  }

  /**
   * Client number {@code client}'s session over {@code t}, set up (its appointment written) where
   * the workload needs it; {@code s} is null when {@code --path} is given.
   */
  Session session(Transport t, int client, Seed s) throws IOException {
    if (workload == Workload.search) {
      String p = fhirPath(path.startsWith("/") ? path.substring(1) : path);
      java.util.SplittableRandom rnd = new java.util.SplittableRandom(client);
      List<String[]> headers = readHeaders();
      return new Session() {
        @Override
        public Request next() {
          return new Request("GET", p.replace("{n}", Integer.toString(rnd.nextInt(range))), headers, null);
        }

        @Override
        public boolean accept(Response r) {
          return r.status() == 200;
        }
      };
    }
    if (workload == Workload.read && path != null) {
      String p = path.startsWith("/") ? path.substring(1) : path;
      return new FixedSession(new Request("GET", fhirPath(p), readHeaders(), null), 200);
    }
    ObjectNode body = s.body().deepCopy();
    switch (workload) {
      case put, edit, room -> {
        String id = "bench-" + client;
        body.put("id", id);
        ObjectNode edited = workload == Workload.room ? (ObjectNode) body.path("contained").path(0) : body;
        Counted c = counted(body, edited, workload == Workload.room ? "name" : "comment");
        java.util.function.LongSupplier counter = EDITS::incrementAndGet;
        if (workload == Workload.put) {
          long[] turn = {0};
          counter = () -> turn[0]++ & 1; // two bodies by turns
        }
        return new UpdateSession(t, fhirPath("Appointment/" + id), s.headers(), c, counter);
      }
      case validate, validateroom -> {
        body.remove("id");
        Counted c = workload == Workload.validate ? counted(body, body, "comment")
            : counted(body, (ObjectNode) body.path("contained").path(0), "name");
        String p = fhirPath("Appointment/$validate");
        return new Session() {
          @Override
          public Request next() {
            return new Request("POST", p, s.headers(), withCounter(c.body(), c.counterAt(), EDITS.incrementAndGet()));
          }

          @Override
          public boolean accept(Response r) {
            return r.status() == 200;
          }
        };
      }
      case read -> {
        String id = "bench-" + client;
        body.put("id", id);
        put(t, fhirPath("Appointment/" + id), s.headers(), pretty(body));
        return new FixedSession(new Request("GET", fhirPath("Appointment/" + id), readHeaders(), null), 200);
      }
      case create -> {
        body.remove("id");
        return new FixedSession(new Request("POST", fhirPath("Appointment"), s.headers(), pretty(body)), 201);
      }
      case ccreate -> {
        body.remove("id");
        return new ConditionalCreateSession(fhirPath("Appointment"), s.headers(), body, client);
      }
      default -> throw new IllegalArgumentException(workload.toString());
    }
  }
}
