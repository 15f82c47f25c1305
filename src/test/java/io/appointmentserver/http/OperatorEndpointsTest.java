package io.appointmentserver.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.appointmentserver.Logging;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** {@code /metrics} and the access log, over HTTP against the shared server. */
class OperatorEndpointsTest {
  private static final Logger ACCESS = (Logger) LoggerFactory.getLogger("access");
  private static final ListAppender<ILoggingEvent> LINES = new ListAppender<>();
  private static Level before;

  @BeforeAll
  static void captureAccessLog() {
    TestServer.shared();
    LINES.start();
    before = ACCESS.getLevel();
    ACCESS.addAppender(LINES);
    ACCESS.setLevel(Level.INFO);
  }

  @AfterAll
  static void restore() {
    ACCESS.detachAppender(LINES);
    ACCESS.setLevel(before);
  }

  private static String base() {
    return TestServer.base();
  }

  private static String root() {
    return base().substring(0, base().length() - "/fhir".length());
  }

  /** Jetty logs a request once its response is complete, which may be just after the client has it. */
  private static void eventually(BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 200 && !condition.getAsBoolean(); i++) {
      Thread.sleep(50);
    }
  }

  private static double count(String metrics, String interaction, String type, String status) {
    Pattern p = Pattern.compile("^fhir_requests_seconds_count\\{(.*)\\} (\\S+)$", Pattern.MULTILINE);
    Matcher m = p.matcher(metrics);
    while (m.find()) {
      String labels = m.group(1);
      if (labels.contains("interaction=\"" + interaction + "\"") && labels.contains("type=\"" + type + "\"")
          && labels.contains("status=\"" + status + "\"")) {
        return Double.parseDouble(m.group(2));
      }
    }
    return 0;
  }

  private static String metrics() {
    HttpResponse<String> r = Http.get(root() + "/metrics", "Authorization", Http.NO_AUTH);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
    return r.body();
  }

  @Test
  void metricsCountRequestsByInteractionTypeAndStatus() throws Exception {
    String id = "ops-metrics-" + System.nanoTime();
    String patient = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"Hansen\"}]}";
    String first = metrics();
    double updates = count(first, "update", "Patient", "201");
    double reads = count(first, "read", "Patient", "200");
    double missing = count(first, "read", "Patient", "404");
    double unauthorized = count(first, "read", "Patient", "401");

    assertThat(Http.put(base() + "/Patient/" + id, patient).statusCode()).isEqualTo(201);
    assertThat(Http.get(base() + "/Patient/" + id).statusCode()).isEqualTo(200);
    assertThat(Http.get(base() + "/Patient/" + id).statusCode()).isEqualTo(200);
    assertThat(Http.get(base() + "/Patient/" + id + "-none").statusCode()).isEqualTo(404);
    assertThat(Http.get(base() + "/Patient/" + id, "Authorization", Http.NO_AUTH).statusCode()).isEqualTo(401);

    String[] after = new String[1];
    eventually(() -> {
      after[0] = metrics();
      return count(after[0], "read", "Patient", "401") >= unauthorized + 1
          && count(after[0], "read", "Patient", "404") >= missing + 1;
    });
    String m = after[0];
    assertThat(count(m, "update", "Patient", "201")).isEqualTo(updates + 1);
    assertThat(count(m, "read", "Patient", "200")).isGreaterThanOrEqualTo(reads + 2);
    assertThat(count(m, "read", "Patient", "404")).isGreaterThanOrEqualTo(missing + 1);
    assertThat(count(m, "read", "Patient", "401")).isGreaterThanOrEqualTo(unauthorized + 1);
    // latency histogram buckets, database pool, caches, reindexing, JVM
    assertThat(m).containsPattern("fhir_requests_seconds_bucket\\{interaction=\"update\",status=\"201\",type=\"Patient\",le=\"0\\.005\"\\}");
    assertThat(m).contains("hikaricp_connections_active{pool=\"fhir\"}");
    assertThat(m).contains("cache_gets_total{cache=\"read\"");
    assertThat(m).contains("cache_gets_total{cache=\"validation\",result=\"hit\"}");
    assertThat(m).contains("fhir_read_cache_bytes ");
    assertThat(m).contains("fhir_reindex_resources_total ");
    assertThat(m).contains("fhir_reindex_passes ");
    assertThat(m).contains("jvm_memory_used_bytes{area=\"heap\"");
    assertThat(m).contains("jvm_gc_pause_seconds");
  }

  @Test
  void metricsLabelOnlyKnownTypesAndInteractions() throws Exception {
    assertThat(Http.get(base() + "/NoSuchType/1").statusCode()).isGreaterThanOrEqualTo(400);
    assertThat(Http.get(base() + "/Patient/1/_history/1").statusCode()).isIn(200, 404, 410);
    String[] m = new String[1];
    eventually(() -> (m[0] = metrics()).contains("interaction=\"vread\""));
    assertThat(m[0]).doesNotContain("NoSuchType");
    assertThat(m[0]).containsPattern("fhir_requests_seconds_count\\{interaction=\"read\",status=\"\\d+\",type=\"other\"\\}");
    assertThat(m[0]).contains("interaction=\"vread\"");
  }

  @Test
  void oneAccessLogLinePerRequestWithIdentifiersMasked() throws Exception {
    LINES.list.clear();
    HttpResponse<String> search = Http.get(base()
        + "/Patient?identifier=urn:oid:1.2.208.176.1.2%7C0101011234&name=Hansen");
    assertThat(search.statusCode()).isEqualTo(200);
    String trace = search.headers().firstValue("X-B3-TraceId").orElseThrow();
    HttpResponse<String> dashed = Http.get(base() + "/Patient?identifier=010101-1234");
    assertThat(dashed.statusCode()).isEqualTo(200);
    HttpResponse<String> chained = Http.get(base() + "/Appointment?patient.identifier=0101011234&_count=1");
    assertThat(chained.statusCode()).isEqualTo(200);
    HttpResponse<String> health = Http.get(root() + "/health", "Authorization", Http.NO_AUTH);

    eventually(() -> LINES.list.size() >= 4);
    List<String> lines = LINES.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(lines).noneMatch(l -> l.contains("0101011234") || l.contains("010101-1234"));
    String line = lines.stream().filter(l -> l.startsWith(trace + " ")).findFirst().orElseThrow();
    // request id, user id, method, path?query, status, duration, bytes
    assertThat(line).matches(Pattern.quote(trace) + " \\S+ GET /fhir/Patient\\?identifier="
        + Pattern.quote("urn:oid:1.2.208.176.1.2|**********") + "&name=Hansen 200 \\d+\\.\\d{3}ms "
        + search.body().getBytes(java.nio.charset.StandardCharsets.UTF_8).length + "B");
    assertThat(lines).anyMatch(l -> l.contains(" GET /fhir/Patient?identifier=********** 200 "));
    assertThat(lines).anyMatch(l -> l.contains(" GET /fhir/Appointment?patient.identifier=**********&_count=1 200 "));
    assertThat(lines).anyMatch(l -> l.matches("- - GET /health " + health.statusCode() + " .*ms "
        + health.body().length() + "B"));

    PatternLayout layout = new PatternLayout();
    layout.setContext(ACCESS.getLoggerContext());
    layout.setPattern(Logging.ACCESS_PATTERN);
    layout.start();
    ILoggingEvent event = LINES.list.stream().filter(e -> e.getFormattedMessage().startsWith(trace)).findFirst()
        .orElseThrow();
    assertThat(layout.doLayout(event)).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z " + Pattern.quote(trace)
        + " .*\\n");
  }

  @Test
  void theUserIdOfTheTokenIsLogged() throws Exception {
    LINES.list.clear();
    String token = Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Patient.*"), Map.of(),
        "http://example.org/fhir/Practitioner/ops-42", 300);
    HttpResponse<String> r = Http.get(base() + "/Patient?_count=1", "Authorization", "Bearer " + token);
    assertThat(r.statusCode()).isEqualTo(200);
    String trace = r.headers().firstValue("X-B3-TraceId").orElseThrow();
    eventually(() -> LINES.list.stream().anyMatch(e -> e.getFormattedMessage().startsWith(trace)));
    assertThat(LINES.list).map(ILoggingEvent::getFormattedMessage)
        .anyMatch(l -> l.startsWith(trace + " http://example.org/fhir/Practitioner/ops-42 GET /fhir/Patient?_count=1 200 "));
  }
}
