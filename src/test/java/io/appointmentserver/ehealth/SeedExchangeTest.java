package io.appointmentserver.ehealth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.support.Gzip;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import com.nimbusds.jwt.JWTClaimsSet;
import io.appointmentserver.security.DevKeys;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The exchange the project was created from ({@code ../shared/seed}), answered exactly. */
public class SeedExchangeTest {
  /** The seed's Patient, which its Appointment refers to. */
  public static final String PATIENT_240 = "{\"resourceType\":\"Patient\",\"id\":\"240\",\"name\":[{\"family\":\"Hansen\"}]}";

  @Test
  void seedPutWithIfMatch1AnswersTheRecordedResponse() throws IOException {
    // the state before the exchange: Patient/240 and Appointment/309 at version 1
    assertThat(Http.put(TestServer.base() + "/Patient/240", PATIENT_240).statusCode()).isIn(200, 201);
    replay(TestServer.base());
  }

  /**
   * The seed exchange against the server at {@code base}, which has Patient/240 and signs with the
   * shared server's dev key: Appointment/309 written at a version, then the seed's PUT with If-Match
   * of that version answers the recorded response.
   */
  public static void replay(String base) throws IOException {
    Path seed = TestServer.sharedDir().resolve("seed");
    String requestBody = Files.readString(seed.resolve("request-body.json"));
    ObjectNode expected = Json.parse(Files.readString(seed.resolve("response-body.json")));
    Http.send("DELETE", base + "/Appointment/309", null);
    // version 1 differs from the seed's update (eHealth answers an update of the same content with
    // the current version, as this server does): here in its comment
    ObjectNode before = Json.parse(requestBody);
    before.put("comment", "before the seed's update");
    HttpResponse<String> v1 = Http.put(base + "/Appointment/309", before.toString());
    assertThat(v1.statusCode()).isIn(200, 201);
    String v1Version = Json.parse(v1.body()).get("meta").get("versionId").asText();
    // the seed says If-Match "1": when the test run has written this id before, send the
    // version that is current instead, so that the update is the seed's update
    String ifMatch = "\"" + v1Version + "\"";

    List<String> headers = seedHeaders(seed.resolve("request-headers.txt"), ifMatch, "Bearer " + seedToken(seed));
    HttpResponse<byte[]> response = Http.sendForBytes("PUT", base + "/Appointment/309",
        requestBody.getBytes(java.nio.charset.StandardCharsets.UTF_8), headers.toArray(String[]::new));

    assertThat(response.statusCode()).isEqualTo(200);
    long next = Long.parseLong(v1Version) + 1;
    assertThat(response.headers().firstValue("ETag")).hasValue("W/\"" + next + "\"");
    String body = Gzip.decode(response);
    ObjectNode actual = Json.parse(body);
    if (v1Version.equals("1")) {
      assertThat(Json.withoutServerMeta(actual, false)).isEqualTo(Json.withoutServerMeta(expected, false));
    } else {
      assertThat(Json.withoutServerMeta(actual, true)).isEqualTo(Json.withoutServerMeta(expected, true));
      assertThat(actual.get("meta").get("versionId").asText()).isEqualTo(Long.toString(next));
    }
    assertThat(actual.get("meta").get("lastUpdated").asText())
        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\+0[12]:00");
  }

  /** The seed token's claims, re-signed with the test server's key and valid from now. */
  static String seedToken(Path seed) throws IOException {
    try {
      JWTClaimsSet recorded = JWTClaimsSet.parse(Files.readString(seed.resolve("token-claims.json")));
      long now = System.currentTimeMillis();
      JWTClaimsSet fresh = new JWTClaimsSet.Builder(recorded)
          .issueTime(new Date(now)).expirationTime(new Date(now + 300_000)).build();
      return DevKeys.sign(TestServer.dataDir(), fresh);
    } catch (ParseException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The recorded headers, minus the request line, with this run's If-Match and Authorization. */
  static List<String> seedHeaders(Path file, String ifMatch, String authorization) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      int colon = line.indexOf(':');
      if (line.startsWith("PUT ") || colon < 0) {
        continue;
      }
      String name = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      if (name.equalsIgnoreCase("If-Match")) {
        value = ifMatch;
      }
      if (name.equalsIgnoreCase("Authorization")) {
        value = authorization;
      }
      out.add(name);
      out.add(value);
    }
    return out;
  }
}
