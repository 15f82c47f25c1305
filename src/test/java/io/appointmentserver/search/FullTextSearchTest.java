package io.appointmentserver.search;

import static io.appointmentserver.search.SearchData.BASE;
import static io.appointmentserver.search.SearchData.RUN;
import static io.appointmentserver.search.SearchData.ids;
import static io.appointmentserver.search.SearchData.practitioner;
import static io.appointmentserver.search.SearchData.q;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code _content} and {@code _text} (<a href="https://hl7.org/fhir/STU3/search.html#content">search.html</a>)
 * and {@code $suggest-keywords}: Danish and English stemming, accents as the string search treats
 * them, the search-box syntax, the user's context, writes and the reindex of older rows.
 */
class FullTextSearchTest {
  /** A word only this run's resources have, so that the searches see only them. */
  static final String MARK = "fts" + RUN;
  static final String T1 = "http://organization.example.org/fhir/CareTeam/ft1-" + RUN;
  static final String T2 = "http://organization.example.org/fhir/CareTeam/ft2-" + RUN;
  static final String PATIENT = "ftp-" + RUN;

  static String basic(String id, String text, String narrative) {
    return "{\"resourceType\":\"Basic\",\"id\":\"" + id + "-" + RUN + "\""
        + (narrative == null ? "" : ",\"text\":{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">"
            + narrative + "</div>\"}")
        + ",\"code\":{\"text\":\"" + text + "\"}}";
  }

  static void put(String path, String json) {
    HttpResponse<String> r = Http.put(BASE + "/" + path, json);
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
  }

  static Set<String> content(String query) {
    return ids("Basic?_content=" + q(query));
  }

  @BeforeAll
  static void data() {
    put("Basic/da-" + RUN, basic("da", "Vores aftaler med lægen " + MARK, null));
    put("Basic/en-" + RUN, basic("en", "Two appointments were booked " + MARK, null));
    put("Basic/acc-" + RUN, basic("acc", "José og Søren " + MARK, null));
    put("Basic/ph1-" + RUN, basic("ph1", "blood test taken " + MARK, null));
    put("Basic/ph2-" + RUN, basic("ph2", "a test of the blood " + MARK, null));
    put("Basic/nar-" + RUN, basic("nar", "kodetekst " + MARK,
        "<p>Fortælling</p><p>om " + MARK + "</p><table><tr><td>celle</td><td>række</td></tr></table>"));
  }

  @Test
  void danishAndEnglishWordsAreFoundByTheirStems() {
    assertThat(content("aftale " + MARK)).containsExactly("da");
    assertThat(content("aftalerne " + MARK)).containsExactly("da");
    assertThat(content("appointment " + MARK)).containsExactly("en");
    assertThat(content("APPOINTMENTS " + MARK)).containsExactly("en");
    assertThat(content("læge " + MARK)).containsExactly("da");
    assertThat(content("aftaler appointment " + MARK)).isEmpty(); // every word must be found
    // "og" is a Danish stop word, but an English word: found through the English stemming
    assertThat(content("og " + MARK)).containsExactly("acc");
  }

  @Test
  void accentsAreIgnoredAsTheStringSearchIgnoresThem() {
    assertThat(content("jose " + MARK)).containsExactly("acc");
    assertThat(content("JOSÉ " + MARK)).containsExactly("acc");
    assertThat(content("søren " + MARK)).containsExactly("acc");
    // ø is a letter of its own in Danish, not an o with a mark: as name= treats it
    assertThat(content("soren " + MARK)).isEmpty();
  }

  @Test
  void phrasesOrAndNegation() {
    assertThat(content("blood test " + MARK)).containsExactly("ph1", "ph2");
    assertThat(content("\"blood test\" " + MARK)).containsExactly("ph1");
    assertThat(content("\"test blood\" " + MARK)).isEmpty();
    assertThat(ids("Basic?_content=" + q("aftale or appointment") + "&_content=" + MARK)).containsExactly("da", "en");
    assertThat(content("aftale " + MARK + ",appointment " + MARK)).containsExactly("da", "en");
    assertThat(content(MARK + " -blood -aftale")).containsExactly("acc", "en", "nar");
    assertThat(content(MARK + " -blood -aftale -kodetekst")).containsExactly("acc", "en");
  }

  @Test
  void textIsTheNarrativeOnly() {
    assertThat(ids("Basic?_text=" + q("fortælling " + MARK))).containsExactly("nar");
    assertThat(ids("Basic?_text=" + q("kodetekst " + MARK))).isEmpty();
    assertThat(content("kodetekst " + MARK)).containsExactly("nar");
    assertThat(content("fortælling " + MARK)).containsExactly("nar"); // the narrative is content too
    // the cells of a table are words of their own, not "cellerække"
    assertThat(ids("Basic?_text=" + q("celle " + MARK))).containsExactly("nar");
    assertThat(ids("Basic?_text=" + q("\"celle række\" " + MARK))).containsExactly("nar");
  }

  @Test
  void combinedWithOtherParametersSortingPagingAndTotal() {
    assertThat(ids("Basic?_content=" + MARK + "&_id=" + q("da-" + RUN + ",en-" + RUN + ",x"))).containsExactly("da", "en");
    assertThat(ids("Basic?_content=" + MARK + "&code:text=two")).containsExactly("en");
    HttpResponse<String> first = Http.get(BASE + "/Basic?_content=" + MARK + "&_sort=-_id&_count=2&_total=accurate");
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    JsonNode page = Json.parse(first.body());
    assertThat(page.get("total").asInt()).isEqualTo(6);
    assertThat(page.get("entry")).hasSize(2);
    assertThat(page.get("entry").get(0).get("resource").get("id").asText()).isEqualTo("ph2-" + RUN);
    List<String> order = SearchData.order("Basic?_content=" + MARK + "&_sort=_id&_count=2");
    assertThat(order).containsExactly("acc", "da", "en", "nar", "ph1", "ph2");
    assertThat(ids("Basic?_content=" + MARK + "&_total=estimate")).hasSize(6);
  }

  @Test
  void aPractitionerFindsOnlyTheirCareTeamsAppointments() {
    put("Patient/" + PATIENT, "{\"resourceType\":\"Patient\",\"id\":\"" + PATIENT + "\",\"name\":[{\"family\":\"Tekst\"}]}");
    put("Appointment/ft1-" + RUN, withComment(Appointments.ofCareTeam("ft1-" + RUN, T1, PATIENT),
        "Blodprøve før samtale " + MARK));
    put("Appointment/ft2-" + RUN, withComment(Appointments.ofCareTeam("ft2-" + RUN, T2, PATIENT),
        "Blodtryk måles før samtale " + MARK));
    String t1 = practitioner(T1, List.of("Appointment.search", "Appointment.read"));
    assertThat(ids("Appointment?_content=" + q("samtale " + MARK), "Authorization", t1)).containsExactly("ft1");
    assertThat(ids("Appointment?_content=" + q("blodtryk " + MARK), "Authorization", t1)).isEmpty();
    JsonNode page = Json.parse(Http.get(BASE + "/Appointment?_content=" + q(MARK) + "&_count=1&_total=accurate",
        "Authorization", t1).body());
    assertThat(page.get("total").asInt()).isEqualTo(1);
    assertThat(ids("Appointment?_content=" + q("samtale " + MARK))).containsExactly("ft1", "ft2"); // SYSTEM
    // through a chain into Appointment the context holds as well
    String patients = practitioner(T1, List.of("Appointment.search", "Appointment.read", "Patient.search", "Patient.read"));
    HttpResponse<String> has = Http.get(BASE + "/Patient?_id=" + PATIENT + "&_has:Appointment:patient:_content="
        + q("blodtryk " + MARK), "Authorization", patients);
    assertThat(has.statusCode()).as(has.body()).isEqualTo(200);
    assertThat(Json.parse(has.body()).get("total").asInt()).isZero();
  }

  static String withComment(String appointment, String comment) {
    return appointment.replace("\"status\":\"booked\"", "\"status\":\"booked\",\"comment\":\"" + comment + "\"");
  }

  @Test
  void hostileOrEmptyInputIsA400OrACorrectSearch() {
    for (String bad : List.of("", " ", "\"", "\"\"", "&|!():*", "-", "or", String.join(" ", java.util.Collections.nCopies(400, "lang")))) {
      HttpResponse<String> r = Http.get(BASE + "/Basic?_content=" + q(bad));
      assertThat(r.statusCode()).as("'" + bad + "' -> " + r.body()).isIn(200, 400);
      if (r.statusCode() == 400) {
        assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
      }
    }
    assertThat(Http.get(BASE + "/Basic?_content=").statusCode()).isEqualTo(400);
    assertThat(Http.get(BASE + "/Basic?_content=" + q("&|!():*")).statusCode()).isEqualTo(400);
    assertThat(Http.get(BASE + "/Basic?_content=" + q("lang ".repeat(300))).statusCode()).isEqualTo(400);
    assertThat(Http.get(BASE + "/Basic?_content:exact=x").statusCode()).isEqualTo(400);
    assertThat(Http.get(BASE + "/Basic?_text:missing=true").statusCode()).isEqualTo(400);
    assertThat(Http.get(BASE + "/Basic?_content=x&_sort=_content").statusCode()).isEqualTo(400);
    // tsquery's own syntax is plain text here: the words in it are searched
    for (String odd : List.of("aftale & | ! ( ) : * " + MARK, "'aftale':* " + MARK, "aftale\\ " + MARK,
        "(aftale " + MARK, "\"aftale " + MARK, "aftale <-> " + MARK, "aftale -- " + MARK)) {
      HttpResponse<String> r = Http.get(BASE + "/Basic?_content=" + q(odd));
      assertThat(r.statusCode()).as(odd + " -> " + r.body()).isEqualTo(200);
    }
    assertThat(Http.get(BASE + "/Basic?_content=a%00b").statusCode()).isIn(200, 400);
    assertThat(content("'aftale':* " + MARK)).containsExactly("da");
    assertThat(content("aftale & | ! ( ) : * " + MARK)).containsExactly("da");
  }

  @Test
  void anUpdateReplacesTheWordsAndADeleteRemovesThem() {
    String mark = "ftu" + RUN; // not MARK: the other tests count MARK's resources
    put("Basic/upd-" + RUN, basic("upd", "gammel kalender " + mark, null));
    assertThat(content("gammel " + mark)).containsExactly("upd");
    put("Basic/upd-" + RUN, basic("upd", "ny kalender " + mark, null));
    assertThat(content("gammel " + mark)).isEmpty();
    assertThat(content("ny kalender " + mark)).containsExactly("upd");
    assertThat(Http.send("DELETE", BASE + "/Basic/upd-" + RUN, null).statusCode()).isBetween(200, 204);
    assertThat(content("kalender " + mark)).isEmpty();
  }

  /** An appointment's comment is no search parameter's value: a change of it writes the words alone, rows kept. */
  @Test
  void aChangeOfTheTextAloneReplacesTheWordsAndKeepsTheRows() {
    String mark = "ftc" + RUN;
    put("Patient/" + PATIENT, "{\"resourceType\":\"Patient\",\"id\":\"" + PATIENT + "\",\"name\":[{\"family\":\"Tekst\"}]}");
    String id = "ftc-" + RUN;
    put("Appointment/" + id, withComment(Appointments.ofCareTeam(id, T1, PATIENT), "første udgave " + mark));
    String digest = SearchParameterTest.sql("SELECT encode(rows_digest, 'hex') FROM search_indexed WHERE res_type = 'Appointment' AND res_id = '" + id + "'");
    put("Appointment/" + id, withComment(Appointments.ofCareTeam(id, T1, PATIENT), "anden udgave " + mark));
    String after = SearchParameterTest.sql("SELECT encode(rows_digest, 'hex') FROM search_indexed WHERE res_type = 'Appointment' AND res_id = '" + id + "'");
    assertThat(after.substring(0, 64)).isEqualTo(digest.substring(0, 64)); // the same rows
    assertThat(after).isNotEqualTo(digest);
    assertThat(ids("Appointment?_content=" + q("første " + mark))).isEmpty();
    assertThat(ids("Appointment?_content=" + q("anden udgave " + mark))).containsExactly("ftc");
    assertThat(ids("Appointment?actor=Patient/" + PATIENT + "&_content=" + mark)).containsExactly("ftc");
  }

  @Test
  void theCapabilityStatementListsThemForEveryType() {
    assertThat(SearchParameterTest.searchParams("Appointment")).contains("_content:string", "_text:string");
    assertThat(SearchParameterTest.searchParams("Basic")).contains("_content:string", "_text:string");
  }

  @Test
  void suggestKeywordsFromThePatientsCompartmentWithinTheContext() throws Exception {
    aPractitionerFindsOnlyTheirCareTeamsAppointments(); // the patient and the two teams' appointments
    String url = BASE + "/$suggest-keywords?context=" + q("Patient/" + PATIENT + "/$everything")
        + "&searchParam=_content&text=";
    String system = "Bearer " + io.appointmentserver.support.Tokens.sign(TestServer.dataDir(), "SYSTEM",
        List.of("$suggest-keywords", "Appointment.read", "Patient.read"), java.util.Map.of(), null, 300);
    HttpResponse<String> r = Http.get(url + q("blod"), "Authorization", system);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(keywords(r.body())).containsExactlyInAnyOrder("Blodprøve", "Blodtryk");
    JsonNode match = Json.parse(r.body()).get("parameter").get(0);
    assertThat(match.get("name").asText()).isEqualTo("match");
    assertThat(match.get("part").get(0).get("name").asText()).isEqualTo("keyword");
    assertThat(match.get("part").get(1).get("name").asText()).isEqualTo("score");
    assertThat(match.get("part").get(1).get("valueDecimal").asDouble()).isBetween(0.0, 1.0);
    assertThat(keywords(Http.get(url + q("tekst"), "Authorization", system).body())).containsExactly("Tekst");
    assertThat(keywords(Http.get(url + q("SAMT"), "Authorization", system).body())).containsExactly("samtale");
    assertThat(keywords(Http.get(url + q("santa"), "Authorization", system).body())).containsExactly("samtale");
    assertThat(keywords(Http.get(url + q("zzz"), "Authorization", system).body())).isEmpty();
    // a practitioner of team 1 gets no word of team 2's appointment
    String t1 = practitioner(T1, List.of("$suggest-keywords", "Appointment.read", "Patient.read"));
    String trace = java.util.UUID.randomUUID().toString().replace("-", "");
    assertThat(keywords(Http.get(url + q("blod"), "Authorization", t1, "X-B3-TraceId", trace).body()))
        .containsExactly("Blodprøve");
    String events = "";
    for (int i = 0; i < 30 && !events.contains(trace); i++) { // the audit trail is written within a second
      Thread.sleep(100);
      events = Http.get(BASE + "/AuditEvent?patient=Patient/" + PATIENT + "&_sort=-date&_count=50").body();
    }
    assertThat(events).contains(trace).contains("$suggest-keywords");
    // without the privilege, and with bad parameters
    String noOp = practitioner(T1, List.of("Appointment.read", "Patient.read"));
    assertThat(Http.get(url + q("blod"), "Authorization", noOp).statusCode()).isEqualTo(403);
    for (String bad : List.of(url, url + q("&|!"), url.replace("_content", "name") + "blod",
        url.replace("searchParam=_content&", "") + "blod", BASE + "/$suggest-keywords?searchParam=_content&text=blod",
        url.replace(q("Patient/" + PATIENT + "/$everything"), q("Patient/" + PATIENT)) + "blod",
        url + q("x".repeat(500)))) {
      HttpResponse<String> b = Http.get(bad, "Authorization", system);
      assertThat(b.statusCode()).as(bad + " -> " + b.body()).isEqualTo(400);
      assertThat(Json.parse(b.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    }
  }

  static List<String> keywords(String parameters) {
    List<String> out = new ArrayList<>();
    JsonNode p = Json.parse(parameters);
    assertThat(p.get("resourceType").asText()).as(parameters).isEqualTo("Parameters");
    p.path("parameter").forEach(m -> out.add(m.get("part").get(0).get("valueString").asText()));
    return out;
  }

  /**
   * Rows written before the words were kept (V95 leaves them null) are refused by a full-text
   * search (503) rather than missed, until the reindex pass has indexed them: then they are found.
   */
  @Test
  void rowsWrittenBeforeTheWordsAreIndexedByTheReindexPass() throws Exception {
    String mark = "fto" + RUN;
    put("Basic/old-" + RUN, basic("old", "forældet optegnelse " + mark, null));
    assertThat(content("optegnelse " + mark)).containsExactly("old");
    SearchParameterTest.sql("UPDATE search_indexed SET content = NULL, narrative = NULL, fingerprint = 'older', rows_digest = NULL"
        + " WHERE res_type = 'Basic' AND res_id = 'old-" + RUN + "'");
    HttpResponse<String> meanwhile = Http.get(BASE + "/Basic?_content=" + q("optegnelse " + mark));
    assertThat(meanwhile.statusCode()).as(meanwhile.body()).isEqualTo(503);
    assertThat(meanwhile.body()).contains("OperationOutcome").contains("Basic");
    // other searches of the type, and full-text searches of other types, are answered meanwhile
    assertThat(Http.get(BASE + "/Basic?_id=old-" + RUN).statusCode()).isEqualTo(200);
    assertThat(Http.get(BASE + "/Appointment?_content=" + MARK).statusCode()).isEqualTo(200);
    try (AppointmentServer restarted = TestServer.another(c -> c)) {
      restarted.reindexed().get(120, TimeUnit.SECONDS);
    }
    assertThat(SearchParameterTest.sql("SELECT content IS NOT NULL FROM search_indexed WHERE res_type = 'Basic' AND res_id = 'old-" + RUN + "'"))
        .isEqualTo("t");
    assertThat(content("optegnelse " + mark)).containsExactly("old");
  }
}
