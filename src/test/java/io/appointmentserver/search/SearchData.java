package io.appointmentserver.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The resources the search tests query, written once per test run by whichever of them runs
 * first, and the helpers that query them. Every query is narrowed to this run's resources by an
 * identifier system ({@link #SYS}) or a patient of its own.
 */
final class SearchData {
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String BASE = TestServer.base();
  static final String SYS = "urn:search:" + RUN;
  static final String T1 = "http://organization.example.org/fhir/CareTeam/st1-" + RUN;
  static final String T2 = "http://organization.example.org/fhir/CareTeam/st2-" + RUN;
  static final String PA = "spa-" + RUN;
  static final String PB = "spb-" + RUN;
  static final String PR = "spr-" + RUN;

  private static boolean written;

  private SearchData() {}

  static String patient(String id, String family, String given, String birthDate, String gender, Boolean active) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\""
        + id + "\"}],\"name\":[{\"family\":\"" + family + "\"" + (given == null ? "" : ",\"given\":[\"" + given + "\"]")
        + "}]" + (birthDate == null ? "" : ",\"birthDate\":\"" + birthDate + "\"")
        + (gender == null ? "" : ",\"gender\":\"" + gender + "\"") + (active == null ? "" : ",\"active\":" + active) + "}";
  }

  static String appointment(String id, String team, String patient, String status, String start, String end,
      String groupId) {
    return "{\"resourceType\":\"Appointment\",\"id\":\"" + id + "\",\"extension\":["
        + "{\"url\":\"http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-responsible\","
        + "\"valueReference\":{\"reference\":\"" + team + "\"}}"
        + (groupId == null ? "" : ",{\"url\":\"http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-group-id\","
            + "\"valueString\":\"" + groupId + "\"}")
        + "],\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\"" + id + "\"}],"
        + "\"status\":\"" + status + "\",\"start\":\"" + start + "\",\"end\":\"" + end + "\",\"participant\":["
        + "{\"extension\":[{\"url\":\"http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-ext-careteam\","
        + "\"valueReference\":{\"reference\":\"" + team + "\"}}],\"status\":\"accepted\"},"
        + "{\"actor\":{\"reference\":\"Patient/" + patient + "\"},\"status\":\"accepted\"},"
        + "{\"actor\":{\"reference\":\"Practitioner/" + PR + "\"},\"status\":\"needs-action\"}]}";
  }

  /** Patients p1 to p4, PA and PB, practitioner PR and appointments a1 to a3; once per test run. */
  static synchronized void write() {
    if (written) {
      return;
    }
    put("Patient", "p1-" + RUN, patient("p1-" + RUN, "Sørensen", "Åse", "1980-05-17", "female", true));
    put("Patient", "p2-" + RUN, patient("p2-" + RUN, "Sorensen", "Bo", "1980-05", "male", false));
    put("Patient", "p3-" + RUN, patient("p3-" + RUN, "Hansen", "Søren", "1975-12-31", "male", null));
    put("Patient", "p4-" + RUN, patient("p4-" + RUN, "Nielsen-Sørensen", null, "1980-05-18", null, null));
    put("Patient", PA, "{\"resourceType\":\"Patient\",\"id\":\"" + PA + "\"}");
    put("Patient", PB, "{\"resourceType\":\"Patient\",\"id\":\"" + PB + "\"}");
    put("Practitioner", PR, "{\"resourceType\":\"Practitioner\",\"id\":\"" + PR + "\"}");
    put("Appointment", "a1-" + RUN, appointment("a1-" + RUN, T1, PA, "booked", "2026-12-01T09:00:00+01:00", "2026-12-01T09:30:00+01:00", "g-" + RUN));
    put("Appointment", "a2-" + RUN, appointment("a2-" + RUN, T2, PA, "cancelled", "2026-12-02T09:00:00+01:00", "2026-12-02T09:30:00+01:00", null));
    put("Appointment", "a3-" + RUN, appointment("a3-" + RUN, T1, PB, "booked", "2026-12-01T23:30:00+01:00", "2026-12-01T23:45:00+01:00", "g-" + RUN));
    written = true;
  }

  static void put(String type, String id, String json) {
    HttpResponse<String> r = Http.put(BASE + "/" + type + "/" + id, json);
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
  }

  static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** The ids (without the run suffix) a search of this run's patients returns, over all its pages. */
  static Set<String> patients(String query) {
    return ids("Patient?identifier=" + q(SYS + "|") + "&" + query);
  }

  static Set<String> appointments(String query) {
    return ids("Appointment?identifier=" + q(SYS + "|") + "&" + query);
  }

  static Set<String> ids(String pathAndQuery, String... headers) {
    Set<String> out = new TreeSet<>();
    for (JsonNode page : pages(BASE + "/" + pathAndQuery, headers)) {
      if (page.has("entry")) {
        page.get("entry").forEach(e -> out.add(e.get("resource").get("id").asText().replace("-" + RUN, "")));
      }
    }
    return out;
  }

  static List<JsonNode> pages(String url, String... headers) {
    List<JsonNode> out = new ArrayList<>();
    while (url != null) {
      HttpResponse<String> r = Http.get(url, headers);
      assertThat(r.statusCode()).as(url + " -> " + r.body()).isEqualTo(200);
      JsonNode page = Json.parse(r.body());
      assertThat(page.get("type").asText()).isEqualTo("searchset");
      out.add(page);
      url = next(page);
    }
    return out;
  }

  static String next(JsonNode page) {
    for (JsonNode link : page.get("link")) {
      if (link.get("relation").asText().equals("next")) {
        return link.get("url").asText();
      }
    }
    return null;
  }

  /** The ids (without the run suffix) in the order the pages give them. */
  static List<String> order(String pathAndQuery) {
    List<String> out = new ArrayList<>();
    for (JsonNode page : pages(BASE + "/" + pathAndQuery)) {
      if (page.has("entry")) {
        page.get("entry").forEach(e -> out.add(e.get("resource").get("id").asText().replace("-" + RUN, "")));
      }
    }
    return out;
  }

  /** A practitioner's token for care team {@code team}. */
  static String practitioner(String team, List<String> roles) {
    Map<String, String> ctx = new HashMap<>();
    ctx.put("organization_id", "http://organization.example.org/fhir/Organization/1");
    ctx.put("care_team_id", team);
    return "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", roles, ctx,
        "http://organization.example.org/fhir/Practitioner/9", 300);
  }
}
