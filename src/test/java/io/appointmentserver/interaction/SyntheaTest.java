package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.Config;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real data: the STU3 patients Synthea generated in this build (the pom's exec-maven-plugin run,
 * into {@code target/synthea}) load into an empty database as a client would send them, the
 * hospital and practitioner batches first, then every patient transaction (whose references to
 * them are conditional references, {@code Practitioner?identifier=...}); afterwards every
 * resource is readable and the counts per type are the bundles' counts.
 */
class SyntheaTest {
  private static AppointmentServer server;
  private static String base;

  @BeforeAll
  static void start() throws Exception {
    // an empty database of its own: the counts per type are then exactly the bundles' counts
    Config empty = TestServer.withFreshDatabase(TestServer.config(), "synthea");
    server = TestServer.another(c -> empty);
    base = "http://127.0.0.1:" + server.port() + "/fhir";
  }

  @AfterAll
  static void stop() throws Exception {
    try (AppointmentServer s = server) {
      server = null;
    }
  }

  /** Synthea's STU3 output folder of this build. */
  static Path folder() {
    return Path.of(System.getProperty("synthea.dir", "target/synthea")).resolve("fhir_stu3");
  }

  /** The bundles to load in order: the newest hospital and practitioner files, then the patients. */
  static List<Path> bundles() throws IOException {
    List<Path> all;
    try (Stream<Path> s = Files.list(folder())) {
      all = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
    List<Path> ordered = new ArrayList<>();
    // a rebuild without clean leaves older, timestamped hospital and practitioner files beside
    ordered.add(newest(all, "hospitalInformation"));
    ordered.add(newest(all, "practitionerInformation"));
    all.stream().filter(p -> !p.getFileName().toString().matches("(hospital|practitioner)Information.*"))
        .forEach(ordered::add);
    return ordered;
  }

  private static Path newest(List<Path> files, String prefix) {
    return files.stream().filter(p -> p.getFileName().toString().startsWith(prefix))
        .max(Comparator.comparing(p -> p.toFile().lastModified()))
        .orElseThrow(() -> new IllegalStateException("no " + prefix + " bundle in " + folder()));
  }

  @Test
  void everySyntheaBundleLoadsAndEveryResourceIsReadableAndCounted() throws IOException {
    List<Path> bundles = bundles();
    assertThat(bundles).hasSizeGreaterThanOrEqualTo(2 + 5);
    Map<String, Integer> expected = new TreeMap<>();
    List<String> locations = new ArrayList<>();
    for (Path file : bundles) {
      String body = Files.readString(file);
      JsonNode request = Json.parse(body);
      HttpResponse<String> r = Http.post(base, body, "Authorization", "Bearer " + TestServer.systemToken());
      String name = file.getFileName().toString();
      assertThat(r.statusCode()).as(name + ": " + abbreviate(r.body())).isEqualTo(200);
      JsonNode entries = Json.parse(r.body()).get("entry");
      assertThat(entries).as(name).hasSize(request.get("entry").size());
      for (int i = 0; i < entries.size(); i++) {
        JsonNode e = entries.get(i);
        assertThat(e.at("/response/status").asText()).as(name + " entry " + i + ": " + e).isEqualTo("201 Created");
        expected.merge(request.get("entry").get(i).at("/resource/resourceType").asText(), 1, Integer::sum);
        String location = e.at("/response/location").asText();
        locations.add(location.substring(0, location.indexOf("/_history/")));
      }
    }
    assertThat(expected.keySet()).contains("Patient", "Encounter", "Observation", "Practitioner", "Organization");

    Map<String, Integer> counted = new TreeMap<>();
    for (String type : expected.keySet()) {
      HttpResponse<String> r = Http.get(base + "/" + type + "?_summary=count");
      assertThat(r.statusCode()).as(type + ": " + r.body()).isEqualTo(200);
      counted.put(type, Json.parse(r.body()).get("total").asInt());
    }
    assertThat(counted).isEqualTo(expected);

    for (String location : locations) {
      HttpResponse<String> r = Http.get(base + "/" + location);
      assertThat(r.statusCode()).as(location + ": " + abbreviate(r.body())).isEqualTo(200);
    }

    // the conditional references were replaced by the practitioners and organizations they found
    JsonNode encounters = Json.parse(Http.get(base + "/Encounter?_count=50").body()).get("entry");
    assertThat(encounters).isNotEmpty();
    for (JsonNode e : encounters) {
      for (String ref : List.of(e.at("/resource/participant/0/individual/reference").asText(),
          e.at("/resource/serviceProvider/reference").asText())) {
        assertThat(ref).matches("(Practitioner|Organization)/[A-Za-z0-9.-]+");
        assertThat(Http.get(base + "/" + ref).statusCode()).as(ref).isEqualTo(200);
      }
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 2000 ? s.substring(0, 2000) + "..." : s;
  }
}
