package io.appointmentserver.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.ChildServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.RawHttp;
import io.appointmentserver.support.TestServer;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
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

  @Test
  void aBrokenFormOrQueryEscapeIs4xx() {
    // a form is a search's body only: on a PUT it is no resource format
    assertOutcome(Http.send("PUT", base + "/Appointment/x", "a=b&c=%ZZ",
        "Content-Type", "application/x-www-form-urlencoded"), 415, "form");
    assertOutcome(Http.send("POST", base + "/Patient/_search", "name=%ZZ",
        "Content-Type", "application/x-www-form-urlencoded"), 400, "%ZZ");
    assertOutcome(Http.send("POST", base + "/Patient/_search", "name=%C3%28",
        "Content-Type", "application/x-www-form-urlencoded"), 400, "UTF-8");
    for (String target : new String[] {"/fhir/Patient?name=%ZZ", "/fhir/Patient?name=ab%2", "/fhir/Patient?_format=%ZZ",
        "/fhir/Patient/x/_history?_count=%ZZ", "/fhir/Patient/x?%ZZ"}) {
      RawHttp.Response r = raw("GET", target, "");
      assertOutcome(r, 400, target.substring(target.indexOf('?') + 1));
    }
    assertThat(Http.send("POST", base + "/Patient/_search", "name=%C3%A5",
        "Content-Type", "application/x-www-form-urlencoded").statusCode()).isEqualTo(200);
  }

  @Test
  void anUnknownCharsetIs415() {
    String body = "{\"resourceType\":\"Patient\",\"id\":\"cs1\"}";
    assertOutcome(Http.send("PUT", base + "/Patient/cs1", body, "Content-Type", "application/fhir+json; charset=bogus-42"),
        415, "bogus-42");
    assertOutcome(Http.send("PUT", base + "/Patient/cs1", body, "Content-Type", "application/fhir+json; charset=\"a b\""),
        415, "charset");
    assertThat(Http.get(base + "/Patient/cs1").statusCode()).isEqualTo(404);
    assertThat(Http.send("PUT", base + "/Patient/cs1", body, "Content-Type", "application/fhir+json; charset=utf-8")
        .statusCode()).isEqualTo(201);
  }

  @Test
  void anEmptyPathSegmentIs400WithAnOutcome() throws Exception {
    for (String path : new String[] {"/fhir/Patient//_history", "/fhir//Patient", "/fhir/Patient/x//_history/1",
        "/fhir/Patient/%2e%2e/x", "/fhir/Pat%ZZient"}) {
      RawHttp.Response r = raw("GET", path, "");
      assertThat(r.status()).as(path + " " + r.text()).isEqualTo(400);
      assertThat(r.header("Content-Type")).startsWith("application/fhir+json");
      assertThat(Json.parse(r.text()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    }
  }

  /** A request as given, with the shared server's token. */
  private static RawHttp.Response raw(String method, String target, String head) {
    try {
      return RawHttp.send(method, target, "Authorization: Bearer " + TestServer.systemToken() + "\r\n" + head, null, 60_000);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(method + " " + target, e);
    }
  }

  private static void assertOutcome(RawHttp.Response r, int status, String diagnosticsContains) {
    assertThat(r.status()).as(r.text()).isEqualTo(status);
    JsonNode oo = Json.parse(r.text());
    assertThat(oo.get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(oo.get("issue").get(0).get("diagnostics").asText()).containsIgnoringCase(diagnosticsContains);
  }

  @ParameterizedTest
  @ValueSource(strings = {"Practitioner/a b", "Foo/1", "Practitioner/${x}", "urn:uuid:4f6c1a5e-9f4a-4d0e-8a55-6a0c7e1d2b3c",
      "urn:oid:1.2.3", "Patient?identifier=x", "Practitioner/", "Practitioner/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "http://a b/Patient/1"})
  void anUnresolvableReferenceIsRefused(String reference) {
    String id = "ref" + Integer.toHexString(reference.hashCode() & 0xfffffff);
    String body = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"generalPractitioner\":[{\"reference\":\""
        + reference + "\"}]}";
    assertOutcome(Http.put(base + "/Patient/" + id, body), 400, reference);
    assertThat(Http.get(base + "/Patient/" + id).statusCode()).isEqualTo(404);
    assertOutcome(Http.post(base + "/Patient", body.replace("\"id\":\"" + id + "\",", "")), 400, reference);
  }

  @Test
  void anotherServersReferenceIsKept() {
    HttpResponse<String> r = Http.put(base + "/Patient/ref-other", "{\"resourceType\":\"Patient\",\"id\":\"ref-other\","
        + "\"generalPractitioner\":[{\"reference\":\"http://other.example/fhir/Practitioner/1\"}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  @Test
  void aBundleEntryReferenceToNoEntryIsRefused() {
    String dangling = "urn:uuid:0b0c0d0e-0000-4000-8000-000000000001";
    String patient = "{\"resourceType\":\"Patient\",\"id\":\"ref-batch\",\"generalPractitioner\":[{\"reference\":\""
        + dangling + "\"}]}";
    String entry = "{\"fullUrl\":\"urn:uuid:0b0c0d0e-0000-4000-8000-000000000002\",\"resource\":" + patient
        + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/ref-batch\"}}";
    HttpResponse<String> r = Http.post(base, "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[" + entry + "]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode response = Json.parse(r.body()).get("entry").get(0).get("response");
    assertThat(response.get("status").asText()).startsWith("400");
    assertThat(response.get("outcome").toString()).contains(dangling);
    assertOutcome(Http.post(base, "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + entry + "]}"),
        400, dangling);
    assertThat(Http.get(base + "/Patient/ref-batch").statusCode()).isEqualTo(404);
  }

  @Test
  void aLenientSearchLinksOnlyTheParametersItUsed() {
    HttpResponse<String> r = Http.get(base + "/Patient?family=x&colour=blue&_has:Nope:x:y=1&name.bogus=1"
        + "&_include=Patient:organization&_include=Nope:nope&_list=x", "Prefer", "handling=lenient");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String self = null;
    for (JsonNode link : Json.parse(r.body()).get("link")) {
      if (link.get("relation").asText().equals("self")) {
        self = link.get("url").asText();
      }
    }
    assertThat(self).startsWith(base + "/Patient?");
    assertThat(self.substring(self.indexOf('?') + 1).split("&")).containsExactlyInAnyOrder("family=x", "_include=Patient:organization");
  }

  @Test
  void unknownMethodsAre405AndUnknownPaths404() {
    for (String[] c : new String[][] {{"get", "/fhir/metadata", "405"}, {"FOO", "/fhir/Patient", "405"},
        {"PATCH", "/health", "405"}, {"PATCH", "/elsewhere", "404"}, {"FOO", "/health/x", "404"}, {"DELETE", "/", "404"}}) {
      RawHttp.Response r = raw(c[0], c[1], "");
      assertThat(r.status()).as(c[0] + " " + c[1] + " " + r.text()).isEqualTo(Integer.parseInt(c[2]));
      assertThat(r.text()).contains("OperationOutcome");
    }
  }

  @Test
  void anErrorBeforeALargeBodyIsReadStillReachesTheClient() throws Exception {
    // refused before the body is read (406): the body is read and dropped, the connection not reset under the client
    byte[] body = ("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + "x".repeat(2_000_000) + "\"}]}")
        .getBytes(StandardCharsets.UTF_8);
    RawHttp.Response r = RawHttp.send("POST", "/fhir/Patient", "Authorization: Bearer " + TestServer.systemToken()
        + "\r\nAccept: image/png\r\nContent-Type: application/fhir+json\r\nContent-Length: " + body.length + "\r\n", body, 60_000);
    assertOutcome(r, 406, "image/png");
    r = RawHttp.send("POST", "/fhir/Patient", "Authorization: Bearer x\r\nContent-Type: application/fhir+json\r\n"
        + "Content-Length: " + body.length + "\r\n", body, 60_000);
    assertThat(r.status()).isEqualTo(401);
    // a body where none belongs, answered by HAPI
    for (String method : new String[] {"HEAD", "DELETE", "GET"}) {
      r = RawHttp.send(method, "/fhir/Patient/no-such-1", "Authorization: Bearer " + TestServer.systemToken()
          + "\r\nContent-Type: application/fhir+json\r\nContent-Length: " + body.length + "\r\n", body, 60_000);
      assertThat(r.status()).as(method).isEqualTo(404);
    }
  }

  @Test
  void aJsonPatchPathThatIsNoPointerIs400() {
    assertThat(Http.put(base + "/Patient/jp1", "{\"resourceType\":\"Patient\",\"id\":\"jp1\"}").statusCode()).isEqualTo(201);
    assertOutcome(Http.send("PATCH", base + "/Patient/jp1", "[{\"op\":\"replace\",\"path\":\"x\",\"value\":1}]",
        "Content-Type", "application/json-patch+json"), 400, "JSON Patch");
  }

  @Test
  void aWriteWithoutABodyIs400() {
    for (String[] c : new String[][] {{"POST", "/fhir/Patient"}, {"PUT", "/fhir/Patient/nb1"}, {"POST", "/fhir/Patient/nb1"},
        {"PUT", "/fhir/Patient?identifier=x"}, {"POST", "/fhir"}, {"POST", "/fhir/"},
        {"POST", "/fhir/?_include:iterate=Patient:*&name:below=|&_lastUpdated=%20"}}) {
      assertOutcome(raw(c[0], c[1], "Content-Length: 0\r\n"), 400, "body");
    }
    assertThat(Http.get(base + "/Patient/nb1").statusCode()).isEqualTo(404);
  }

  @Test
  void whatCrashesHapisParserIs400() {
    assertOutcome(Http.put(base + "/Patient/ext1", "{\"resourceType\":\"Patient\",\"id\":\"ext1\",\"extension\":[[[]]]}"),
        400, "Invalid request");
    assertThat(Http.get(base + "/Patient/ext1").statusCode()).isEqualTo(404);
    assertOutcome(Http.get(base + "/metadata/extra/_history/1"), 400, "Invalid request");
  }

  /**
   * Once the JIT has compiled the crashing code, the JVM throws its exception without a stack
   * trace or message: the answer must not depend on reading the stack. A server of its own whose
   * JIT compiles at once (C2 only, after 50 calls), so that this happens within a few hundred requests.
   */
  @Test
  void whatCrashesHapisParserIs400AlsoOnceTheJvmThrowsItWithoutAStack() throws Exception {
    String body = "{\"resourceType\":\"Patient\",\"id\":\"ext2\",\"extension\":[[[]]]}";
    try (ChildServer server = ChildServer.start(256, Map.of(),
        "-XX:-TieredCompilation", "-XX:CompileThreshold=50", "-XX:+OmitStackTraceInFastThrow")) {
      int bare = 0;
      for (int i = 0; i < 5000 && bare < 20; i++) {
        HttpResponse<String> r = Http.put(server.base + "/Patient/ext2", body);
        assertThat(r.statusCode()).as("request %d: %s", i, r.body()).isEqualTo(400);
        if (r.body().contains("(java.lang.NullPointerException)")) {
          bare++; // no message: the JVM's preallocated exception, thrown without a stack
        }
      }
      assertThat(bare).as("crashes answered with the JVM's stackless exception").isEqualTo(20);
      assertThat(Http.get(server.base + "/Patient/ext2").statusCode()).isEqualTo(404);
    }
  }

  @Test
  void aGetThatDeclaresAContentEncodingIsAnswered() {
    assertThat(raw("GET", "/fhir/_history", "Content-Encoding: gzip, identity\r\n").status()).isEqualTo(200);
    assertThat(raw("GET", "/fhir/Patient/_history", "Content-Encoding: gzip\r\n").status()).isEqualTo(200);
  }

  @Test
  void aNulCharacterIsRefused() {
    assertOutcome(raw("GET", "/fhir/Patient?name=a%00b", ""), 400, "NUL");
    assertOutcome(Http.send("POST", base + "/Patient/_search", "_id=a%00", "Content-Type", "application/x-www-form-urlencoded"),
        400, "NUL");
    HttpResponse<String> r = Http.put(base + "/Patient/nul1", "{\"resourceType\":\"Patient\",\"id\":\"nul1\",\"name\":[{\"family\":\"a\\u0000b\"}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(Http.get(base + "/Patient/nul1").statusCode()).isEqualTo(404);
  }

  @Test
  void anIfModifiedSinceThatIsNoDateIsIgnored() {
    assertThat(Http.put(base + "/Patient/ims1", "{\"resourceType\":\"Patient\",\"id\":\"ims1\"}").statusCode()).isEqualTo(201);
    for (String accept : new String[] {"application/fhir+json", "application/fhir+xml"}) {
      for (String path : new String[] {"/Patient/ims1", "/Patient/ims1/_history/1"}) {
        HttpResponse<String> r = Http.get(base + path, "Accept", accept, "If-Modified-Since", "W/");
        assertThat(r.statusCode()).as(accept + " " + path + " " + r.body()).isEqualTo(200);
      }
    }
  }

  @Test
  void anErrorQuotingANulStillEncodesAsXml() {
    HttpResponse<String> r = Http.post(base + "/Patient", "{\"resourceType\":\"Patient\",\"active\":\"a\\u0000b\"}",
        "Accept", "application/fhir+xml");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("<OperationOutcome");
  }

  @Test
  void aValueTooLargeToIndexIs400() {
    // HAPI reads the number as a uri of a million digits: more than an index row holds
    HttpResponse<String> r = Http.put(base + "/Patient/big1",
        "{\"resourceType\":\"Patient\",\"id\":\"big1\",\"identifier\":[{\"system\":1e999999,\"value\":\"v\"}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(Http.get(base + "/Patient/big1").statusCode()).isEqualTo(404);
  }
}
