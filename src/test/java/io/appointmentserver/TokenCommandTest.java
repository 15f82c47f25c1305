package io.appointmentserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.appointmentserver.security.DevKeys;
import io.appointmentserver.support.ChildServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The {@code token} command in a JVM of its own: it signs with the key of {@code FHIR_DATA_DIR}
 * as {@code serve} resolves it, from any working directory, and says which key; a practitioner
 * token for the seed's care team (the README's example) reads the seed appointment, one for
 * another team gets a 403 naming the context it expected.
 */
class TokenCommandTest {
  private static final String TEAM = "http://organization.fut.trifork.com/fhir/CareTeam/35102";

  private record Out(int exit, String stdout, String stderr) {}

  private static Out token(Path workingDir, String dataDir, String... args) throws Exception {
    return token(Files.createTempDirectory("no-state"), workingDir, dataDir, args);
  }

  private static Out token(Path stateHome, Path workingDir, String dataDir, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("token"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = ChildServer.main(List.of(), cmd.toArray(String[]::new)).directory(workingDir.toFile());
    pb.environment().put("XDG_STATE_HOME", stateHome.toString());
    if (dataDir != null) {
      pb.environment().put("FHIR_DATA_DIR", dataDir);
    }
    Process p = pb.start();
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return e.toString();
      }
    });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Out(p.exitValue(), out, err.get());
  }

  @Test
  void signsWithTheServersKeyFromAnyWorkingDirectory() throws Exception {
    Path dataDir = TestServer.dataDir().toAbsolutePath().normalize();
    String kid = DevKeys.load(dataDir).getKeyID();
    Path keyFile = DevKeys.file(dataDir);

    // an absolute FHIR_DATA_DIR, run elsewhere
    Out elsewhere = token(Files.createTempDirectory("elsewhere"), dataDir.toString());
    // a relative one, run where it resolves to the same directory
    Out relative = token(dataDir.getParent(), dataDir.getFileName().toString());
    for (Out o : List.of(elsewhere, relative)) {
      assertThat(o.exit()).as(o.stderr()).isZero();
      assertThat(o.stderr()).contains("signed with the dev key " + kid + " in " + keyFile).doesNotContain("new:");
      HttpResponse<String> r = Http.get(TestServer.base() + "/Patient?_count=1", "Authorization",
          "Bearer " + o.stdout());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
  }

  @Test
  void withoutFhirDataDirItFindsTheKeyOfTheDevServerStartedLastFromAnyFolder() throws Exception {
    Path state = Files.createTempDirectory("state");
    Path dataDir = TestServer.dataDir().toAbsolutePath().normalize();
    try (ChildServer server = ChildServer.start(512, java.util.Map.of("XDG_STATE_HOME", state.toString()))) {
      Path record = state.resolve("appointment-server").resolve("dev-data-dir");
      assertThat(Files.readString(record).trim()).isEqualTo(dataDir.toString());

      Out o = token(state, Files.createTempDirectory("anywhere"), null);
      assertThat(o.exit()).as(o.stderr()).isZero();
      assertThat(o.stderr()).contains("using the data directory of the dev server started last")
          .contains("signed with the dev key " + DevKeys.load(dataDir).getKeyID() + " in " + DevKeys.file(dataDir));
      HttpResponse<String> r = Http.get(server.base + "/Patient?_count=1", "Authorization", "Bearer " + o.stdout());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
  }

  @Test
  void saysWhenItMadeANewKey() throws Exception {
    Path empty = Files.createTempDirectory("no-server");
    Out o = token(empty, null);
    assertThat(o.exit()).isZero();
    assertThat(o.stderr()).contains("in " + empty.toRealPath().resolve("data").resolve("dev-signing-key.json"))
        .contains("new: no server has run on FHIR_DATA_DIR");
    // not the shared server's key: it refuses the token
    HttpResponse<String> r = Http.get(TestServer.base() + "/Patient?_count=1", "Authorization", "Bearer " + o.stdout());
    assertThat(r.statusCode()).isEqualTo(401);
  }

  @Test
  void practitionerOfTheSeedCareTeamAndA403NamingTheExpectedContext() throws Exception {
    String base = TestServer.base();
    String body = Files.readString(TestServer.sharedDir().resolve("seed").resolve("request-body.json"))
        .replace("\"id\" : \"309\"", "\"id\" : \"ops-309\"").replace("Patient/240", "Patient/ops-240");
    assertThat(Http.put(base + "/Patient/ops-240", "{\"resourceType\":\"Patient\",\"id\":\"ops-240\"}").statusCode())
        .isIn(200, 201);
    HttpResponse<String> put = Http.put(base + "/Appointment/ops-309", body);
    assertThat(put.statusCode()).as(put.body()).isIn(200, 201);

    String dataDir = TestServer.dataDir().toString();
    Out ours = token(Path.of("."), dataDir, "--user-type", "PRACTITIONER", "--roles", "Appointment.read",
        "--care-team", TEAM);
    HttpResponse<String> read = Http.get(base + "/Appointment/ops-309", "Authorization", "Bearer " + ours.stdout());
    assertThat(read.statusCode()).as(read.body()).isEqualTo(200);

    Out other = token(Path.of("."), dataDir, "--user-type", "PRACTITIONER", "--roles", "Appointment.read",
        "--care-team", "http://organization.fut.trifork.com/fhir/CareTeam/1");
    HttpResponse<String> refused = Http.get(base + "/Appointment/ops-309", "Authorization",
        "Bearer " + other.stdout());
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).contains("SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT")
        .contains("expected a reference to http://organization.fut.trifork.com/fhir/CareTeam/1");
  }
}
