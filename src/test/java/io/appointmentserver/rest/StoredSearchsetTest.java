package io.appointmentserver.rest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.appointmentserver.support.Gzip;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A searchset wanted as plain JSON is written from the stored JSON of its resources; any other
 * form of the same search ({@code _pretty}, XML, {@code _elements}) is HAPI's Bundle. Parsed,
 * the two are the same Bundle, but for what differs between any two responses (the Bundle's
 * id and {@code meta.lastUpdated}) and the {@code _pretty} in the links.
 */
class StoredSearchsetTest {
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String BASE = TestServer.base();
  static final String TEAM = "http://organization.example.org/fhir/CareTeam/ss-" + RUN;
  static final String PATIENT = "ssp-" + RUN;

  @BeforeAll
  static void data() {
    assertThat(Http.put(BASE + "/Patient/" + PATIENT, "{\"resourceType\":\"Patient\",\"id\":\"" + PATIENT
        + "\",\"name\":[{\"family\":\"Ærøskøbing\",\"given\":[\"Åse \\\"Ø\\\"\"]}]}").statusCode()).isEqualTo(201);
    for (int i = 0; i < 5; i++) {
      String id = "ssa" + i + "-" + RUN;
      String status = i % 2 == 0 ? "booked" : "cancelled";
      HttpResponse<String> r = Http.put(BASE + "/Appointment/" + id,
          "{\"resourceType\":\"Appointment\",\"id\":\"" + id + "\",\"extension\":[{\"url\":"
              + "\"http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-responsible\",\"valueReference\":"
              + "{\"reference\":\"" + TEAM + "\"}}],\"status\":\"" + status + "\",\"start\":\"2026-03-0" + (i + 1)
              + "T10:00:00+01:00\",\"end\":\"2026-03-0" + (i + 1) + "T10:30:00+01:00\",\"participant\":[{\"extension\":[{\"url\":"
              + "\"http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-ext-careteam\",\"valueReference\":"
              + "{\"reference\":\"" + TEAM + "\"}}],\"status\":\"accepted\"},{\"actor\":"
              + "{\"reference\":\"Patient/" + PATIENT + "\"},\"status\":\"accepted\"}]}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }
  }

  @Test
  void theStoredSearchsetIsTheBundleHapiWrites() {
    for (String query : List.of(
        "Appointment?patient=" + PATIENT,
        "Appointment?patient=Patient/" + PATIENT + "&status=booked&_sort=-date",
        "Appointment?patient=" + PATIENT + "&_count=2&_sort=date", // a next link
        "Appointment?patient=" + PATIENT + "&_count=2&_total=none",
        "Appointment?patient=" + PATIENT + "&_include=Appointment:patient",
        "Patient?_id=" + PATIENT + "&_revinclude=Appointment:patient",
        "Appointment?patient=" + PATIENT + "&date=ge2030-01-01", // no entries
        "Appointment?status=booked,cancelled&patient=" + PATIENT + "&_sort=-_lastUpdated,_id")) {
      HttpResponse<String> stored = Http.get(BASE + "/" + query);
      HttpResponse<String> hapi = Http.get(BASE + "/" + query + "&_pretty=true");
      assertThat(stored.statusCode()).as(query).isEqualTo(200);
      assertThat(hapi.statusCode()).as(query).isEqualTo(200);
      assertThat(stored.body()).as(query).doesNotContain("\n");
      assertThat(hapi.body()).as(query).contains("\n");
      assertThat(stored.headers().firstValue("Content-Type")).as(query).isEqualTo(hapi.headers().firstValue("Content-Type"));
      assertThat(stored.headers().firstValue("Last-Modified")).as(query).isPresent();
      assertThat(comparable(stored.body(), false)).as(query).isEqualTo(comparable(hapi.body(), true));
    }
  }

  @Test
  void eachEntryIsTheResourceAsAReadServesIt() {
    JsonNode bundle = Json.parse(Http.get(BASE + "/Appointment?patient=" + PATIENT + "&_include=Appointment:patient").body());
    assertThat(bundle.get("total").asInt()).isEqualTo(5);
    assertThat(bundle.get("entry")).hasSize(6);
    for (JsonNode e : bundle.get("entry")) {
      String read = Http.get(e.get("fullUrl").asText()).body();
      assertThat(e.get("resource")).isEqualTo(Json.parse(read));
    }
    assertThat(bundle.get("entry").get(5).get("search").get("mode").asText()).isEqualTo("include");
    assertThat(bundle.get("entry").get(5).get("resource").get("name").get(0).get("given").get(0).asText())
        .isEqualTo("Åse \"Ø\"");
  }

  @Test
  void gzipAndTheOtherFormsOfASearch() {
    String query = BASE + "/Appointment?patient=" + PATIENT + "&_sort=date";
    HttpResponse<byte[]> gzip = Http.sendForBytes("GET", query, null, "Accept-Encoding", "gzip");
    assertThat(gzip.headers().firstValue("Content-Encoding")).hasValue("gzip");
    assertThat(comparable(Gzip.decode(gzip), false)).isEqualTo(comparable(Http.get(query).body(), false));

    HttpResponse<String> xml = Http.get(query + "&_format=xml");
    assertThat(xml.statusCode()).isEqualTo(200);
    assertThat(xml.body()).startsWith("<Bundle").contains("<total value=\"5\"/>");

    JsonNode elements = Json.parse(Http.get(query + "&_elements=status").body());
    assertThat(elements.get("entry")).hasSize(5);
    assertThat(elements.get("entry").get(0).get("resource").has("participant")).isFalse();
    assertThat(elements.get("entry").get(0).get("resource").get("status").asText()).isEqualTo("booked");

    JsonNode count = Json.parse(Http.get(query + "&_summary=count").body());
    assertThat(count.get("total").asInt()).isEqualTo(5);
    assertThat(count.has("entry")).isFalse();
  }

  /** The Bundle without what differs between any two responses (id, lastUpdated, _pretty in links). */
  private static JsonNode comparable(String body, boolean pretty) {
    ObjectNode b = (ObjectNode) Json.parse(body);
    assertThat(b.get("resourceType").asText()).isEqualTo("Bundle");
    assertThat(b.get("id").asText()).isNotBlank();
    assertThat(b.get("meta").get("lastUpdated").asText()).isNotBlank();
    b.remove("id");
    b.remove("meta");
    for (JsonNode l : b.get("link")) {
      String url = l.get("url").asText();
      ((ObjectNode) l).set("url", new TextNode(pretty ? url.replace("_pretty=true&", "").replace("&_pretty=true", "") : url));
    }
    return b;
  }
}
