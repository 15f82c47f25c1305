package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The {@code X-Provenance} header: its Provenance is stored with the write, in its transaction. */
class ProvenanceHeaderTest {
  static final String BASE = TestServer.base();
  static final String PROVENANCE = "{\"resourceType\":\"Provenance\",\"agent\":[{\"whoUri\":\"urn:oid:1.2.3\"}],"
      + "\"reason\":[{\"display\":\"moved by the patient\"}]}";

  static String basic(String id) {
    return "{\"resourceType\":\"Basic\",\"id\":\"" + id + "\",\"code\":{\"text\":\"provenanced\"}}";
  }

  static String newId() {
    return "prov-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  void theProvenanceIsStoredWithItsTargetTheVersionWritten() {
    String id = newId();
    HttpResponse<String> r = Http.put(BASE + "/Basic/" + id, basic(id), "X-Provenance", PROVENANCE);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    JsonNode found = Json.parse(Http.get(BASE + "/Provenance?target=Basic/" + id).body());
    assertThat(found.get("total").asInt()).as(found.toString()).isEqualTo(1);
    JsonNode p = found.get("entry").get(0).get("resource");
    assertThat(p.get("target").get(0).get("reference").asText()).isEqualTo("Basic/" + id + "/_history/1");
    assertThat(p.has("recorded")).isTrue();
    assertThat(p.get("reason").get(0).get("display").asText()).isEqualTo("moved by the patient");

    // an update's Provenance names the new version
    assertThat(Http.put(BASE + "/Basic/" + id, basic(id), "X-Provenance", PROVENANCE).statusCode()).isEqualTo(200);
    assertThat(Json.parse(Http.get(BASE + "/Provenance?target=Basic/" + id).body()).get("total").asInt()).isEqualTo(2);
  }

  @Test
  void aBadHeaderIsA400AndNothingIsWritten() {
    for (String header : List.of("{\"resourceType\":\"Basic\"}", "not json", "{\"resourceType\":\"Provenance\",\"x\":")) {
      String id = newId();
      HttpResponse<String> r = Http.put(BASE + "/Basic/" + id, basic(id), "X-Provenance", header);
      assertThat(r.statusCode()).as(header + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).contains("X-Provenance");
      assertThat(Http.get(BASE + "/Basic/" + id).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void theWriterNeedsProvenanceCreate() {
    String id = newId();
    String token = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Basic.*"), Map.of(), null, 300);
    HttpResponse<String> r = Http.put(BASE + "/Basic/" + id, basic(id), "X-Provenance", PROVENANCE,
        "Authorization", token);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    assertThat(Http.get(BASE + "/Basic/" + id).statusCode()).isEqualTo(404);
  }

  @Test
  void aProvenanceRefusedAfterTheWriteRollsTheWriteBack() {
    String id = newId();
    // the Provenance refers to a practitioner this server does not have: refused in the transaction
    String refused = "{\"resourceType\":\"Provenance\",\"agent\":[{\"whoReference\":{\"reference\":\"Practitioner/"
        + newId() + "\"}}]}";
    HttpResponse<String> r = Http.put(BASE + "/Basic/" + id, basic(id), "X-Provenance", refused);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(Http.get(BASE + "/Basic/" + id).statusCode()).isEqualTo(404);
  }
}
