package io.appointmentserver.search;

import static io.appointmentserver.search.SearchData.BASE;
import static io.appointmentserver.search.SearchData.RUN;
import static io.appointmentserver.search.SearchData.SYS;
import static io.appointmentserver.search.SearchData.next;
import static io.appointmentserver.search.SearchData.order;
import static io.appointmentserver.search.SearchData.put;
import static io.appointmentserver.search.SearchData.q;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The order, the total and the page size of a searchset ({@code _sort}, {@code _total},
 * {@code _count}), and pages that stay correct while others write.
 */
class SearchSortingAndTotalsTest {
  @BeforeAll
  static void data() {
    SearchData.write();
  }

  @Test
  void sortAscendingAndDescending() {
    List<String> asc = order("Patient?identifier=" + q(SYS + "|") + "&birthdate:missing=false&_sort=birthdate&_count=2");
    assertThat(asc).containsExactly("p3", "p2", "p1", "p4");
    List<String> desc = order("Patient?identifier=" + q(SYS + "|") + "&birthdate:missing=false&_sort=-birthdate,_id&_count=3");
    assertThat(desc).containsExactly("p2", "p4", "p1", "p3");
    assertThat(order("Patient?identifier=" + q(SYS + "|") + "&_sort=-_id&_count=1")).containsExactly("p4", "p3", "p2", "p1");
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
}
