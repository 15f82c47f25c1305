package io.appointmentserver.http;

import io.appointmentserver.support.TestServer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The requests of {@link FuzzTest} before they are mutated: one of every interaction (read, vread,
 * create, update, patch, delete, history, search, batch, transaction, the conditional ones,
 * $exportAsiCal, metadata and health) on the fuzzer's own resources ({@code fz-*}, identifier system
 * {@code urn:fz}), then handed to {@link FuzzMutations}.
 */
final class FuzzRequests {
  private static final String[] TYPES = {"Patient", "Appointment", "Practitioner"};

  /** The seed appointment as the fuzzer's {@code fz-a1}, the body of Appointment writes. */
  private final String appointment;

  FuzzRequests(String appointment) {
    this.appointment = appointment;
  }

  FuzzRequest generate(Random rnd) {
    FuzzRequest r = new FuzzRequest();
    r.header("Authorization", "Bearer " + TestServer.systemToken());
    r.header("Accept", "application/fhir+json");
    int kind = rnd.nextInt(16);
    r.interaction = List.of("read", "vread", "create", "update", "patch", "delete", "history", "search", "search",
        "search-post", "batch", "transaction", "conditional-create", "conditional", "exportAsiCal", "other").get(kind);
    String type = pick(rnd, TYPES);
    String id = "fz-" + (type.equals("Patient") ? "p" : type.equals("Appointment") ? "a" : "pr") + (1 + rnd.nextInt(3));
    switch (kind) {
      case 0 -> { // read (FastRead and HAPI)
        r.method = "GET";
        r.path = "/fhir/" + type + "/" + id;
      }
      case 1 -> { // vread
        r.method = "GET";
        r.path = "/fhir/" + type + "/" + id + "/_history/" + (1 + rnd.nextInt(3));
      }
      case 2 -> { // create
        r.method = "POST";
        r.path = "/fhir/" + type;
        r.body = body(type, null);
      }
      case 3 -> { // update
        r.method = "PUT";
        r.path = "/fhir/" + type + "/" + id;
        r.body = body(type, id);
        if (rnd.nextBoolean()) {
          r.header("If-Match", "W/\"" + (1 + rnd.nextInt(3)) + "\"");
        }
      }
      case 4 -> { // patch
        r.method = "PATCH";
        r.path = "/fhir/Patient/fz-p" + (1 + rnd.nextInt(3));
        r.body = "[{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"Patched\"},{\"op\":\"add\",\"path\":\"/active\",\"value\":true}]"
            .getBytes(StandardCharsets.UTF_8);
        r.header("Content-Type", "application/json-patch+json");
      }
      case 5 -> { // delete
        r.method = "DELETE";
        r.path = "/fhir/Patient/fz-p" + (2 + rnd.nextInt(2));
      }
      case 6 -> { // history
        r.method = "GET";
        r.path = pick(rnd, "/fhir/" + type + "/" + id + "/_history", "/fhir/" + type + "/_history", "/fhir/_history");
        r.query = pick(rnd, null, "_count=2", "_since=2020-01-01", "_count=1&_offset=1");
      }
      case 7, 8 -> { // search
        r.method = "GET";
        r.path = "/fhir/" + type;
        r.query = pick(rnd, "identifier=urn:fz|v", "name=Fuzz&_count=2", "_id=fz-p1&_include=Patient:general-practitioner",
            "status=booked&_sort=-date", "_has:Appointment:patient:status=booked", "family=Fuzz&_total=accurate");
      }
      case 9 -> { // search by POST
        r.method = "POST";
        r.path = "/fhir/" + type + "/_search";
        r.body = pick(rnd, "identifier=urn%3Afz%7Cv", "name=Fuzz&_count=1", "_id=fz-p1").getBytes(StandardCharsets.UTF_8);
        r.header("Content-Type", "application/x-www-form-urlencoded");
      }
      case 10 -> { // batch
        r.method = "POST";
        r.path = "/fhir";
        r.body = bundle("batch", rnd).getBytes(StandardCharsets.UTF_8);
      }
      case 11 -> { // transaction
        r.method = "POST";
        r.path = "/fhir";
        r.body = bundle("transaction", rnd).getBytes(StandardCharsets.UTF_8);
      }
      case 12 -> { // conditional create
        r.method = "POST";
        r.path = "/fhir/Patient";
        r.body = patient(null).getBytes(StandardCharsets.UTF_8);
        r.header("If-None-Exist", "identifier=urn:fz|v" + rnd.nextInt(3));
      }
      case 13 -> { // conditional update, patch, delete
        r.method = pick(rnd, "PUT", "DELETE", "PATCH");
        r.path = "/fhir/Patient";
        r.query = "identifier=urn:fz|c" + rnd.nextInt(3);
        if (r.method.equals("PUT")) {
          r.body = patient(null).replace("\"value\":\"v\"", "\"value\":\"c0\"").getBytes(StandardCharsets.UTF_8);
        } else if (r.method.equals("PATCH")) {
          r.body = "[{\"op\":\"replace\",\"path\":\"/active\",\"value\":false}]".getBytes(StandardCharsets.UTF_8);
          r.header("Content-Type", "application/json-patch+json");
        }
      }
      case 14 -> { // $exportAsiCal
        r.method = "GET";
        r.path = "/fhir/Appointment/fz-a" + (1 + rnd.nextInt(2)) + "/$exportAsiCal";
        r.header("Accept", pick(rnd, "text/calendar", "application/fhir+json", "application/fhir+xml"));
      }
      default -> { // metadata, health
        r.method = "GET";
        r.path = pick(rnd, "/fhir/metadata", "/health");
      }
    }
    r.writes = !r.method.equals("GET");
    if (r.body != null && r.headers.stream().noneMatch(h -> h[0].equals("Content-Type"))) {
      r.header("Content-Type", "application/fhir+json; charset=UTF-8");
    }
    FuzzMutations.apply(r, rnd);
    // a mutation may turn a read into a write (another method): the database is checked then too
    r.writes = !r.method.equals("GET") && !r.method.equals("HEAD");
    return r;
  }

  private byte[] body(String type, String id) {
    String json = switch (type) {
      case "Appointment" -> id == null ? appointment.replace("\"id\" : \"fz-a1\",", "")
          : appointment.replace("\"fz-a1\"", "\"" + id + "\"");
      case "Patient" -> patient(id);
      default -> "{\"resourceType\":\"Practitioner\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
          + ",\"name\":[{\"family\":\"Fuzz\"}],\"active\":true}";
    };
    return json.getBytes(StandardCharsets.UTF_8);
  }

  private static String bundle(String type, Random rnd) {
    List<String> entries = new ArrayList<>();
    int n = 1 + rnd.nextInt(4);
    for (int i = 0; i < n; i++) {
      String full = "urn:uuid:00000000-0000-4000-8000-00000000000" + i;
      entries.add(switch (rnd.nextInt(6)) {
        case 0 -> "{\"fullUrl\":\"" + full + "\",\"resource\":" + patient(null)
            + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}";
        case 1 -> "{\"fullUrl\":\"" + full + "\",\"resource\":" + patient("fz-p" + (2 + rnd.nextInt(2)))
            .replace("Practitioner/fz-pr1", "urn:uuid:00000000-0000-4000-8000-000000000000")
            + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/fz-p" + (2 + rnd.nextInt(2)) + "\"}}";
        case 2 -> "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/fz-p1\"}}";
        case 3 -> "{\"request\":{\"method\":\"GET\",\"url\":\"Patient?identifier=urn:fz|v&_count=2\"}}";
        case 4 -> "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/fz-p3\"}}";
        default -> "{\"resource\":" + patient(null) + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\","
            + "\"ifNoneExist\":\"identifier=urn:fz|v2\"}}";
      });
    }
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + String.join(",", entries) + "]}";
  }

  static String patient(String id) {
    return "{\"resourceType\":\"Patient\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
        + ",\"identifier\":[{\"system\":\"urn:fz\",\"value\":\"v\"}],\"active\":true,"
        + "\"name\":[{\"family\":\"Fuzz\",\"given\":[\"Fuzzy\"]}],\"gender\":\"female\",\"birthDate\":\"1970-01-01\","
        + "\"multipleBirthInteger\":2,\"generalPractitioner\":[{\"reference\":\"Practitioner/fz-pr1\"}]}";
  }

  @SafeVarargs
  static <T> T pick(Random rnd, T... options) {
    return options[rnd.nextInt(options.length)];
  }
}
