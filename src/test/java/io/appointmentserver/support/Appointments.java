package io.appointmentserver.support;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.util.UUID;

/** Appointments the tests write. */
public final class Appointments {
  private Appointments() {}

  /**
   * A booked eHealth appointment of care team {@code team} (responsible and participant) for
   * {@code patient}; without an id when {@code id} is null.
   */
  public static String ofCareTeam(String id, String team, String patient) {
    return "{\"resourceType\":\"Appointment\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
        + ",\"extension\":[{\"url\":\"http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-responsible\","
        + "\"valueReference\":{\"reference\":\"" + team + "\"}}],\"status\":\"booked\",\"start\":\"2026-12-01T09:00:00+01:00\",\"end\":\"2026-12-01T09:30:00+01:00\",\"participant\":["
        + "{\"extension\":[{\"url\":\"http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-ext-careteam\","
        + "\"valueReference\":{\"reference\":\"" + team + "\"}}],\"status\":\"accepted\"},"
        + "{\"actor\":{\"reference\":\"Patient/" + patient + "\"},\"status\":\"accepted\"}]}";
  }

  /** The seed appointment under a fresh id, as a tree to modify. */
  public static ObjectNode seed() {
    ObjectNode a;
    try {
      a = Json.parse(Files.readString(TestServer.sharedDir().resolve("seed/request-body.json")));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    a.put("id", "r-" + UUID.randomUUID().toString().substring(0, 8));
    a.remove("meta");
    return a;
  }
}
