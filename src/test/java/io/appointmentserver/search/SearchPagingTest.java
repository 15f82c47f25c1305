package io.appointmentserver.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Paging a searchset both ways (DSTU3 http.html "Paging"): the {@code next}, {@code previous},
 * {@code first} and {@code last} links are keyset links, so walking forward to the end and back
 * to the start gives the same pages, and resources written between two page requests neither
 * hide nor repeat those that existed throughout. The orders are worked out by hand below.
 *
 * <pre>
 * id  family   birthDate   gender
 * q0  Berg     1990-01-01  female
 * q1  Aagaard  1985-06-15  male
 * q2  Berg     -           male
 * q3  Dahl     1990-01-01  female
 * q4  -        1970-03-03  -
 * q5  Carlsen  2001-12-24  female
 * q6  Dahl     1985-06-15  male
 * q7  Eriksen  -           female
 * q8  Aagaard  1999-09-09  male
 * </pre>
 */
class SearchPagingTest {
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String BASE = TestServer.base();
  static final String SYS = "urn:paging2:" + RUN;
  static final String[][] PATIENTS = {
      {"q0", "Berg", "1990-01-01", "female"}, {"q1", "Aagaard", "1985-06-15", "male"}, {"q2", "Berg", null, "male"},
      {"q3", "Dahl", "1990-01-01", "female"}, {"q4", null, "1970-03-03", null}, {"q5", "Carlsen", "2001-12-24", "female"},
      {"q6", "Dahl", "1985-06-15", "male"}, {"q7", "Eriksen", null, "female"}, {"q8", "Aagaard", "1999-09-09", "male"}};

  @BeforeAll
  static void data() {
    for (String[] p : PATIENTS) {
      put("Patient", p[0] + "-" + RUN, patient(p[0], p[1], p[2], p[3], SYS));
    }
  }

  static String patient(String id, String family, String birthDate, String gender, String sys) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "-" + RUN + "\",\"identifier\":[{\"system\":\"" + sys
        + "\",\"value\":\"" + id + "\"}]" + (family == null ? "" : ",\"name\":[{\"family\":\"" + family + "\"}]")
        + (birthDate == null ? "" : ",\"birthDate\":\"" + birthDate + "\"")
        + (gender == null ? "" : ",\"gender\":\"" + gender + "\"") + "}";
  }

  static void put(String type, String id, String json) {
    HttpResponse<String> r = Http.put(BASE + "/" + type + "/" + id, json);
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
  }

  static JsonNode get(String url, String... headers) {
    HttpResponse<String> r = Http.get(url, headers);
    assertThat(r.statusCode()).as(url + " -> " + r.body()).isEqualTo(200);
    return Json.parse(r.body());
  }

  static String link(JsonNode page, String relation) {
    for (JsonNode link : page.get("link")) {
      if (link.get("relation").asText().equals(relation)) {
        return link.get("url").asText();
      }
    }
    return null;
  }

  /** A page's entries as "mode:id" without the run suffix. */
  static List<String> entries(JsonNode page) {
    List<String> out = new ArrayList<>();
    if (page.has("entry")) {
      page.get("entry").forEach(e -> out.add(e.get("search").get("mode").asText() + ":"
          + e.get("resource").get("id").asText().replace("-" + RUN, "")));
    }
    return out;
  }

  static List<String> matches(JsonNode page) {
    return entries(page).stream().filter(e -> e.startsWith("match:")).map(e -> e.substring(6)).toList();
  }

  /** Every page from {@code url} on, following {@code relation}. */
  static List<JsonNode> walk(String url, String relation, String... headers) {
    List<JsonNode> pages = new ArrayList<>();
    while (url != null) {
      JsonNode page = get(url, headers);
      pages.add(page);
      url = link(page, relation);
      assertThat(pages.size()).as("a walk that ends").isLessThan(50);
    }
    return pages;
  }

  /** Forward to the end, back to the start: the same pages; returns the matches in order. */
  static List<String> forwardAndBack(String query, int pages) {
    List<JsonNode> forward = walk(BASE + "/Patient?identifier=" + SearchData.q(SYS + "|") + "&" + query, "next");
    assertThat(forward).hasSize(pages);
    assertThat(link(forward.get(0), "previous")).isNull();
    assertThat(link(forward.get(0), "first")).isNull();
    List<JsonNode> back = walk(link(forward.get(forward.size() - 1), "previous"), "previous");
    Collections.reverse(back);
    back.add(forward.get(forward.size() - 1));
    List<List<String>> f = forward.stream().map(SearchPagingTest::entries).toList();
    List<List<String>> b = back.stream().map(SearchPagingTest::entries).toList();
    assertThat(b).as(query).isEqualTo(f);
    for (JsonNode later : forward.subList(1, forward.size())) {
      assertThat(entries(get(link(later, "first")))).isEqualTo(f.get(0));
    }
    // the last link: the last page's worth of matches, in the same order
    List<String> all = new ArrayList<>();
    forward.forEach(p -> all.addAll(matches(p)));
    int count = matches(forward.get(0)).size();
    assertThat(matches(get(link(forward.get(0), "last")))).isEqualTo(all.subList(all.size() - count, all.size()));
    return all;
  }

  @Test
  void forwardToTheEndAndBackGivesTheSamePagesInEveryOrder() {
    // query, pages, the matches in order: dates descending with the missing ones last, ties by id
    Object[][] orders = {
        {"_count=2", 5, "q0 q1 q2 q3 q4 q5 q6 q7 q8"},
        {"_sort=-birthdate&_count=2", 5, "q5 q8 q0 q3 q1 q6 q4 q2 q7"},
        {"_sort=birthdate&_count=4", 3, "q4 q1 q6 q0 q3 q8 q5 q2 q7"},
        {"_sort=family&_count=2", 5, "q1 q8 q0 q2 q5 q3 q6 q7 q4"},
        {"_sort=-family&_count=3", 3, "q7 q3 q6 q5 q0 q2 q1 q8 q4"},
        {"_sort=gender,-birthdate&_count=2", 5, "q5 q0 q3 q7 q8 q1 q6 q2 q4"},
        {"_sort=-gender,family,-_id&_count=1", 9, "q8 q1 q2 q6 q0 q5 q3 q7 q4"}};
    for (Object[] o : orders) {
      assertThat(forwardAndBack((String) o[0], (Integer) o[1])).as((String) o[0])
          .containsExactly(((String) o[2]).split(" "));
    }
  }

  @Test
  void noResourceIsSkippedOrRepeatedWhileOthersWrite() {
    String sys = "urn:paging2-writes:" + RUN;
    for (int i = 10; i < 22; i++) {
      put("Patient", "w" + i + "-" + RUN, patient("w" + i, "F" + i, "2000-01-" + i, null, sys));
    }
    String start = BASE + "/Patient?identifier=" + SearchData.q(sys + "|") + "&_sort=-birthdate&_count=3";
    // forward: after each page one not yet seen is deleted, one seen is updated, new ones come ahead and behind
    List<String> seen = new ArrayList<>();
    String url = start;
    String lastPage = null;
    int page = 0;
    while (url != null) {
      JsonNode p = get(url);
      seen.addAll(matches(p));
      page++;
      if (page == 1) {
        assertThat(Http.send("DELETE", BASE + "/Patient/w15-" + RUN, null).statusCode()).isEqualTo(200);
        put("Patient", "w21-" + RUN, patient("w21", "Updated", "2000-01-21", "male", sys));
        put("Patient", "w30-" + RUN, patient("w30", "Ahead", "1999-01-01", null, sys));
        put("Patient", "w31-" + RUN, patient("w31", "Behind", "2001-01-01", null, sys));
      }
      lastPage = url;
      url = link(p, "next");
    }
    assertThat(seen).containsExactly("w21", "w20", "w19", "w18", "w17", "w16", "w14", "w13", "w12", "w11", "w10", "w30");
    // backward from the last page: the same, while the writes go on
    List<String> back = new ArrayList<>();
    url = lastPage;
    page = 0;
    while (url != null) {
      JsonNode p = get(url);
      List<String> m = new ArrayList<>(matches(p));
      Collections.reverse(m);
      back.addAll(m);
      if (page++ == 0) {
        assertThat(Http.send("DELETE", BASE + "/Patient/w30-" + RUN, null).statusCode()).isEqualTo(200);
        put("Patient", "w32-" + RUN, patient("w32", "Behind", "1998-01-01", null, sys));
        put("Patient", "w33-" + RUN, patient("w33", "Ahead", "2002-01-01", null, sys));
        put("Patient", "w12-" + RUN, patient("w12", "Updated", "2000-01-12", "male", sys));
      }
      url = link(p, "previous");
    }
    // the last page was fetched again (with w30); behind the walk w32 is not seen, ahead w33 is
    assertThat(back).containsExactly("w30", "w10", "w11", "w12", "w13", "w14", "w16", "w17", "w18", "w19", "w20",
        "w21", "w31", "w33");
  }

  @Test
  void includesAndTheUsersContextOnEveryPage() {
    String px = "px-" + RUN;
    String pr = "prx-" + RUN;
    put("Patient", px, "{\"resourceType\":\"Patient\",\"id\":\"" + px + "\"}");
    put("Practitioner", pr, "{\"resourceType\":\"Practitioner\",\"id\":\"" + pr + "\"}");
    for (int i = 1; i <= 6; i++) {
      String id = "ax" + i + "-" + RUN;
      String team = i == 4 ? SearchData.T2 : SearchData.T1;
      put("Appointment", id, SearchData.appointment(id, team, px, "booked", "2026-12-0" + i + "T09:00:00+01:00",
          "2026-12-0" + i + "T09:30:00+01:00", null).replace(SearchData.PR, pr).replace(SearchData.SYS, "urn:ax:" + RUN));
    }
    String t1 = SearchData.practitioner(SearchData.T1, List.of("Appointment.search", "Appointment.read",
        "Patient.read", "Patient.search"));
    String url = BASE + "/Appointment?patient=" + px + "&_sort=-date&_count=2&_include=Appointment:patient";
    List<JsonNode> forward = walk(url, "next", "Authorization", t1);
    List<String> seen = new ArrayList<>();
    forward.forEach(p -> seen.addAll(matches(p)));
    // the other team's appointment is on no page; every page includes its patient, as the search says
    assertThat(seen).containsExactly("ax6", "ax5", "ax3", "ax2", "ax1");
    for (JsonNode p : forward) {
      assertThat(link(p, "next") == null || link(p, "next").contains("_include=Appointment:patient")).isTrue();
      assertThat(entries(p).stream().filter(e -> e.startsWith("include:")).toList()).containsExactly("include:px");
    }
    List<JsonNode> back = walk(link(forward.get(forward.size() - 1), "previous"), "previous", "Authorization", t1);
    Collections.reverse(back);
    back.add(forward.get(forward.size() - 1));
    assertThat(back.stream().map(SearchPagingTest::entries).toList())
        .isEqualTo(forward.stream().map(SearchPagingTest::entries).toList());
    // a link followed by a user of another team shows that user's matches only: none
    String other = SearchData.practitioner("http://organization.example.org/fhir/CareTeam/other-" + RUN,
        List.of("Appointment.search", "Appointment.read"));
    for (JsonNode p : forward) {
      for (String rel : List.of("next", "previous", "first", "last")) {
        if (link(p, rel) != null) {
          assertThat(matches(get(link(p, rel), "Authorization", other))).as(rel).isEmpty();
        }
      }
    }
  }

  @Test
  void aTamperedOrGarbledPageTokenIs400() {
    String start = BASE + "/Patient?identifier=" + SearchData.q(SYS + "|") + "&_sort=-birthdate&_count=2";
    String next = link(get(start), "next");
    List<String> tokens = new ArrayList<>(List.of("%25%25%25", "bm90IGpzb24", b64("[\"q1\"]"), b64("{\"before\":1}"),
        b64("[\"not a date\",\"q1\"]"), b64("{\"before\":[\"1990-13-45\",\"q1\"]}"), b64("[1990,\"q1\"]"),
        b64("\"first\""), b64("{\"before\":[null,null]}")));
    String token = next.substring(next.indexOf("_cursor=") + 8);
    tokens.add(token.substring(0, token.length() - 3)); // cut short
    for (String t : tokens) {
      HttpResponse<String> r = Http.get(start + "&_cursor=" + t);
      assertThat(r.statusCode()).as(t + " -> " + r.body()).isEqualTo(400);
      assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    }
  }

  static String b64(String json) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }
}
