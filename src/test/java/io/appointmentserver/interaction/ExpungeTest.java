package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@code $expunge} over HTTP, with the rows checked in the database: a server of its own with
 * {@code FHIR_EXPUNGE=on} on a database of its own (so that {@code expungeEverything}, the last
 * test, empties only that one; and its read cache is active, as on a single production server).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExpungeTest {
  private static final String JSON = "application/fhir+json";
  private static final String DB = "expunge_test";
  /** Every table that holds rows of a resource (the audit trail is kept for good, and not listed). */
  private static final List<String> TABLES = List.of("resource", "resource_history", "search_string", "search_token",
      "search_reference", "search_date", "search_number", "search_quantity", "search_uri", "search_indexed",
      "appointment_booking");

  private static AppointmentServer server;
  private static String base;
  private static String expunger;

  @BeforeAll
  static void start() throws Exception {
    server = AppointmentServer.start(TestServer.withFreshDatabase(TestServer.config(), DB).withExpunge(true));
    base = server.baseUrl();
    expunger = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("$expunge", "$get-resource-counts"),
        Map.of(), null, 300);
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  static Connection db() throws SQLException {
    return DriverManager.getConnection(TestServer.postgres().getJdbcUrl("postgres", DB), "postgres", "");
  }

  static long rows(String table, String type, String id) throws SQLException {
    try (Connection c = db(); PreparedStatement ps = c.prepareStatement(
        "SELECT count(*) FROM " + table + " WHERE res_type = ? AND res_id = ?")) {
      ps.setString(1, type);
      ps.setString(2, id);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  static long sql(String query) throws SQLException {
    try (Connection c = db(); PreparedStatement ps = c.prepareStatement(query); ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * Makes Basic/{@code id} (one version) a resource of {@code upTo} versions, written directly:
   * copies of version 1 as versions 2 to {@code upTo}, the last the current one.
   */
  static void previousVersions(String id, int upTo) throws SQLException {
    try (Connection c = db(); PreparedStatement ps = c.prepareStatement("""
        INSERT INTO resource_history (res_type, res_id, version, last_updated, deleted, body, tags, method)
        SELECT res_type, res_id, v, last_updated, deleted, body, tags, 'PUT' FROM resource, generate_series(2, ?) v
         WHERE res_type = 'Basic' AND res_id = ?;
        UPDATE resource SET version = ? WHERE res_type = 'Basic' AND res_id = ?""")) {
      ps.setInt(1, upTo);
      ps.setString(2, id);
      ps.setInt(3, upTo);
      ps.setString(4, id);
      ps.execute();
    }
  }

  static String basic(String id, String code) {
    return "{\"resourceType\":\"Basic\",\"id\":\"" + id + "\",\"code\":{\"coding\":[{\"system\":\"urn:x\",\"code\":\""
        + code + "\"}]}}";
  }

  /** A Basic of three versions, the last its deletion. */
  static String deletedBasic(String prefix) {
    String id = id(prefix);
    put(id, "a");
    put(id, "b");
    assertThat(Http.send("DELETE", base + "/Basic/" + id, null).statusCode()).isBetween(200, 204);
    return id;
  }

  static String put(String id, String code) {
    HttpResponse<String> r = Http.put(base + "/Basic/" + id, basic(id, code));
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
    return Json.parse(r.body()).path("meta").path("versionId").asText();
  }

  static String params(String... nameValueJson) {
    StringBuilder b = new StringBuilder("{\"resourceType\":\"Parameters\",\"parameter\":[");
    for (int i = 0; i < nameValueJson.length; i += 2) {
      b.append(i == 0 ? "" : ",").append("{\"name\":\"").append(nameValueJson[i]).append("\",")
          .append(nameValueJson[i + 1]).append('}');
    }
    return b.append("]}").toString();
  }

  /** POSTs the Parameters {@code body} as the expunging SYSTEM user, or as {@code Authorization} among {@code headers}. */
  static HttpResponse<String> expunge(String path, String body, String... headers) {
    List<String> all = new java.util.ArrayList<>(List.of(headers));
    if (!all.contains("Authorization")) {
      all.addAll(List.of("Authorization", expunger));
    }
    all.addAll(List.of("Content-Type", JSON));
    return Http.post(base + path, body, all.toArray(String[]::new));
  }

  static long count(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode p = Json.parse(r.body());
    assertThat(p.path("parameter").get(0).path("name").asText()).isEqualTo("count");
    return p.path("parameter").get(0).path("valueInteger").asLong();
  }

  static String id(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  @Order(1)
  void previousVersionsGoForGoodAndTheCurrentVersionStays() throws Exception {
    String id = id("prev");
    put(id, "a");
    put(id, "b");
    put(id, "c");
    String trace = UUID.randomUUID().toString().replace("-", "");
    HttpResponse<String> r = expunge("/Basic/" + id + "/$expunge", params("expungePreviousVersions", "\"valueBoolean\":true"),
        "X-B3-TraceId", trace);
    assertThat(count(r)).isEqualTo(2);

    assertThat(Http.get(base + "/Basic/" + id + "/_history/1").statusCode()).isEqualTo(404);
    assertThat(Http.get(base + "/Basic/" + id + "/_history/2").statusCode()).isEqualTo(404);
    assertThat(Http.get(base + "/Basic/" + id + "/_history/3").statusCode()).isEqualTo(200);
    HttpResponse<String> read = Http.get(base + "/Basic/" + id);
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(Json.parse(read.body()).path("meta").path("versionId").asText()).isEqualTo("3");
    JsonNode history = Json.parse(Http.get(base + "/Basic/" + id + "/_history").body());
    assertThat(history.path("total").asInt()).isEqualTo(1);
    assertThat(history.path("entry")).hasSize(1);
    // the current version's index is untouched: found by its code, not by the expunged ones'
    assertThat(Json.parse(Http.get(base + "/Basic?code=urn:x%7Cc&_id=" + id).body()).path("total").asInt()).isEqualTo(1);
    assertThat(Json.parse(Http.get(base + "/Basic?code=urn:x%7Ca&_id=" + id).body()).path("total").asInt()).isEqualTo(0);
    assertThat(rows("resource_history", "Basic", id)).isEqualTo(1);
    assertThat(rows("resource", "Basic", id)).isEqualTo(1);
    assertThat(rows("search_token", "Basic", id)).isPositive();
    assertThat(rows("search_indexed", "Basic", id)).isEqualTo(1);

    // one audit event, SYSTEM user or not, with what was asked and the count
    try (Connection c = db(); PreparedStatement ps = c.prepareStatement(
        "SELECT action, subtype, res_type, entity, query FROM audit_event WHERE trace_id = ?")) {
      ps.setString(1, trace);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("D");
        assertThat(rs.getString(2)).isEqualTo("$expunge");
        assertThat(rs.getString(3)).isEqualTo("Basic");
        assertThat(rs.getString(4)).isEqualTo("Basic/" + id);
        assertThat(rs.getString(5)).contains("expungePreviousVersions=true").contains("count=2");
        assertThat(rs.next()).isFalse();
      }
    }
  }

  @Test
  @Order(2)
  void aDeletedResourceGoesWholeAndComesBackAtVersionOne() throws Exception {
    String id = deletedBasic("del");
    assertThat(Http.get(base + "/Basic/" + id).statusCode()).isEqualTo(410); // the tombstone, now in the read cache too
    JsonNode countsBefore = Json.parse(Http.get(base + "/$get-resource-counts", "Authorization", expunger).body());

    // a live resource is not touched by expungeDeletedResources
    String live = id("live");
    put(live, "a");
    put(live, "b");
    assertThat(count(expunge("/Basic/" + live + "/$expunge", params("expungeDeletedResources", "\"valueBoolean\":true"))))
        .isZero();
    assertThat(rows("resource_history", "Basic", live)).isEqualTo(2);

    assertThat(count(expunge("/Basic/" + id + "/$expunge", params("expungeDeletedResources", "\"valueBoolean\":true"))))
        .isEqualTo(3);
    assertThat(Http.get(base + "/Basic/" + id).statusCode()).isEqualTo(404);
    assertThat(Http.get(base + "/Basic/" + id + "/_history/1").statusCode()).isEqualTo(404);
    assertThat(Http.get(base + "/Basic/" + id + "/_history/3").statusCode()).isEqualTo(404);
    for (String table : TABLES) {
      assertThat(rows(table, "Basic", id)).as(table).isZero();
    }
    JsonNode countsAfter = Json.parse(Http.get(base + "/$get-resource-counts", "Authorization", expunger).body());
    assertThat(ResourceCountsTest.count(countsAfter, "Basic")).isEqualTo(ResourceCountsTest.count(countsBefore, "Basic") + 1);
    // the id is free again: a PUT creates the resource anew, at version 1 (as HAPI does)
    HttpResponse<String> again = Http.put(base + "/Basic/" + id, basic(id, "z"));
    assertThat(again.statusCode()).as(again.body()).isEqualTo(201);
    assertThat(Json.parse(again.body()).path("meta").path("versionId").asText()).isEqualTo("1");
    assertThat(Json.parse(Http.get(base + "/Basic/" + id + "/_history").body()).path("total").asInt()).isEqualTo(1);
  }

  @Test
  @Order(3)
  void oneVersion() {
    String id = id("ver");
    put(id, "a");
    put(id, "b");
    put(id, "c");
    String prev = params("expungePreviousVersions", "\"valueBoolean\":true");
    assertThat(count(expunge("/Basic/" + id + "/_history/2/$expunge", prev))).isEqualTo(1);
    assertThat(Http.get(base + "/Basic/" + id + "/_history/2").statusCode()).isEqualTo(404);
    assertThat(Http.get(base + "/Basic/" + id + "/_history/1").statusCode()).isEqualTo(200);
    HttpResponse<String> current = expunge("/Basic/" + id + "/_history/3/$expunge", prev);
    assertThat(current.statusCode()).as(current.body()).isEqualTo(412);
    assertThat(current.body()).contains("OperationOutcome").contains("current version");
    assertThat(expunge("/Basic/" + id + "/_history/2/$expunge", prev).statusCode()).isEqualTo(404);
    assertThat(expunge("/Basic/" + id + "/_history/x/$expunge", prev).statusCode()).isEqualTo(404);
    assertThat(expunge("/Basic/nothing-here/$expunge", prev).statusCode()).isEqualTo(404);
  }

  @Test
  @Order(4)
  void theLimitBoundsACallAndLargeExpungesRunInBatches() throws Exception {
    String id = id("big");
    put(id, "a");
    previousVersions(id, 1201); // more than two batches
    put(id, "b"); // version 1202, the current one
    String prev = "\"valueBoolean\":true";
    assertThat(count(expunge("/Basic/" + id + "/$expunge", params("expungePreviousVersions", prev, "limit",
        "\"valueInteger\":5")))).isEqualTo(5);
    assertThat(rows("resource_history", "Basic", id)).isEqualTo(1202 - 5);
    // the default limit is HAPI's, 1000
    assertThat(count(expunge("/Basic/" + id + "/$expunge", params("expungePreviousVersions", prev)))).isEqualTo(1000);
    assertThat(count(expunge("/Basic/" + id + "/$expunge", params("expungePreviousVersions", prev, "limit",
        "\"valueInteger\":100000")))).isEqualTo(1202 - 1 - 1005);
    assertThat(rows("resource_history", "Basic", id)).isEqualTo(1);
    assertThat(Json.parse(Http.get(base + "/Basic/" + id).body()).path("meta").path("versionId").asText()).isEqualTo("1202");
  }

  @Test
  @Order(6)
  void anUpdateDuringTheExpungeKeepsItsVersionAndIndex() throws Exception {
    String id = id("busy");
    put(id, "a");
    previousVersions(id, 3000); // an expunge of several batches, for the updates to run into
    CompletableFuture<Long> expunged = CompletableFuture.supplyAsync(() -> count(expunge("/Basic/" + id + "/$expunge",
        params("expungePreviousVersions", "\"valueBoolean\":true", "limit", "\"valueInteger\":100000"))));
    String last = null;
    for (int i = 0; i < 20; i++) {
      last = put(id, "u" + i);
    }
    long removed = expunged.join();
    assertThat(removed).isBetween(2999L, 2999L + 19);
    assertThat(last).isEqualTo("3020");
    HttpResponse<String> read = Http.get(base + "/Basic/" + id);
    assertThat(Json.parse(read.body()).path("meta").path("versionId").asText()).isEqualTo("3020");
    assertThat(Http.get(base + "/Basic/" + id + "/_history/3020").statusCode()).isEqualTo(200);
    assertThat(Json.parse(Http.get(base + "/Basic?code=urn:x%7Cu19&_id=" + id).body()).path("total").asInt()).isEqualTo(1);
    assertThat(rows("resource_history", "Basic", id)).isEqualTo(3020 - removed);
    assertThat(sql("SELECT max(version) FROM resource_history WHERE res_type = 'Basic' AND res_id = '" + id + "'"))
        .isEqualTo(3020);
    assertThat(rows("search_indexed", "Basic", id)).isEqualTo(1);
  }

  static void organization(String id, int versions, boolean delete) {
    for (int v = 1; v <= versions; v++) {
      String body = "{\"resourceType\":\"Organization\",\"id\":\"" + id + "\",\"name\":\"v" + v + "\"}";
      assertThat(Http.put(base + "/Organization/" + id, body).statusCode()).isIn(200, 201);
    }
    if (delete) {
      assertThat(Http.send("DELETE", base + "/Organization/" + id, null).statusCode()).isBetween(200, 204);
    }
  }

  @Test
  @Order(5)
  void theTypeAndSystemLevels() throws Exception {
    // the only Organizations of this database
    String live = id("org-live");
    String deleted = id("org-deleted");
    String once = id("org-once");
    organization(live, 2, false);
    organization(deleted, 2, true); // three versions
    organization(once, 1, true); // two
    assertThat(count(expunge("/Organization/$expunge", params("expungeDeletedResources", "\"valueBoolean\":true",
        "expungePreviousVersions", "\"valueBoolean\":true")))).isEqualTo(1 + 3 + 2);
    assertThat(rows("resource_history", "Organization", live)).isEqualTo(1);
    for (String id : List.of(deleted, once)) {
      for (String table : TABLES) {
        assertThat(rows(table, "Organization", id)).as(table).isZero();
      }
    }
    assertThat(Http.get(base + "/Organization/" + live).statusCode()).isEqualTo(200);
    JsonNode typeHistory = Json.parse(Http.get(base + "/Organization/_history").body());
    assertThat(typeHistory.path("total").asInt()).isEqualTo(1);

    // the system level covers every type; a limit stops within the deleted resources' versions
    String patient = id("pat");
    String other = id("org-other");
    assertThat(Http.put(base + "/Patient/" + patient, "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}")
        .statusCode()).isEqualTo(201);
    assertThat(Http.send("DELETE", base + "/Patient/" + patient, null).statusCode()).isBetween(200, 204);
    organization(other, 1, true);
    long deletedVersions = sql("SELECT count(*) FROM resource_history h JOIN resource r USING (res_type, res_id) WHERE r.deleted");
    assertThat(deletedVersions).isGreaterThanOrEqualTo(4);
    String deletedOnly = "\"valueBoolean\":true";
    assertThat(count(expunge("/$expunge", params("expungeDeletedResources", deletedOnly, "limit", "\"valueInteger\":3"))))
        .isEqualTo(3);
    assertThat(count(expunge("/$expunge", params("expungeDeletedResources", deletedOnly))))
        .isEqualTo(deletedVersions - 3);
    assertThat(sql("SELECT count(*) FROM resource WHERE deleted")).isZero();
    assertThat(Http.get(base + "/Patient/" + patient).statusCode()).isEqualTo(404);
    assertThat(Http.get(base + "/Organization/" + other).statusCode()).isEqualTo(404);
    assertThat(Http.get(base + "/Organization/" + live).statusCode()).isEqualTo(200);
  }

  @Test
  @Order(6)
  void aDeletedResourceAWriteHoldsIsLeftAlone() throws Exception {
    String id = deletedBasic("held");
    String deleted = params("expungeDeletedResources", "\"valueBoolean\":true");
    try (Connection writer = db()) {
      // a write of the resource in flight (every write locks the resource's row first)
      writer.setAutoCommit(false);
      try (PreparedStatement ps = writer.prepareStatement(
          "SELECT 1 FROM resource WHERE res_type = 'Basic' AND res_id = ? FOR UPDATE")) {
        ps.setString(1, id);
        ps.executeQuery().close();
      }
      // its previous versions go, the tombstone stays with the write
      assertThat(count(expunge("/Basic/" + id + "/$expunge", deleted))).isEqualTo(2);
      writer.rollback();
    }
    assertThat(Http.get(base + "/Basic/" + id).statusCode()).isEqualTo(410);
    assertThat(count(expunge("/Basic/" + id + "/$expunge", deleted))).isEqualTo(1);
    assertThat(Http.get(base + "/Basic/" + id).statusCode()).isEqualTo(404);
  }

  @Test
  @Order(7)
  void badInputIsA400() {
    String t = "\"valueBoolean\":true";
    List<String> bodies = List.of(
        params("expungePreviousVersions", t, "limit", "\"valueInteger\":0"),
        params("expungePreviousVersions", t, "limit", "\"valueInteger\":-3"),
        params("limit", "\"valueInteger\":10"),
        params("expungePreviousVersions", "\"valueBoolean\":false", "expungeDeletedResources", "\"valueBoolean\":false"),
        params("expungePreviousVersions", "\"valueString\":\"yes\""),
        params("expungePreviousVersions", "\"valueBoolean\":\"yes\""),
        params("expungePreviousVersions", t, "limit", "\"valueString\":\"ten\""),
        params("expungeEverything", t));
    for (String body : bodies) {
      HttpResponse<String> r = expunge("/Basic/$expunge", body);
      assertThat(r.statusCode()).as(body + " -> " + r.body()).isEqualTo(400);
      assertThat(Json.parse(r.body()).path("resourceType").asText()).as(body).isEqualTo("OperationOutcome");
    }
    HttpResponse<String> none = expunge("/$expunge", params());
    assertThat(none.statusCode()).as(none.body()).isEqualTo(400);
    assertThat(none.body()).contains("expungePreviousVersions");
  }

  @Test
  @Order(8)
  void onlySystemUsersWithAPrivilegeThatNamesIt() {
    String prev = params("expungePreviousVersions", "\"valueBoolean\":true");
    String practitioner = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Appointment.*"),
        Map.of("care_team_id", "http://organization.fut.trifork.com/fhir/CareTeam/35102"), null, 300);
    assertThat(expunge("/Appointment/$expunge", prev, "Authorization", practitioner).statusCode()).isEqualTo(403);
    // Type.* is everything on the type but removing data for good
    String everythingOnBasic = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Basic.*"), Map.of(), null, 300);
    HttpResponse<String> r = expunge("/Basic/$expunge", prev, "Authorization", everythingOnBasic);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(Json.parse(r.body()).path("resourceType").asText()).isEqualTo("OperationOutcome");
    String basicExpunge = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Basic$expunge"), Map.of(), null, 300);
    assertThat(expunge("/Basic/$expunge", prev, "Authorization", basicExpunge).statusCode()).isEqualTo(200);
    assertThat(expunge("/Patient/$expunge", prev, "Authorization", basicExpunge).statusCode()).isEqualTo(403);
    assertThat(expunge("/$expunge", prev, "Authorization", basicExpunge).statusCode()).isEqualTo(403);
    // a practitioner holding the privilege is still no SYSTEM user
    String practitionerWithIt = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("$expunge"),
        Map.of("care_team_id", "http://organization.fut.trifork.com/fhir/CareTeam/35102"), null, 300);
    HttpResponse<String> p = expunge("/$expunge", prev, "Authorization", practitionerWithIt);
    assertThat(p.statusCode()).isEqualTo(403);
    assertThat(p.body()).contains("SYSTEM");
    assertThat(expunge("/$expunge", prev, "Authorization", Http.NO_AUTH).statusCode()).isEqualTo(401);
  }

  @Test
  @Order(9)
  void offByDefault() {
    // the shared test server runs with the default configuration
    HttpResponse<String> r = Http.post(TestServer.base() + "/$expunge",
        params("expungePreviousVersions", "\"valueBoolean\":true"), "Content-Type", JSON, "Authorization", expunger);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(405);
    assertThat(Json.parse(r.body()).path("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(r.body()).contains("FHIR_EXPUNGE=on");
  }

  @Test
  @Order(100)
  void everythingEmptiesTheStoreButKeepsTheAuditTrail() throws Exception {
    String id = id("all");
    put(id, "a");
    put(id, "b");
    String gone = id("gone");
    put(gone, "a");
    assertThat(Http.send("DELETE", base + "/Basic/" + gone, null).statusCode()).isBetween(200, 204);
    long versions = sql("SELECT count(*) FROM resource_history");
    long audit = sql("SELECT count(*) FROM audit_event");
    assertThat(audit).isPositive();
    // the system level only, and only with the system privilege
    String basicExpunge = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("Basic$expunge"), Map.of(), null, 300);
    assertThat(expunge("/$expunge", params("expungeEverything", "\"valueBoolean\":true"), "Authorization", basicExpunge)
        .statusCode()).isEqualTo(403);
    assertThat(count(expunge("/$expunge", params("expungeEverything", "\"valueBoolean\":true")))).isEqualTo(versions);
    for (String table : TABLES) {
      assertThat(sql("SELECT count(*) FROM " + table)).as(table).isZero();
    }
    assertThat(sql("SELECT count(*) FROM audit_event")).isGreaterThan(audit); // kept, and the expunge's own event added
    assertThat(Http.get(base + "/Basic/" + id).statusCode()).isEqualTo(404);
    JsonNode counts = Json.parse(Http.get(base + "/$get-resource-counts", "Authorization", expunger).body());
    assertThat(ResourceCountsTest.count(counts, "Basic")).isZero();
    assertThat(ResourceCountsTest.count(counts, "AuditEvent")).isPositive();
  }
}
