package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The latency of {@code $everything} for a patient with 200 resources among 40 other patients'
 * 8,000: a timed loop over HTTP, printed, not asserted. Runs only when asked:
 * {@code mvn -o -q test -Dsynthea.skip=true -Dtest=EverythingLatencyTest -Deverything.latency=true}.
 */
@EnabledIfSystemProperty(named = "everything.latency", matches = "true")
class EverythingLatencyTest {
  static final String BASE = TestServer.base();
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);

  /** A transaction creating the patient and {@code n} observations and encounters of it, referring to {@code pr}. */
  static void writePatient(String patient, int n, String pr) {
    StringBuilder b = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
    b.append("{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"").append(patient)
        .append("\"},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/").append(patient).append("\"}}");
    for (int i = 0; i < n; i++) {
      boolean obs = i % 2 == 0;
      b.append(",{\"resource\":{\"resourceType\":\"").append(obs ? "Observation" : "Encounter").append("\",")
          .append(obs ? "\"status\":\"final\",\"code\":{\"text\":\"pulse\"},\"effectiveDateTime\":\"2025-01-"
              + (10 + i % 18) + "\"," : "\"status\":\"finished\",\"period\":{\"start\":\"2025-02-" + (10 + i % 18) + "\"},")
          .append("\"subject\":{\"reference\":\"Patient/").append(patient).append("\"},")
          .append(obs ? "\"performer\":[{\"reference\":\"Practitioner/" + pr + "\"}]"
              : "\"participant\":[{\"individual\":{\"reference\":\"Practitioner/" + pr + "\"}}]")
          .append("},\"request\":{\"method\":\"POST\",\"url\":\"").append(obs ? "Observation" : "Encounter")
          .append("\"}}");
    }
    HttpResponse<String> r = Http.post(BASE, b.append("]}").toString(), "Content-Type", "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  static double[] time(String url, int rounds, String... headers) {
    for (int i = 0; i < 50; i++) {
      assertThat(Http.get(url, headers).statusCode()).isEqualTo(200);
    }
    double[] ms = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      long t = System.nanoTime();
      HttpResponse<String> r = Http.get(url, headers);
      ms[i] = (System.nanoTime() - t) / 1e6;
      assertThat(r.statusCode()).isEqualTo(200);
    }
    Arrays.sort(ms);
    return ms;
  }

  @Test
  void measure() throws java.sql.SQLException {
    String pr = "lat-pr-" + RUN;
    assertThat(Http.put(BASE + "/Practitioner/" + pr, "{\"resourceType\":\"Practitioner\",\"id\":\"" + pr + "\"}")
        .statusCode()).isEqualTo(201);
    for (int p = 0; p < 40; p++) {
      writePatient("lat-o" + p + "-" + RUN, 200, pr);
    }
    String patient = "lat-p-" + RUN;
    writePatient(patient, 199, pr);
    String url = BASE + "/Patient/" + patient + "/$everything";
    assertThat(Json.parse(Http.get(url + "?_count=1000").body()).get("entry")).hasSize(201);
    String practitioner = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER", List.of("Patient$everything",
        "Patient.read", "Observation.read", "Encounter.read", "Practitioner.read"),
        Map.of("patient_id", BASE + "/Patient/" + patient), null, 3600);
    List<String> lines = new ArrayList<>();
    for (String[] c : List.of(new String[] {"SYSTEM, _count=1000 (all 200 + 1 included)", url + "?_count=1000"},
        new String[] {"SYSTEM, first page, _count=20", url}, new String[] {"SYSTEM, _type=Encounter", url + "?_type=Encounter&_count=1000"})) {
      double[] ms = time(c[1], 300);
      lines.add(String.format("%s: p50 %.1f ms, p99 %.1f ms", c[0], ms[ms.length / 2], ms[(int) (ms.length * 0.99)]));
    }
    double[] ms = time(url + "?_count=1000", 300, "Authorization", practitioner);
    lines.add(String.format("PRACTITIONER with the patient in context, _count=1000: p50 %.1f ms, p99 %.1f ms",
        ms[ms.length / 2], ms[(int) (ms.length * 0.99)]));
    assertThat(Json.parse(Http.get(url + "?_count=1000", "Authorization", practitioner).body()).get("entry")).hasSize(201);
    ms = time(url + "?_count=1000", 300);
    lines.add(String.format("SYSTEM, _count=1000 again: p50 %.1f ms, p99 %.1f ms", ms[ms.length / 2],
        ms[(int) (ms.length * 0.99)]));
    lines.forEach(l -> System.out.println("EVERYTHING LATENCY " + l));
    System.out.println("EVERYTHING PLAN\n" + plan("Patient/" + patient, false));
    // what a larger table gets: the reference rows read by index, a probe per (type, parameter)
    System.out.println("EVERYTHING PLAN WITHOUT SEQUENTIAL SCANS\n" + plan("Patient/" + patient, true));
  }

  /** The plan of the page query as CompartmentSearch writes it for a SYSTEM user, all types. */
  static String plan(String patient, boolean noSeqScan) throws java.sql.SQLException {
    List<String> types = new ArrayList<>();
    List<String> params = new ArrayList<>();
    for (String t : Json.FHIR.getResourceTypes()) {
      Json.FHIR.getResourceDefinition(t).getSearchParamsForCompartmentName("Patient").forEach(sp -> {
        types.add(t);
        params.add(sp.getName());
      });
    }
    StringBuilder out = new StringBuilder();
    try (java.sql.Connection a = TestServer.postgres().getPostgresDatabase().getConnection();
        java.sql.Statement st = a.createStatement()) {
      st.execute("ANALYZE search_reference"); // the statistics autovacuum would have made by now
    }
    try (java.sql.Connection c = TestServer.postgres().getPostgresDatabase().getConnection();
        java.sql.PreparedStatement ps = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) SELECT r.res_type, r.res_id,"
            + " r.version, r.last_updated, r.body, r.tags FROM (SELECT x.res_type, x.res_id FROM unnest(?::text[],"
            + " ?::text[]) AS p(t, prm) CROSS JOIN LATERAL (SELECT x.res_type, x.res_id FROM search_reference x"
            + " WHERE x.res_type = p.t AND x.param = p.prm AND x.ref = ? OFFSET 0) x"
            + " UNION SELECT 'Patient', ?) m CROSS JOIN LATERAL (SELECT * FROM resource r WHERE r.res_type = m.res_type"
            + " AND r.res_id = m.res_id OFFSET 0) r"
            + " WHERE NOT r.deleted AND (r.res_type = ANY(?::text[]) AND true) ORDER BY r.res_type, r.res_id LIMIT 1001")) {
      ps.setObject(1, types.toArray(String[]::new));
      ps.setObject(2, params.toArray(String[]::new));
      ps.setString(3, patient);
      ps.setString(4, patient.substring(8));
      ps.setObject(5, Json.FHIR.getResourceTypes().toArray(String[]::new));
      if (noSeqScan) {
        try (java.sql.Statement st = c.createStatement()) {
          st.execute("SET enable_seqscan = off");
        }
      }
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.append(rs.getString(1)).append('\n');
        }
      }
    }
    return out.toString();
  }
}
