package io.appointmentserver.support;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** JSON helpers for comparing resources in tests. */
public final class Json {
  public static final FhirContext FHIR = FhirContext.forDstu3Cached();
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  public static ObjectNode parse(String json) {
    try {
      return (ObjectNode) MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + json, e);
    }
  }

  /**
   * A copy without the values a server sets itself: {@code meta.lastUpdated} and meta
   * extensions (such as HAPI's resource-meta-source); the whole {@code meta} when
   * {@code dropMeta}.
   */
  public static ObjectNode withoutServerMeta(JsonNode o, boolean dropMeta) {
    ObjectNode copy = ((ObjectNode) o).deepCopy();
    if (dropMeta) {
      copy.remove("meta");
    } else if (copy.has("meta")) {
      ObjectNode meta = (ObjectNode) copy.get("meta");
      meta.remove("lastUpdated");
      meta.remove("extension");
      if (meta.isEmpty()) {
        copy.remove("meta");
      }
    }
    return copy;
  }

  /** The resource as JSON, whatever format it came in. */
  public static ObjectNode resource(String body, String contentType) {
    if (contentType != null && contentType.contains("xml")) {
      var r = FHIR.newXmlParser().parseResource(body);
      return parse(FHIR.newJsonParser().encodeResourceToString(r));
    }
    return parse(body);
  }
}
