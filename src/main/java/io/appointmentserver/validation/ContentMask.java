package io.appointmentserver.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Masks what the server makes anew on every write (assigned identifiers) and free text in the
 * content to validate, so that contents differing only there share one remembered outcome.
 */
final class ContentMask {
  /** What an assigned identifier's value is validated as: the shape the server makes them in. */
  static final String ASSIGNED_PLACEHOLDER = "00000000-0000-4000-8000-000000000000";
  private static final java.util.regex.Pattern ASSIGNED_SHAPE =
      java.util.regex.Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

  /**
   * Reads JSON into trees that write back as read: decimals keep their digits (1.50 stays 1.50,
   * which precision checks see), objects their order.
   */
  private static final com.fasterxml.jackson.databind.ObjectMapper TREES =
      com.fasterxml.jackson.databind.json.JsonMapper.builder()
          .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .disable(com.fasterxml.jackson.databind.cfg.JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
          .enable(com.fasterxml.jackson.core.StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
          .build();

  private final Set<String> assignedIdentifierSystems;

  /** @param assignedIdentifierSystems identifier systems whose values the server assigns */
  ContentMask(Set<String> assignedIdentifierSystems) {
    this.assignedIdentifierSystems = Set.copyOf(assignedIdentifierSystems);
  }

  /**
   * The content validated, which is also the key of the remembered outcomes: {@code json} (the
   * resource without what the server sets) with the values of assigned identifiers (random UUIDs)
   * replaced by one fixed UUID, which passes and fails the same checks, so that two creates of the
   * same appointment, each with its own new identifier, are validated once; and the free text named
   * in {@code freeTextNames} replaced by a placeholder, its values put in {@code freeText}.
   */
  String masked(String json, Set<String> freeTextNames, Map<String, String> freeText) {
    boolean any = !assignedIdentifierSystems.isEmpty() && json.contains("\"identifier\":");
    for (String name : freeTextNames) {
      any |= json.contains("\"" + name + "\":");
    }
    if (!any) {
      return json; // nothing to mask: no tree
    }
    ObjectNode root;
    try {
      root = (ObjectNode) TREES.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (String name : freeTextNames) {
      // a plain value only: with an id or extensions (in "_name") the element has more than its value to check
      if (root.get(name) instanceof TextNode text && !root.has("_" + name)) {
        freeText.put(name, text.textValue());
        root.put(name, FreeText.PLACEHOLDER);
      }
    }
    JsonNode identifiers = assignedIdentifierSystems.isEmpty() ? null : root.get("identifier");
    Iterable<JsonNode> each = identifiers == null ? List.of() : identifiers.isArray() ? identifiers : List.of(identifiers);
    for (JsonNode id : each) {
      if (id instanceof ObjectNode o && o.get("system") instanceof TextNode system
          && assignedIdentifierSystems.contains(system.textValue()) && o.get("value") instanceof TextNode value
          && ASSIGNED_SHAPE.matcher(value.textValue()).matches()) {
        o.put("value", ASSIGNED_PLACEHOLDER);
      }
    }
    try {
      return TREES.writeValueAsString(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
