package io.appointmentserver.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.appointmentserver.support.ChildServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The first profiled writes of a new server, made while the validator's background warm-up
 * prepares the IG's definitions: every example of the eHealth IG (appointment, communication,
 * patient, practitioner, relatedperson) and an {@code ehealth-episodeofcare}, from several clients
 * at once, right after start. Each request must be answered (not 5xx), the warm-up must finish and
 * the server must close. HAPI's worker context locks each definition while it converts it and
 * generates its snapshot, and a snapshot locks the definitions it rests on: a request and the
 * warm-up preparing definitions in different orders held each other's locks for ever. The server
 * runs in a JVM of its own, as {@code serve} (which starts the warm-up), so that nothing is
 * prepared before; the writes start as soon as it listens.
 */
class ConcurrentFirstValidationTest {
  /** Far longer than the preparation takes on a busy machine: beyond it, the server hangs. */
  private static final long HANG_SECONDS = 240;

  /** As the eHealth service's $validate exchange has it; its references are absolute (other servers). */
  static final String EPISODE_OF_CARE = """
      {"resourceType":"EpisodeOfCare",
       "meta":{"profile":["http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-episodeofcare"]},
       "extension":[{"url":"http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-episodeofcare-caremanagerOrganization",
         "valueReference":{"reference":"https://organization.cit-careplan-1525.local/fhir/Organization/48191"}}],
       "status":"active",
       "diagnosis":[{"condition":{"reference":"https://careplan.cit-careplan-1525.local/fhir/Condition/78"},"rank":1}],
       "patient":{"reference":"https://patient.cit-careplan-1525.local/fhir/Patient/11489"},
       "managingOrganization":{"reference":"https://organization.cit-careplan-1525.local/fhir/Organization/11712"},
       "period":{"start":"1970-01-01T00:00:01+00:00","end":"1970-01-01T00:01:40+00:00"}}""";

  record Write(String name, String type, String body, String contentType) {}

  /** Every IG example (XML, each claiming its profile), and the episode of care. */
  static List<Write> writes() throws IOException {
    Path examples = TestServer.sharedDir().resolve("ehealth-ig").resolve("examples");
    List<Write> out = new ArrayList<>();
    out.add(new Write("ehealth-episodeofcare", "EpisodeOfCare", EPISODE_OF_CARE, "application/fhir+json"));
    try (Stream<Path> files = Files.walk(examples)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".xml")).sorted().toList()) {
        String xml = Files.readString(f);
        String type = Json.resource(xml, "application/fhir+xml").get("resourceType").asText();
        out.add(new Write(examples.relativize(f).toString(), type, xml, "application/fhir+xml"));
      }
    }
    return out;
  }

  @Test
  void everyProfileExampleWrittenAtOnceRightAfterStartIsAnswered() throws Exception {
    List<Write> writes = writes();
    assertThat(writes.stream().map(Write::type).distinct())
        .contains("Appointment", "Communication", "Patient", "Practitioner", "RelatedPerson", "EpisodeOfCare");
    // a JVM of its own: nothing prepared by other tests; the examples' relative references
    // (none resolve here) are not what this is about
    ChildServer server = ChildServer.start(1024, Map.of("FHIR_CHECK_REFERENCES", "false"));
    try {
      // as many clients as writes, each starting with another one: every profile is asked for first
      int clientCount = writes.size();
      ExecutorService clients = Executors.newFixedThreadPool(clientCount);
      List<Future<List<String>>> answers = new ArrayList<>();
      try {
        for (int c = 0; c < clientCount; c++) {
          int first = c;
          answers.add(clients.submit(() -> {
            List<String> statuses = new ArrayList<>();
            for (int i = 0; i < writes.size(); i++) {
              Write w = writes.get((first + i) % writes.size());
              HttpResponse<String> r = Http.post(server.base + "/" + w.type(), w.body(), "Content-Type", w.contentType(),
                  "Accept", "application/fhir+json");
              assertThat(r.statusCode()).as(w.name() + ": " + r.body()).isLessThan(500);
              statuses.add(w.name() + " " + r.statusCode());
            }
            return statuses;
          }));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HANG_SECONDS);
        List<String> statuses = new ArrayList<>();
        for (Future<List<String>> a : answers) {
          try {
            statuses.addAll(a.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
          } catch (TimeoutException | ExecutionException e) {
            fail("a write is not answered (" + e + "):\n" + deadlock(server));
          }
        }
        // each was validated: created, or refused by its profile (some IG examples do not conform);
        // but one, an R4 example (meta.source), which the DSTU3 parser refuses first
        assertThat(statuses).allSatisfy(s -> assertThat(s).matches(".* (201|422)|.*/HanspeterWengerByBFH.xml 400"));
        assertThat(statuses).filteredOn(s -> s.startsWith("ehealth-episodeofcare")).allSatisfy(s -> assertThat(s).endsWith(" 201"));
        assertThat(server.jcmd("Thread.print")).doesNotContain("Found one Java-level deadlock");
      } finally {
        clients.shutdownNow();
      }
      assertThat(server.stop(HANG_SECONDS)).as("the server stops").isTrue();
      assertThat(server.log()).contains("profile validation ready").doesNotContain("Couldn't stop");
    } finally {
      server.close();
    }
  }

  /** The child's thread dump from its deadlock report on, for a failure message. */
  private static String deadlock(ChildServer server) {
    try {
      String dump = server.jcmd("Thread.print");
      int at = dump.indexOf("Found one Java-level deadlock");
      return at < 0 ? "no deadlock found; threads:\n" + dump : dump.substring(at);
    } catch (Exception e) {
      return "no thread dump: " + e;
    }
  }
}
