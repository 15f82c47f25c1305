package io.appointmentserver.support;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.dstu3.model.Base64BinaryType;

/**
 * Writes every {@code base64Binary} value of a resource in JSON without whitespace. The DSTU3
 * base64Binary type allows whitespace in its lexical form ({@code (\s*([0-9a-zA-Z\+\=]){4}\s*)+}),
 * and a server that keeps the bytes writes the same bytes back without it: such values are equal
 * when their bytes are. The element types come from HAPI's DSTU3 model, so only real
 * base64Binary elements (in resources, contained resources, Bundle entries and extensions) are
 * touched.
 */
public final class Base64Values {
  private Base64Values() {}

  /** A copy of {@code resource} with whitespace removed from its base64Binary values. */
  public static JsonNode withoutWhitespace(FhirContext ctx, JsonNode resource) {
    JsonNode copy = resource.deepCopy();
    if (copy instanceof ObjectNode o) {
      visit(ctx, o, null);
    }
    return copy;
  }

  private static void visit(FhirContext ctx, ObjectNode node, BaseRuntimeElementCompositeDefinition<?> def) {
    if (node.path("resourceType").isTextual()) {
      try {
        def = ctx.getResourceDefinition(node.get("resourceType").asText());
      } catch (RuntimeException unknownType) {
        return;
      }
    }
    if (def == null) {
      return;
    }
    List<Map.Entry<String, JsonNode>> fields = new ArrayList<>();
    node.fields().forEachRemaining(fields::add);
    for (Map.Entry<String, JsonNode> field : fields) {
      String name = field.getKey();
      BaseRuntimeElementDefinition<?> type = childType(ctx, def, name);
      if (type == null) {
        continue;
      }
      JsonNode value = field.getValue();
      if (value.isArray()) {
        ArrayNode array = (ArrayNode) value;
        for (int i = 0; i < array.size(); i++) {
          JsonNode item = array.get(i);
          if (isBase64(type) && item.isTextual()) {
            array.set(i, TextNode.valueOf(strip(item.asText())));
          } else if (item instanceof ObjectNode o) {
            visit(ctx, o, composite(type));
          }
        }
      } else if (isBase64(type) && value.isTextual()) {
        node.put(name, strip(value.asText()));
      } else if (value instanceof ObjectNode o) {
        visit(ctx, o, composite(type));
      }
    }
  }

  private static BaseRuntimeElementDefinition<?> childType(FhirContext ctx,
      BaseRuntimeElementCompositeDefinition<?> def, String name) {
    if (name.equals("extension") || name.equals("modifierExtension")) {
      return ctx.getElementDefinition("Extension");
    }
    BaseRuntimeChildDefinition child = def.getChildByName(name);
    return child == null ? null : child.getChildByName(name);
  }

  private static boolean isBase64(BaseRuntimeElementDefinition<?> type) {
    return type.getImplementingClass() == Base64BinaryType.class;
  }

  /** Composite types are visited with their definition; resources find theirs by resourceType. */
  private static BaseRuntimeElementCompositeDefinition<?> composite(BaseRuntimeElementDefinition<?> type) {
    return type instanceof BaseRuntimeElementCompositeDefinition<?> c ? c : null;
  }

  private static String strip(String s) {
    return s.replaceAll("\\s+", "");
  }
}
