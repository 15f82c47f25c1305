package io.appointmentserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.store.AuditEvents;
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

  @Test
  void eventsStoredAsJsonBeforeV70AreServedAsTheyWereAndFound() throws Exception {
    Config config = TestServer.withFreshDatabase(TestServer.config(), "audit_legacy");
    String url = TestServer.postgres().getJdbcUrl("postgres", "audit_legacy");
    Flyway.configure().dataSource(url, "postgres", "").locations("classpath:db/migration").target("40").load().migrate();
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
}
