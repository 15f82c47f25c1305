package io.appointmentserver.support;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeSet;

/**
 * Strict structural comparison of two JSON trees that names where they differ. Numbers compare
 * by their text as written ({@code 1.50} is not {@code 1.5}, {@code 1.0} is not {@code 1}), since
 * FHIR decimals keep their precision.
 */
public final class JsonDiff {
  static final ObjectMapper EXACT = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

  private JsonDiff() {}

  /** Parses keeping the numbers' text; a leading byte order mark is ignored. */
  public static JsonNode parse(String json) {
    try {
      return EXACT.readTree(json.startsWith("\uFEFF") ? json.substring(1) : json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON: " + abbreviate(json, 300), e);
    }
  }

  /** Up to {@code max} differences, each "path: expected ... but was ..."; empty when equal. */
  public static List<String> diff(JsonNode expected, JsonNode actual, int max) {
    List<String> out = new ArrayList<>();
    walk("", expected, actual, out, max);
    return out;
  }

  private static void walk(String path, JsonNode e, JsonNode a, List<String> out, int max) {
    if (out.size() >= max) {
      return;
    }
    if (e == null || a == null || e.getNodeType() != a.getNodeType()) {
      out.add(at(path) + ": expected " + show(e) + " but was " + show(a));
      return;
    }
    if (e.isObject()) {
      TreeSet<String> names = new TreeSet<>();
      e.fieldNames().forEachRemaining(names::add);
      a.fieldNames().forEachRemaining(names::add);
      for (String n : names) {
        walk(path + "." + n, e.get(n), a.get(n), out, max);
      }
    } else if (e.isArray()) {
      if (e.size() != a.size()) {
        out.add(at(path) + ": expected " + e.size() + " items but was " + a.size() + " (expected "
            + show(e) + " but was " + show(a) + ")");
        return;
      }
      Iterator<JsonNode> ei = e.elements();
      Iterator<JsonNode> ai = a.elements();
      for (int i = 0; ei.hasNext(); i++) {
        walk(path + "[" + i + "]", ei.next(), ai.next(), out, max);
      }
    } else if (e.isNumber()) {
      if (!e.asText().equals(a.asText())) {
        out.add(at(path) + ": expected " + e.asText() + " but was " + a.asText());
      }
    } else if (!e.equals(a)) {
      out.add(at(path) + ": expected " + show(e) + " but was " + show(a));
    }
  }

  private static String at(String path) {
    return path.isEmpty() ? "(root)" : path.substring(1);
  }

  private static String show(JsonNode n) {
    return n == null ? "(absent)" : abbreviate(n.toString(), 200);
  }

  public static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "...(" + s.length() + " chars)";
  }
}
