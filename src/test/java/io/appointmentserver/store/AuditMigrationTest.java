package io.appointmentserver.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.Config;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * Events recorded before V70 stored their whole JSON; after it they are served exactly as they
 * were and found by every search parameter, from the columns V70 fills from that JSON.
 */
class AuditMigrationTest {
  static final String SUBJECT = "0e3b6c1a-legacy-subject";
  static final String AGENT = "http://organization.example.org/fhir/Practitioner/legacy";

  /** An event as the server wrote it before V70 (AuditLog's JSON of then, byte for byte in form). */
  static String legacyJson(String id, Instant at, String trace) {
    String t = at.toString();
    return "{\"resourceType\":\"AuditEvent\",\"id\":\"" + id + "\",\"meta\":{\"versionId\":\"1\",\"lastUpdated\":\"" + t
        + "\"},\"type\":{\"system\":\"http://hl7.org/fhir/audit-event-type\",\"code\":\"rest\",\"display\":\"RESTful Operation\"},"
        + "\"subtype\":[{\"system\":\"http://hl7.org/fhir/restful-interaction\",\"code\":\"read\"}],\"action\":\"R\","
        + "\"recorded\":\"" + t + "\",\"outcome\":\"0\",\"outcomeDesc\":\"Appointment\",\"agent\":[{\"role\":[{\"text\":\"PRACTITIONER\"}],"
        + "\"reference\":{\"reference\":\"" + AGENT + "\",\"display\":\"Legacy\"},\"userId\":{\"value\":\"" + SUBJECT + "\"},"
        + "\"name\":\"Legacy\",\"requestor\":true}],\"source\":{\"site\":\"appointment-server\",\"identifier\":{\"value\":"
        + "\"appointment-server\"},\"type\":[{\"system\":\"http://hl7.org/fhir/security-source-type\",\"code\":\"4\","
        + "\"display\":\"Application Server\"}]},\"entity\":[{\"reference\":{\"reference\":\"Patient/legacy\"},\"type\":"
        + "{\"system\":\"http://hl7.org/fhir/audit-entity-type\",\"code\":\"1\",\"display\":\"Person\"},\"role\":{\"system\":"
        + "\"http://hl7.org/fhir/object-role\",\"code\":\"1\",\"display\":\"Patient\"}},{\"reference\":{\"reference\":"
        + "\"Appointment/legacy/_history/3\"},\"type\":{\"system\":\"http://hl7.org/fhir/audit-entity-type\",\"code\":\"2\","
        + "\"display\":\"System Object\"},\"role\":{\"system\":\"http://hl7.org/fhir/object-role\",\"code\":\"4\",\"display\":"
        + "\"Domain Resource\"}},{\"identifier\":{\"value\":\"" + trace + "\"},\"type\":{\"system\":"
        + "\"http://hl7.org/fhir/audit-entity-type\",\"code\":\"2\",\"display\":\"System Object\"},\"role\":{\"system\":"
        + "\"http://hl7.org/fhir/object-role\",\"code\":\"21\",\"display\":\"Job Stream\"},\"name\":\"x-b3-traceid\"}]}";
  }

  /** A server's config for a new database {@code name}, migrated up to {@code version} only. */
  private static Config migratedTo(String name, String version) throws java.sql.SQLException {
    Config config = TestServer.withFreshDatabase(TestServer.config(), name);
    String url = TestServer.postgres().getJdbcUrl("postgres", name);
    Flyway.configure().dataSource(url, "postgres", "").locations("classpath:db/migration").target(version).load().migrate();
    return config;
  }

  @Test
  void eventsStoredAsJsonBeforeV70AreServedAsTheyWereAndFound() throws Exception {
    Config config = migratedTo("audit_legacy", "40");
    String url = TestServer.postgres().getJdbcUrl("postgres", "audit_legacy");
    Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    List<String> ids = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(url, "postgres", "");
         PreparedStatement ps = c.prepareStatement("INSERT INTO audit_event (id, recorded, patient, body) VALUES (?, ?, ?, ?)")) {
      for (int i = 0; i < 2; i++) {
        String id = AuditEvents.newId(at.plusMillis(i));
        ids.add(id);
        ps.setString(1, id);
        ps.setObject(2, OffsetDateTime.ofInstant(at.plusMillis(i), ZoneOffset.UTC));
        ps.setString(3, "Patient/legacy");
        ps.setString(4, legacyJson(id, at.plusMillis(i), "legacy-trace-" + i));
        ps.executeUpdate();
      }
    }
    try (AppointmentServer server = AppointmentServer.start(config)) {
      String base = server.baseUrl();
      for (int i = 0; i < 2; i++) {
        var read = Http.get(base + "/AuditEvent/" + ids.get(i));
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.body()).isEqualTo(legacyJson(ids.get(i), at.plusMillis(i), "legacy-trace-" + i));
      }
      for (String query : List.of("patient=Patient/legacy", "action=R", "subtype=read", "user=" + SUBJECT,
          "agent=" + URLEncoder.encode(AGENT, StandardCharsets.UTF_8), "entity=Appointment/legacy", "entity-role=1",
          "date=ge" + at, "_sort=-date")) {
        JsonNode page = Json.parse(Http.get(base + "/AuditEvent?" + query).body());
        assertThat(page.get("total").asInt()).as(query).isEqualTo(2);
      }
      assertThat(Json.parse(Http.get(base + "/AuditEvent?action=U").body()).get("total").asInt()).isZero();
    }
  }

  /**
   * Events stored as columns from V70 on keep their agent in their own row after V80 (which stores
   * an agent once and refers to it): served exactly as an event with the same values stored now,
   * and found by the agent's search parameters alike.
   */
  @Test
  void eventsWithTheirAgentInTheirOwnRowAreServedAsEventsStoredNow() throws Exception {
    Config config = migratedTo("audit_v75", "75");
    String url = TestServer.postgres().getJdbcUrl("postgres", "audit_v75");
    Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    String oldId = AuditEvents.newId(at);
    try (Connection c = DriverManager.getConnection(url, "postgres", "");
         PreparedStatement ps = c.prepareStatement("INSERT INTO audit_event (id, recorded, patient, action, subtype,"
             + " res_type, entity, agent_type, agent_id, agent_name, agent_subject, agent_org, address, trace_id, query)"
             + " VALUES (?, ?, 'Patient/v75', 'R', 'read', 'Appointment', 'Appointment/v75/_history/2', 'PRACTITIONER', ?,"
             + " 'Legacy \"L\"', ?, 'Organization/9', '10.0.0.1', 'trace-v75', 'patient=Patient/v75')")) {
      ps.setString(1, oldId);
      ps.setObject(2, OffsetDateTime.ofInstant(at, ZoneOffset.UTC));
      ps.setString(3, AGENT);
      ps.setString(4, SUBJECT);
      ps.executeUpdate();
    }
    try (AppointmentServer server = AppointmentServer.start(config)) {
      String base = server.baseUrl();
      var store = new io.appointmentserver.store.ResourceStore(TestServer.postgres().getDatabase("postgres", "audit_v75"),
          java.time.Clock.systemUTC());
      String newId = AuditEvents.newId(at);
      store.writes().appendAudit(List.of(new AuditEvents.Event(newId, at,
          new AuditEvents.Subject("Patient/v75", "R", "read", "Appointment", "Appointment/v75/_history/2"),
          AuditEvents.Agent.of(new AuditEvents.User("PRACTITIONER", AGENT, "Legacy \"L\"", SUBJECT), "Organization/9",
              "10.0.0.1"), new AuditEvents.Trace("trace-v75", "patient=Patient/v75"))));
      var old = Http.get(base + "/AuditEvent/" + oldId);
      assertThat(old.statusCode()).isEqualTo(200);
      assertThat(old.body()).contains("\"userId\":{\"value\":\"" + SUBJECT + "\"}", "\"address\":\"10.0.0.1\"",
          "\"valueReference\":{\"reference\":\"Organization/9\"}", "\"name\":\"Legacy \\\"L\\\"\"");
      assertThat(old.body().replace(oldId, newId)).isEqualTo(Http.get(base + "/AuditEvent/" + newId).body());
      for (String query : List.of("user=" + SUBJECT, "agent=" + URLEncoder.encode(AGENT, StandardCharsets.UTF_8),
          "patient=Patient/v75")) {
        assertThat(Json.parse(Http.get(base + "/AuditEvent?" + query).body()).get("total").asInt()).as(query).isEqualTo(2);
      }
    }
  }
}
