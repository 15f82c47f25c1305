package io.appointmentserver.search;

import static io.appointmentserver.search.SearchData.BASE;
import static io.appointmentserver.search.SearchData.RUN;
import static io.appointmentserver.search.SearchData.SYS;
import static io.appointmentserver.search.SearchData.ids;
import static io.appointmentserver.search.SearchData.patient;
import static io.appointmentserver.search.SearchData.put;
import static io.appointmentserver.search.SearchData.q;
import static org.assertj.core.api.Assertions.assertThat;

import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.TestServer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The index rows behind search: a delete removes them, an update replaces them only when a
 * searchable value changed, and resources stored before the index existed are indexed on start-up.
 */
class SearchIndexTest {
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
}
