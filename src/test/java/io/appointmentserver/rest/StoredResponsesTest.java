package io.appointmentserver.rest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.Gzip;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Responses made from the stored JSON: the body of a write is the version as stored (what a read
 * then serves), other representations still come from HAPI; gzip reads; history says which
 * method made each version.
 */
class StoredResponsesTest {
  private final String base = TestServer.base();

  private static String patient(String id, String family) {
    return "{\"resourceType\":\"Patient\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
        + ",\"name\":[{\"family\":\"" + family + "\"}],\"meta\":{\"versionId\":\"77\"}}";
  }

  private static String newId() {
    return "s-" + UUID.randomUUID().toString().substring(0, 18);
  }

  @Test
  void theWriteResponseIsTheStoredVersionThatAReadServes() {
    String id = newId();
    HttpResponse<String> created = Http.put(base + "/Patient/" + id, patient(id, "Ærø"));
    assertThat(created.statusCode()).isEqualTo(201);
    HttpResponse<String> read = Http.get(base + "/Patient/" + id);
    assertThat(created.body()).isEqualTo(read.body());
    assertThat(created.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(created.headers().firstValue("Content-Type").orElseThrow()).isEqualTo("application/fhir+json;charset=utf-8");
    assertThat(created.headers().firstValue("Last-Modified")).isEqualTo(read.headers().firstValue("Last-Modified"));
    assertThat(created.headers().firstValue("Content-Location")).hasValue(base + "/Patient/" + id + "/_history/1");
    assertThat(created.headers().firstValue("Location")).isEmpty(); // as HAPI: an update that creates has none

    HttpResponse<String> updated = Http.put(base + "/Patient/" + id, patient(id, "Søndergård"), "If-Match", "W/\"1\"");
    assertThat(updated.statusCode()).isEqualTo(200);
    assertThat(updated.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertThat(updated.body()).isEqualTo(Http.get(base + "/Patient/" + id).body())
        .isEqualTo(Http.get(base + "/Patient/" + id + "/_history/2").body());
    assertThat(Json.parse(updated.body()).get("meta").get("versionId").asText()).isEqualTo("2");

    HttpResponse<String> posted = Http.post(base + "/Patient", patient(null, "Ny"));
    assertThat(posted.statusCode()).isEqualTo(201);
    String newId = Json.parse(posted.body()).get("id").asText();
    assertThat(posted.headers().firstValue("Location")).hasValue(base + "/Patient/" + newId + "/_history/1");
    assertThat(posted.body()).isEqualTo(Http.get(base + "/Patient/" + newId).body());
  }

  @Test
  void otherRepresentationsOfAWriteStillComeFromHapi() {
    String id = newId();
    HttpResponse<String> xml = Http.put(base + "/Patient/" + id, patient(id, "X"), "Accept", "application/fhir+xml");
    assertThat(xml.statusCode()).isEqualTo(201);
    assertThat(xml.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+xml");
    assertThat(xml.body()).startsWith("<Patient").contains("<family value=\"X\"/>");

    HttpResponse<String> legacy = Http.put(base + "/Patient/" + id, patient(id, "L"), "Accept", "application/json+fhir");
    assertThat(legacy.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/json+fhir");
    assertThat(Json.parse(legacy.body()).get("name").get(0).get("family").asText()).isEqualTo("L");

    HttpResponse<String> pretty = Http.put(base + "/Patient/" + id + "?_pretty=true", patient(id, "P"));
    assertThat(pretty.statusCode()).isEqualTo(200);
    assertThat(pretty.body()).contains("\n");
    assertThat(Json.parse(pretty.body())).isEqualTo(Json.parse(Http.get(base + "/Patient/" + id).body()));

    HttpResponse<String> outcome = Http.put(base + "/Patient/" + id, patient(id, "O"), "Prefer", "return=OperationOutcome");
    assertThat(Json.parse(outcome.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");

    HttpResponse<String> minimal = Http.put(base + "/Patient/" + id, patient(id, "M"), "Prefer", "return=minimal");
    assertThat(minimal.statusCode()).isEqualTo(200);
    assertThat(minimal.body()).isEmpty();
    assertThat(minimal.headers().firstValue("ETag")).hasValue("W/\"5\"");

    HttpResponse<byte[]> gzip = Http.sendForBytes("PUT", base + "/Patient/" + id,
        patient(id, "G".repeat(400)).getBytes(StandardCharsets.UTF_8),
        "Content-Type", "application/fhir+json", "Accept-Encoding", "gzip");
    assertThat(gzip.headers().firstValue("Content-Encoding")).hasValue("gzip");
    assertThat(Gzip.decode(gzip)).isEqualTo(Http.get(base + "/Patient/" + id).body());
  }

  @Test
  void gzipReadsDecodeToThePlainReadAndFollowNewVersions() {
    String id = newId();
    Http.put(base + "/Patient/" + id, patient(id, "Første".repeat(80)));
    String plain = Http.get(base + "/Patient/" + id).body();
    for (int i = 0; i < 2; i++) { // the second is compressed once already
      HttpResponse<byte[]> gz = Http.sendForBytes("GET", base + "/Patient/" + id, null, "Accept-Encoding", "gzip");
      assertThat(gz.statusCode()).isEqualTo(200);
      assertThat(gz.headers().firstValue("Content-Encoding")).hasValue("gzip");
      assertThat(gz.headers().firstValue("Content-Length")).hasValue(Integer.toString(gz.body().length));
      assertThat(Gzip.decode(gz)).isEqualTo(plain);
    }
    Http.put(base + "/Patient/" + id, patient(id, "Anden".repeat(80)));
    HttpResponse<byte[]> after = Http.sendForBytes("GET", base + "/Patient/" + id, null, "Accept-Encoding", "gzip");
    assertThat(after.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertThat(Gzip.decode(after)).isEqualTo(Http.get(base + "/Patient/" + id).body()).contains("AndenAnden");
    HttpResponse<byte[]> v1 = Http.sendForBytes("GET", base + "/Patient/" + id + "/_history/1", null,
        "Accept-Encoding", "gzip");
    assertThat(Gzip.decode(v1)).isEqualTo(plain);
  }

  @Test
  void historySaysWhichMethodMadeEachVersion() {
    String id = newId();
    Http.put(base + "/Patient/" + id, patient(id, "A")); // update as create
    Http.put(base + "/Patient/" + id, patient(id, "B"));
    Http.send("DELETE", base + "/Patient/" + id, null);
    Http.put(base + "/Patient/" + id, patient(id, "C")); // re-created
    JsonNode entries = Json.parse(Http.get(base + "/Patient/" + id + "/_history").body()).get("entry");
    assertThat(entries).hasSize(4);
    for (int i = 0; i < 4; i++) {
      JsonNode request = entries.get(i).get("request");
      assertThat(request.get("method").asText()).isEqualTo(i == 1 ? "DELETE" : "PUT");
      assertThat(request.get("url").asText()).isEqualTo("Patient/" + id);
    }

    String created = Json.parse(Http.post(base + "/Patient", patient(null, "P")).body()).get("id").asText();
    JsonNode posted = Json.parse(Http.get(base + "/Patient/" + created + "/_history").body()).get("entry").get(0);
    assertThat(posted.get("request").get("method").asText()).isEqualTo("POST");
    assertThat(posted.get("request").get("url").asText()).isEqualTo("Patient");
  }
}
