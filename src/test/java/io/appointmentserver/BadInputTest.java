package io.appointmentserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Bad input gets a clear OperationOutcome with the right status; never a 500, never a write. */
class BadInputTest {
  private final String base = TestServer.base();

  private static void assertOutcome(HttpResponse<String> r, int status, String diagnosticsContains) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    JsonNode oo = Json.parse(r.body());
    assertThat(oo.get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(oo.get("issue").get(0).get("severity").asText()).isEqualTo("error");
    assertThat(oo.get("issue").get(0).get("diagnostics").asText()).containsIgnoringCase(diagnosticsContains);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"resourceType\":\"Patient\", bad",
      "{",
      "[]",
      "null",
      "\"Patient\"",
      "{\"name\":[{\"family\":\"x\"}]}",
      "{\"resourceType\":\"Patient\",\"birthDate\":\"not-a-date\"}",
      "{\"resourceType\":\"Patient\",\"gender\":{\"x\":1}}",
      "{\"resourceType\":\"Patient\",\"unknownElement\":\"kept or refused, never silently lost\"}",
      "{\"resourceType\":\"NoSuchType\"}"
  })
  void malformedJsonIs400(String body) {
    HttpResponse<String> r = Http.post(base + "/Patient", body);
    assertThat(r.statusCode()).as(body + " -> " + r.body()).isEqualTo(400);
    assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
  }

  @Test
  void malformedXmlIs400() {
    HttpResponse<String> r = Http.send("POST", base + "/Patient", "<Patient xmlns=\"http://hl7.org/fhir\"><name>",
        "Content-Type", "application/fhir+xml");
    assertThat(r.statusCode()).isEqualTo(400);
  }

  @Test
  void aUtf8ByteOrderMarkIsAccepted() {
    byte[] json = "\uFEFF{\"resourceType\":\"Patient\",\"id\":\"bom1\"}".getBytes(StandardCharsets.UTF_8);
    assertThat(Http.sendBytes("PUT", base + "/Patient/bom1", json, "Content-Type", "application/fhir+json").statusCode())
        .isIn(200, 201);
    byte[] xml = "\uFEFF<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"bom2\"/></Patient>".getBytes(StandardCharsets.UTF_8);
    assertThat(Http.sendBytes("PUT", base + "/Patient/bom2", xml, "Content-Type", "application/fhir+xml").statusCode())
        .isIn(200, 201);
  }

  @Test
  void emptyBodyIs400() {
    assertThat(Http.post(base + "/Patient", "").statusCode()).isEqualTo(400);
    assertThat(Http.put(base + "/Patient/x1", "").statusCode()).isEqualTo(400);
  }

  @Test
  void bodyIdMustEqualUrlId() {
    assertOutcome(Http.put(base + "/Patient/a1", "{\"resourceType\":\"Patient\",\"id\":\"b1\"}"), 400, "b1");
    assertOutcome(Http.put(base + "/Patient/a1", "{\"resourceType\":\"Patient\"}"), 400, "id");
    assertThat(Http.get(base + "/Patient/a1").statusCode()).isEqualTo(404);
  }

  @Test
  void idsFollowTheFhirIdRule() {
    String tooLong = "a".repeat(65);
    assertOutcome(Http.put(base + "/Patient/" + tooLong, "{\"resourceType\":\"Patient\",\"id\":\"" + tooLong + "\"}"),
        400, "id");
    assertOutcome(Http.put(base + "/Patient/a_b", "{\"resourceType\":\"Patient\",\"id\":\"a_b\"}"), 400, "id");
    assertThat(Http.put(base + "/Patient/" + "a".repeat(64), "{\"resourceType\":\"Patient\",\"id\":\"" + "a".repeat(64) + "\"}")
        .statusCode()).isIn(200, 201);
  }

  @Test
  void unknownResourceTypeIs404() {
    HttpResponse<String> r = Http.get(base + "/Spaceship/1");
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(Http.put(base + "/Spaceship/1", "{\"resourceType\":\"Spaceship\",\"id\":\"1\"}").statusCode()).isEqualTo(404);
  }

  @Test
  void aBodyOfAnotherTypeIs400() {
    HttpResponse<String> r = Http.put(base + "/Patient/t1", "{\"resourceType\":\"Appointment\",\"id\":\"t1\",\"status\":\"booked\",\"start\":\"2026-12-01T09:00:00+01:00\",\"end\":\"2026-12-01T09:30:00+01:00\",\"participant\":[{\"status\":\"accepted\"}]}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(Http.get(base + "/Patient/t1").statusCode()).isEqualTo(404);
    assertThat(Http.post(base + "/Patient", "{\"resourceType\":\"Appointment\",\"status\":\"booked\"}").statusCode())
        .isEqualTo(400);
  }

  @Test
  void aBodyOverTheLimitIs413() {
    String big = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + "x".repeat(11 * 1024 * 1024) + "\"}]}";
    assertOutcome(Http.post(base + "/Patient", big), 413, "limit");
  }

  @Test
  void aGzipBombOverTheLimitIs413() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(buf)) {
      byte[] zeros = new byte[1024 * 1024];
      for (int i = 0; i < 12; i++) {
        gz.write(zeros);
      }
    }
    assertThat(buf.size()).isLessThan(100_000);
    HttpResponse<String> r = Http.sendBytes("POST", base + "/Patient", buf.toByteArray(),
        "Content-Type", "application/fhir+json", "Content-Encoding", "gzip");
    assertOutcome(r, 413, "limit");
  }

  @Test
  void brokenGzipIs400AndUnknownEncodingIs415() {
    assertThat(Http.sendBytes("POST", base + "/Patient", "not gzip".getBytes(StandardCharsets.UTF_8),
        "Content-Type", "application/fhir+json", "Content-Encoding", "gzip").statusCode()).isEqualTo(400);
    assertThat(Http.sendBytes("POST", base + "/Patient", "{}".getBytes(StandardCharsets.UTF_8),
        "Content-Type", "application/fhir+json", "Content-Encoding", "br").statusCode()).isEqualTo(415);
  }

  @Test
  void anUnsupportedContentTypeIs415() {
    assertOutcome(Http.send("POST", base + "/Patient", "{\"resourceType\":\"Patient\"}", "Content-Type", "text/plain"),
        415, "Content-Type");
    assertOutcome(Http.send("POST", base + "/Patient", "{\"resourceType\":\"Patient\"}"), 415, "Content-Type");
  }

  @Test
  void anUnsupportedAcceptIs406() {
    HttpResponse<String> r = Http.get(base + "/Patient/x", "Accept", "image/png");
    assertOutcome(r, 406, "image/png");
    assertThat(Http.get(base + "/metadata?_format=yaml").statusCode()).isEqualTo(406);
    assertThat(Http.get(base + "/metadata", "Accept", "application/fhir+json;q=0, image/png").statusCode()).isEqualTo(406);
    assertThat(Http.get(base + "/metadata", "Accept", "*/*").statusCode()).isEqualTo(200);
  }

  @Test
  void unknownVersionsAndUnknownIdsAre404() {
    assertThat(Http.get(base + "/Patient/nope-1").statusCode()).isEqualTo(404);
    assertThat(Http.get(base + "/Patient/nope-1/_history/abc").statusCode()).isEqualTo(404);
    assertThat(Http.get(base + "/Patient/nope-1/_history").statusCode()).isEqualTo(404);
  }

  @Test
  void badHistoryParametersAre400() {
    assertThat(Http.get(base + "/Patient/_history?_count=-1").statusCode()).isEqualTo(400);
    assertThat(Http.get(base + "/Patient/_history?_since=yesterday").statusCode()).isEqualTo(400);
    assertThat(Http.get(base + "/Patient/_history?_count=abc").statusCode()).isEqualTo(400);
  }
}
