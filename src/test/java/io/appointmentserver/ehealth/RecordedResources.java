package io.appointmentserver.ehealth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.support.Gzip;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.JsonDiff;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How {@link IgExchangesTest} compares a resource the server answered with the recorded one: equal
 * but for what a server sets itself (meta.lastUpdated, meta extensions, the eHealth identifier, the
 * version, the id of a create, a video meeting's URL and PIN), each set aside here explicitly.
 */
final class RecordedResources {
  private RecordedResources() {}

  static ObjectNode json(HttpResponse<byte[]> r) {
    return Json.resource(Gzip.decode(r), r.headers().firstValue("Content-Type").orElse(null));
  }

  /** Equal but for meta.lastUpdated and meta extensions, which a server sets. */
  static void assertSameResource(ObjectNode actual, ObjectNode expected) {
    actual = withoutEhealthIdentifier(actual, expected);
    JsonNode a = JsonDiff.parse(Json.withoutServerMeta(actual, false).toString());
    JsonNode e = JsonDiff.parse(Json.withoutServerMeta(expected, false).toString());
    assertThat(JsonDiff.diff(e, a, 20)).as("differences from the recorded resource; actual " + actual).isEmpty();
  }

  /**
   * The eHealth identifier is a server-set value (added on create; the 2019 recordings predate
   * it): it is left out of the comparison unless the recording has it too.
   */
  private static ObjectNode withoutEhealthIdentifier(ObjectNode actual, ObjectNode expected) {
    if (expected.has("identifier") || !actual.has("identifier")) {
      return actual;
    }
    ObjectNode copy = actual.deepCopy();
    com.fasterxml.jackson.databind.node.ArrayNode kept = copy.putArray("identifier");
    actual.get("identifier").forEach(i -> {
      if (!"http://ehealth.sundhed.dk/id/ehealth-identifier".equals(i.path("system").asText())) {
        kept.add(i);
      }
    });
    if (kept.isEmpty()) {
      copy.remove("identifier");
    }
    return copy;
  }

  static long versionOf(ObjectNode resource) {
    return Long.parseLong(resource.at("/meta/versionId").asText());
  }

  static ObjectNode withVersion(ObjectNode resource, long version) {
    ObjectNode copy = resource.deepCopy();
    if (!(copy.get("meta") instanceof ObjectNode)) {
      copy.putObject("meta");
    }
    ((ObjectNode) copy.get("meta")).put("versionId", Long.toString(version));
    return copy;
  }

  static ObjectNode withoutId(ObjectNode resource) {
    ObjectNode copy = resource.deepCopy();
    copy.remove("id");
    return copy;
  }

  static ObjectNode withId(ObjectNode resource, String id) {
    ObjectNode copy = resource.deepCopy();
    copy.put("id", id);
    return copy;
  }

  static ObjectNode sortedExtensions(ObjectNode resource) {
    ObjectNode copy = resource.deepCopy();
    if (copy.get("extension") instanceof ArrayNode exts) {
      List<JsonNode> items = new ArrayList<>();
      exts.forEach(items::add);
      items.sort(Comparator.comparing(JsonNode::toString));
      exts.removeAll();
      items.forEach(exts::add);
    }
    return copy;
  }

  /** The recorded resource with the meeting this server booked instead of the recorded one. */
  static ObjectNode withMeeting(ObjectNode resource, String meetingUrl, String pin) {
    ObjectNode copy = resource.deepCopy();
    for (JsonNode ext : copy.path("extension")) {
      String url = ext.path("url").asText();
      if (url.equals(IgExchangesTest.EHEALTH_SD + "ehealth-meeting-url")) {
        ((ObjectNode) ext).put("valueUri", meetingUrl);
      } else if (url.equals(IgExchangesTest.EHEALTH_SD + "ehealth-pin-code")) {
        ((ObjectNode) ext).put("valueString", pin);
      }
    }
    return copy;
  }

  static String extensionValue(ObjectNode resource, String url, String valueField) {
    for (JsonNode ext : resource.path("extension")) {
      if (ext.path("url").asText().equals(url)) {
        return ext.path(valueField).asText(null);
      }
    }
    return null;
  }

  /** Writes {@code json} as {@code type/id} on the replaying server at {@code base} (SYSTEM token); its version. */
  static long put(String base, String type, String id, String json) {
    HttpResponse<String> r = io.appointmentserver.support.Http.put(base + "/" + type + "/" + id, json);
    assertThat(r.statusCode()).as("PUT " + type + "/" + id + ": " + r.body()).isIn(200, 201);
    return Long.parseLong(Json.parse(r.body()).at("/meta/versionId").asText());
  }

  /** The current version of {@code type/id} on the replaying server at {@code base}. */
  static ObjectNode read(String base, String type, String id) {
    HttpResponse<String> r = io.appointmentserver.support.Http.get(base + "/" + type + "/" + id);
    assertThat(r.statusCode()).as("GET " + type + "/" + id + ": " + r.body()).isEqualTo(200);
    return Json.parse(r.body());
  }
}
