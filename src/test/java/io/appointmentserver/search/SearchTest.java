package io.appointmentserver.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.AuditTrail;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Type search over HTTP, on resources the test writes, each expectation worked out by hand from
 * the DSTU3 search rules (search.html): which of the resources a query must return. Every query
 * is narrowed to this run's resources by an identifier system (or a patient) of its own.
 */
class SearchTest {
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String BASE = TestServer.base();
  static final String SYS = "urn:search:" + RUN;
  static final String T1 = "http://organization.example.org/fhir/CareTeam/st1-" + RUN;
  static final String T2 = "http://organization.example.org/fhir/CareTeam/st2-" + RUN;
  static final String PA = "spa-" + RUN;
  static final String PB = "spb-" + RUN;
  static final String PR = "spr-" + RUN;

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

  @BeforeAll
  static void data() {
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

  // ---------------------------------------------------------------- string

  @Test
  void stringMatchesTheStartIgnoringCaseAndAccents() {
    // as HAPI compares: accents (marks) go, letters of their own such as ø stay
    assertThat(patients("family=sorensen")).containsExactly("p2");
    assertThat(patients("family=S%C3%98R")).containsExactly("p1");
    assertThat(patients("given=ASE")).containsExactly("p1");
    assertThat(patients("given=%C3%A5s")).containsExactly("p1");
    assertThat(patients("family=sen")).isEmpty();
    // name covers family and given
    assertThat(patients("name=s%C3%B8ren")).containsExactly("p1", "p3");
  }

  @Test
  void stringExactAndContains() {
    assertThat(patients("family:exact=S%C3%B8rensen")).containsExactly("p1");
    assertThat(patients("family:exact=s%C3%B8rensen")).isEmpty();
    assertThat(patients("family:contains=SEN")).containsExactly("p1", "p2", "p3", "p4");
    assertThat(patients("family:contains=n-s")).containsExactly("p4");
  }

  @Test
  void commasAreOrAndRepeatsAreAnd() {
    assertThat(patients("family=han,nielsen")).containsExactly("p3", "p4");
    assertThat(patients("family=s&given=bo")).containsExactly("p2");
    assertThat(patients("family=s&family=sorensen")).containsExactly("p2");
    assertThat(patients("family=hansen&family=sorensen")).isEmpty();
  }

  // ---------------------------------------------------------------- token

  @Test
  void tokenCodeSystemAndNot() {
    assertThat(patients("gender=male")).containsExactly("p2", "p3");
    assertThat(patients("gender=" + q("http://hl7.org/fhir/administrative-gender|female"))).containsExactly("p1");
    assertThat(patients("gender=" + q("http://hl7.org/fhir/administrative-gender|"))).containsExactly("p1", "p2", "p3");
    // |code is a code without a system: gender always has one
    assertThat(patients("gender=" + q("|male"))).isEmpty();
    assertThat(patients("gender=" + q("urn:other|male"))).isEmpty();
    // :not also returns the resources without any value
    assertThat(patients("gender:not=male")).containsExactly("p1", "p4");
    assertThat(patients("identifier=" + q(SYS + "|p2-" + RUN))).containsExactly("p2");
    assertThat(patients("active=true")).containsExactly("p1");
    assertThat(patients("active=false")).containsExactly("p2");
  }

  @Test
  void missing() {
    assertThat(patients("active:missing=true")).containsExactly("p3", "p4");
    assertThat(patients("active:missing=false")).containsExactly("p1", "p2");
    assertThat(patients("gender:missing=true")).containsExactly("p4");
    assertThat(patients("given:missing=true")).containsExactly("p4");
  }

  @Test
  void idParameter() {
    assertThat(patients("_id=p1-" + RUN + ",p3-" + RUN)).containsExactly("p1", "p3");
    assertThat(patients("_id:not=p1-" + RUN)).containsExactly("p2", "p3", "p4");
  }

  // ---------------------------------------------------------------- date

  @Test
  void datePrefixesOverThePrecisionOfTheValues() {
    // p1 1980-05-17, p2 1980-05 (all of May), p3 1975-12-31, p4 1980-05-18
    assertThat(patients("birthdate=1980-05-17")).containsExactly("p1");
    assertThat(patients("birthdate=eq1980-05")).containsExactly("p1", "p2", "p4");
    assertThat(patients("birthdate=1980")).containsExactly("p1", "p2", "p4");
    assertThat(patients("birthdate=ne1980-05")).containsExactly("p3");
    assertThat(patients("birthdate=lt1980")).containsExactly("p3");
    // gt: the range after the value's overlaps the resource's; ge also: the value's range contains it
    assertThat(patients("birthdate=gt1980-05-17")).containsExactly("p2", "p4");
    assertThat(patients("birthdate=ge1980-05-18")).containsExactly("p2", "p4");
    assertThat(patients("birthdate=le1980-05-17")).containsExactly("p1", "p2", "p3");
    assertThat(patients("birthdate=lt1980-05-17")).containsExactly("p2", "p3");
    // sa: starts after the value ends; eb: ends before the value starts
    assertThat(patients("birthdate=sa1980-05-17")).containsExactly("p4");
    assertThat(patients("birthdate=eb1980-05-18")).containsExactly("p1", "p3");
    assertThat(patients("birthdate=ge1980-01-01&birthdate=lt1980-05-18")).containsExactly("p1", "p2");
    // ap: within a tenth of the distance from now (which decades ago is years)
    assertThat(patients("birthdate=ap1980-05-17")).contains("p1", "p2", "p4");
    assertThat(patients("birthdate=ap1900")).isEmpty();
  }

  @Test
  void dateTimesCompareAsInstantsAndDaysInTheServersZone() {
    // a3 starts 2026-12-01T23:30+01:00, which is 22:30 UTC: still 1 December in Copenhagen
    assertThat(appointments("date=2026-12-01")).containsExactly("a1", "a3");
    assertThat(appointments("date=ge2026-12-02")).containsExactly("a2");
    assertThat(appointments("date=" + q("2026-12-01T09:00:00+01:00"))).containsExactly("a1");
    assertThat(appointments("date=" + q("2026-12-01T08:00:00Z"))).containsExactly("a1");
    assertThat(appointments("date=" + q("gt2026-12-01T09:00:00+01:00"))).containsExactly("a2", "a3");
    assertThat(appointments("date=2026-11")).isEmpty();
  }

  @Test
  void theBundleIsStampedInTheServersZoneLikeItsResources() {
    JsonNode page = pages(BASE + "/Patient?identifier=" + q(SYS + "|")).get(0);
    String bundle = page.get("meta").get("lastUpdated").asText();
    String resource = page.get("entry").get(0).get("resource").get("meta").get("lastUpdated").asText();
    // both end in the offset of FHIR_TIMEZONE (the seed's "+01:00" in Copenhagen winter time)
    assertThat(bundle.substring(bundle.length() - 6)).isEqualTo(resource.substring(resource.length() - 6));
  }

  @Test
  void lastUpdated() {
    assertThat(patients("_lastUpdated=gt2000-01-01")).containsExactly("p1", "p2", "p3", "p4");
    assertThat(patients("_lastUpdated=lt2000-01-01")).isEmpty();
  }

  // ---------------------------------------------------------------- reference and eHealth

  @Test
  void referenceByIdTypeAndIdAbsoluteUrlAndTypeModifier() {
    assertThat(appointments("patient=" + PA)).containsExactly("a1", "a2");
    assertThat(appointments("patient=Patient/" + PA)).containsExactly("a1", "a2");
    assertThat(appointments("patient=" + q(BASE + "/Patient/" + PA))).containsExactly("a1", "a2");
    assertThat(appointments("actor:Patient=" + PB)).containsExactly("a3");
    assertThat(appointments("actor=Practitioner/" + PR)).containsExactly("a1", "a2", "a3");
    // the practitioner parameter only looks at practitioners
    assertThat(appointments("practitioner=" + PA)).isEmpty();
    assertThat(appointments("patient=" + PA + "," + PB)).containsExactly("a1", "a2", "a3");
  }

  @Test
  void ehealthAppointmentParameters() {
    assertThat(appointments("patient=" + PA + "&date=ge2026-12-01&status=booked")).containsExactly("a1");
    assertThat(appointments("responsible=" + q(T1))).containsExactly("a1", "a3");
    assertThat(appointments("careteamParticipant=" + q(T2))).containsExactly("a2");
    assertThat(appointments("appointmentGroupId=g-" + RUN)).containsExactly("a1", "a3");
    assertThat(appointments("part-status=needs-action&status=cancelled")).containsExactly("a2");
    assertThat(appointments("status:not=booked")).containsExactly("a2");
  }

  @Test
  void numberQuantityAndUri() {
    put("RiskAssessment", "ra-" + RUN, "{\"resourceType\":\"RiskAssessment\",\"id\":\"ra-" + RUN + "\",\"status\":\"final\","
        + "\"identifier\":{\"system\":\"" + SYS + "\",\"value\":\"ra\"},\"prediction\":[{\"probabilityDecimal\":0.25}]}");
    // 0.25 is within [0.245, 0.255) of 0.25; 0.3 means [0.25, 0.35)
    assertThat(ids("RiskAssessment?identifier=" + q(SYS + "|") + "&probability=0.25")).containsExactly("ra");
    assertThat(ids("RiskAssessment?identifier=" + q(SYS + "|") + "&probability=0.3")).containsExactly("ra");
    assertThat(ids("RiskAssessment?identifier=" + q(SYS + "|") + "&probability=0.2")).isEmpty();
    assertThat(ids("RiskAssessment?identifier=" + q(SYS + "|") + "&probability=gt0.2")).containsExactly("ra");
    assertThat(ids("RiskAssessment?identifier=" + q(SYS + "|") + "&probability=lt0.25")).isEmpty();

    put("Observation", "ob-" + RUN, "{\"resourceType\":\"Observation\",\"id\":\"ob-" + RUN + "\",\"status\":\"final\","
        + "\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\"ob\"}],\"code\":{\"text\":\"weight\"},"
        + "\"valueQuantity\":{\"value\":72.5,\"unit\":\"kg\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"kg\"}}");
    String obs = "Observation?identifier=" + q(SYS + "|") + "&value-quantity=";
    assertThat(ids(obs + q("72.5|http://unitsofmeasure.org|kg"))).containsExactly("ob");
    assertThat(ids(obs + q("72.5||kg"))).containsExactly("ob");
    assertThat(ids(obs + q("72.5||g"))).isEmpty();
    assertThat(ids(obs + "72")).isEmpty();
    assertThat(ids(obs + "ge72.5")).containsExactly("ob");
    assertThat(ids(obs + "gt72.5")).isEmpty();

    String url = "http://example.org/fhir/Questionnaire/" + RUN + "/intake";
    put("Questionnaire", "qu-" + RUN, "{\"resourceType\":\"Questionnaire\",\"id\":\"qu-" + RUN + "\",\"status\":\"draft\","
        + "\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\"qu\"}],\"url\":\"" + url + "\"}");
    String qs = "Questionnaire?identifier=" + q(SYS + "|") + "&url";
    assertThat(ids(qs + "=" + q(url))).containsExactly("qu");
    assertThat(ids(qs + "=" + q("http://example.org/fhir/Questionnaire/" + RUN))).isEmpty();
    assertThat(ids(qs + ":below=" + q("http://example.org/fhir/Questionnaire/" + RUN))).containsExactly("qu");
    assertThat(ids(qs + ":above=" + q(url + "/v2"))).containsExactly("qu");
    assertThat(ids(qs + ":above=" + q("http://example.org/fhir/"))).isEmpty();
  }

  @Test
  void deletingARemovesItsIndexRows() throws Exception {
    String id = "del-" + RUN;
    put("Patient", id, patient(id, "Deleted", null, "2001-01-01", "other", true).replace(SYS, SYS + "-del"));
    assertThat(indexRows("Patient", id)).isGreaterThan(0);
    assertThat(Http.send("DELETE", BASE + "/Patient/" + id, null).statusCode()).isEqualTo(200);
    assertThat(indexRows("Patient", id)).isZero();
    assertThat(ids("Patient?identifier=" + q(SYS + "-del|"))).isEmpty();
  }

  @Test
  void anUpdateThatChangesNoSearchableValueLeavesTheIndexRowsAloneAndAnyOtherReplacesThem() throws Exception {
    String id = "same-" + RUN;
    String sys = SYS + "-same";
    put("Patient", id, patient(id, "Samesen", null, "1990-01-01", "female", true).replace(SYS, sys));
    List<String> first = indexRowVersions("Patient", id);
    assertThat(first).isNotEmpty();
    // the same content again (a new version): the rows written by the first version stay
    put("Patient", id, patient(id, "Samesen", null, "1990-01-01", "female", true).replace(SYS, sys));
    assertThat(indexRowVersions("Patient", id)).isEqualTo(first);
    assertThat(ids("Patient?identifier=" + q(sys + "|") + "&family=samesen")).containsExactly("same");
    // a searchable value changed: the rows are replaced
    put("Patient", id, patient(id, "Othersen", null, "1990-01-01", "female", true).replace(SYS, sys));
    assertThat(indexRowVersions("Patient", id)).doesNotContainAnyElementsOf(first);
    assertThat(ids("Patient?identifier=" + q(sys + "|") + "&family=samesen")).isEmpty();
    assertThat(ids("Patient?identifier=" + q(sys + "|") + "&family=othersen")).containsExactly("same");
    // deleted (no rows), then written again with the content of the last version: indexed again
    assertThat(Http.send("DELETE", BASE + "/Patient/" + id, null).statusCode()).isEqualTo(200);
    assertThat(indexRows("Patient", id)).isZero();
    put("Patient", id, patient(id, "Othersen", null, "1990-01-01", "female", true).replace(SYS, sys));
    assertThat(indexRows("Patient", id)).isEqualTo(first.size());
    assertThat(ids("Patient?identifier=" + q(sys + "|") + "&family=othersen")).containsExactly("same");
  }

  /** The transaction ids that wrote each index row of {@code type/id}: they change when a row is written again. */
  static List<String> indexRowVersions(String type, String id) throws java.sql.SQLException {
    List<String> out = new ArrayList<>();
    try (java.sql.Connection c = TestServer.postgres().getPostgresDatabase().getConnection()) {
      for (String table : List.of("search_string", "search_token", "search_reference", "search_date", "search_number",
          "search_quantity", "search_uri")) {
        try (java.sql.PreparedStatement ps = c.prepareStatement(
            "SELECT xmin::text FROM " + table + " WHERE res_type = ? AND res_id = ?")) {
          ps.setString(1, type);
          ps.setString(2, id);
          try (java.sql.ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(table + "@" + rs.getString(1));
            }
          }
        }
      }
    }
    java.util.Collections.sort(out);
    return out;
  }

  static int indexRows(String type, String id) throws java.sql.SQLException {
    return indexRowVersions(type, id).size();
  }

  /** A resource stored before the search index existed (written straight into the tables) is indexed on start-up. */
  @Test
  void resourcesStoredBeforeTheIndexAreIndexedOnStartUp() throws Exception {
    String id = "old-" + RUN;
    String json = patient(id, "Oldtimer", null, "1950-01-01", null, null).replace("{\"resourceType\":\"Patient\",",
        "{\"resourceType\":\"Patient\",\"meta\":{\"versionId\":\"1\",\"lastUpdated\":\"2019-01-01T00:00:00.000+00:00\"},")
        .replace(SYS, SYS + "-old");
    try (java.sql.Connection c = TestServer.postgres().getPostgresDatabase().getConnection()) {
      for (String table : List.of("resource", "resource_history")) {
        try (java.sql.PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
            + " (res_type, res_id, version, last_updated, deleted, body) VALUES ('Patient', ?, 1, '2019-01-01T00:00:00Z', false, ?)")) {
          ps.setString(1, id);
          ps.setString(2, json);
          ps.executeUpdate();
        }
      }
    }
    String old = "Patient?identifier=" + q(SYS + "-old|");
    assertThat(ids(old + "&family=oldtimer")).isEmpty();
    try (AppointmentServer restarted = TestServer.another(c -> c)) {
      assertThat(restarted.reindexed().get(120, java.util.concurrent.TimeUnit.SECONDS)).isGreaterThanOrEqualTo(1);
      assertThat(ids(old + "&family=oldtimer")).containsExactly("old");
      assertThat(ids(old + "&birthdate=1950")).containsExactly("old");
    }
  }

  // ---------------------------------------------------------------- paging, sorting, totals

  @Test
  void sortAscendingAndDescending() {
    List<String> asc = order("Patient?identifier=" + q(SYS + "|") + "&birthdate:missing=false&_sort=birthdate&_count=2");
    assertThat(asc).containsExactly("p3", "p2", "p1", "p4");
    List<String> desc = order("Patient?identifier=" + q(SYS + "|") + "&birthdate:missing=false&_sort=-birthdate,_id&_count=3");
    assertThat(desc).containsExactly("p2", "p4", "p1", "p3");
    assertThat(order("Patient?identifier=" + q(SYS + "|") + "&_sort=-_id&_count=1")).containsExactly("p4", "p3", "p2", "p1");
  }

  static List<String> order(String pathAndQuery) {
    List<String> out = new ArrayList<>();
    for (JsonNode page : pages(BASE + "/" + pathAndQuery)) {
      if (page.has("entry")) {
        page.get("entry").forEach(e -> out.add(e.get("resource").get("id").asText().replace("-" + RUN, "")));
      }
    }
    return out;
  }

  @Test
  void totalCountAndDefaultPageSize() {
    String sys = "urn:paging:" + RUN;
    for (int i = 0; i < 25; i++) {
      String id = "pg" + i + "-" + RUN;
      put("Patient", id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"" + sys
          + "\",\"value\":\"" + i + "\"}]}");
    }
    JsonNode first = Json.parse(Http.get(BASE + "/Patient?identifier=" + q(sys + "|")).body());
    assertThat(first.get("total").asInt()).isEqualTo(25);
    assertThat(first.get("entry")).hasSize(20);
    assertThat(next(first)).isNotNull();
    JsonNode none = Json.parse(Http.get(BASE + "/Patient?identifier=" + q(sys + "|") + "&_count=0").body());
    assertThat(none.get("total").asInt()).isEqualTo(25);
    assertThat(none.has("entry")).isFalse();
    assertThat(Json.parse(Http.get(BASE + "/Patient?identifier=" + q(sys + "|") + "&_total=none").body()).has("total"))
        .isFalse();
    // an estimate is exact up to 1,000 matches; accurate always
    for (String total : List.of("estimate", "accurate")) {
      JsonNode page = Json.parse(Http.get(BASE + "/Patient?identifier=" + q(sys + "|") + "&_count=2&_total=" + total).body());
      assertThat(page.get("total").asInt()).as(total).isEqualTo(25);
      assertThat(Json.parse(Http.get(next(page)).body()).get("total").asInt()).as(total).isEqualTo(25);
    }
  }

  @Test
  void pagesStayCorrectWhileOthersWrite() {
    String sys = "urn:paging-writes:" + RUN;
    for (int i = 10; i < 20; i++) {
      put("Patient", "w" + i + "-" + RUN, "{\"resourceType\":\"Patient\",\"id\":\"w" + i + "-" + RUN
          + "\",\"identifier\":[{\"system\":\"" + sys + "\",\"value\":\"" + i + "\"}]}");
    }
    String url = BASE + "/Patient?identifier=" + q(sys + "|") + "&_count=3";
    List<String> seen = new ArrayList<>();
    int page = 0;
    while (url != null) {
      JsonNode p = Json.parse(Http.get(url).body());
      p.get("entry").forEach(e -> seen.add(e.get("resource").get("id").asText().replace("-" + RUN, "")));
      if (page++ == 0) {
        // meanwhile: one not yet seen is deleted, one seen is updated, one is added before and one after the cursor
        assertThat(Http.send("DELETE", BASE + "/Patient/w18-" + RUN, null).statusCode()).isEqualTo(200);
        put("Patient", "w10-" + RUN, "{\"resourceType\":\"Patient\",\"id\":\"w10-" + RUN + "\",\"active\":true,"
            + "\"identifier\":[{\"system\":\"" + sys + "\",\"value\":\"10\"}]}");
        put("Patient", "w00-" + RUN, "{\"resourceType\":\"Patient\",\"id\":\"w00-" + RUN
            + "\",\"identifier\":[{\"system\":\"" + sys + "\",\"value\":\"0\"}]}");
        put("Patient", "w99-" + RUN, "{\"resourceType\":\"Patient\",\"id\":\"w99-" + RUN
            + "\",\"identifier\":[{\"system\":\"" + sys + "\",\"value\":\"99\"}]}");
      }
      url = next(p);
    }
    // each once, in id order; the deleted one gone, the one added behind the cursor not shown, the one ahead shown
    assertThat(seen).containsExactly("w10", "w11", "w12", "w13", "w14", "w15", "w16", "w17", "w19", "w99");
  }

  // ---------------------------------------------------------------- errors

  @Test
  void unknownParameterIs400NamingItUnlessLenient() {
    HttpResponse<String> r = Http.get(BASE + "/Patient?identifier=" + q(SYS + "|") + "&colour=blue");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(r.body()).contains("colour");
    assertThat(ids("Patient?identifier=" + q(SYS + "|") + "&colour=blue", "Prefer", "handling=lenient"))
        .containsExactly("p1", "p2", "p3", "p4");
  }

  @Test
  void badValuesAre400() {
    for (String query : List.of("birthdate=yesterday", "birthdate=ge1980-13", "active:missing=maybe", "gender:exact=male",
        "_count=many", "_count=-1", "_sort=colour", "_cursor=nonsense", "general-practitioner:Observation=1",
        "organization.colour=x", "organization.name.family=x", "_include=Patient:colour", "_revinclude=*",
        "_include:deep=Patient:organization", "_has:Observation:subject", "_has:Observation:colour:code=x")) {
      HttpResponse<String> r = Http.get(BASE + "/Patient?" + query.replace("[", "%5B"));
      assertThat(r.statusCode()).as(query + " -> " + r.body()).isEqualTo(400);
      assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    }
  }

  @Test
  void postSearchTakesFormParameters() {
    HttpResponse<String> r = Http.send("POST", BASE + "/Patient/_search", "identifier=" + q(SYS + "|") + "&family=sorensen",
        "Content-Type", "application/x-www-form-urlencoded");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode bundle = Json.parse(r.body());
    assertThat(bundle.get("total").asInt()).isEqualTo(1);
    assertThat(bundle.get("entry").get(0).get("resource").get("id").asText()).isEqualTo("p2-" + RUN);
  }

  // ---------------------------------------------------------------- security

  static String practitioner(String team, List<String> roles) {
    Map<String, String> ctx = new HashMap<>();
    ctx.put("organization_id", "http://organization.example.org/fhir/Organization/1");
    ctx.put("care_team_id", team);
    return "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", roles, ctx,
        "http://organization.example.org/fhir/Practitioner/9", 300);
  }

  @Test
  void theContextIsPartOfTheQuery() {
    String t1 = practitioner(T1, List.of("Appointment.search", "Appointment.read"));
    assertThat(ids("Appointment?identifier=" + q(SYS + "|"), "Authorization", t1)).containsExactly("a1", "a3");
    assertThat(ids("Appointment?identifier=" + q(SYS + "|") + "&patient=" + PA, "Authorization", t1))
        .containsExactly("a1");
    String other = practitioner("http://organization.example.org/fhir/CareTeam/other-" + RUN,
        List.of("Appointment.search", "Appointment.read"));
    JsonNode page = Json.parse(Http.get(BASE + "/Appointment?identifier=" + q(SYS + "|"), "Authorization", other).body());
    assertThat(page.get("total").asInt()).isZero();
    assertThat(page.has("entry")).isFalse();
    JsonNode all = Json.parse(Http.get(BASE + "/Appointment?status=booked,cancelled&_count=1", "Authorization", other).body());
    assertThat(all.get("total").asInt()).isZero();
  }

  @Test
  void searchNeedsTheSearchPrivilege() {
    String reader = practitioner(T1, List.of("Appointment.read"));
    HttpResponse<String> r = Http.get(BASE + "/Appointment?identifier=" + q(SYS + "|"), "Authorization", reader);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("SECURITY_TOKEN_INSUFFICIENT_PERMISSION");
  }

  @Test
  void aSearchIsAuditedWithItsQueryMasked() throws InterruptedException {
    String t1 = practitioner(T1, List.of("Appointment.search", "Appointment.read"));
    String trace = "search-" + RUN;
    String query = "identifier=" + q(SYS + "|") + "&patient=" + PA + "&description=0101801234";
    HttpResponse<String> r = Http.get(BASE + "/Appointment?" + query, "Authorization", t1, "x-b3-traceid", trace,
        "Prefer", "handling=lenient");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<JsonNode> events = AuditTrail.eventsOf(trace, 1);
    assertThat(events).hasSize(1); // one patient shown: PA
    JsonNode event = events.get(0);
    assertThat(event.get("action").asText()).isEqualTo("R");
    assertThat(event.get("subtype").get(0).get("code").asText()).isEqualTo("search-type");
    String stored = null;
    for (JsonNode entity : event.get("entity")) {
      if (entity.has("query")) {
        stored = new String(Base64.getDecoder().decode(entity.get("query").asText()), StandardCharsets.UTF_8);
      }
    }
    assertThat(stored).contains("patient=" + PA).contains("xxxxxx-xxxx").doesNotContain("0101801234");
  }
}
