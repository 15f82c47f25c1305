package io.appointmentserver.interaction;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.dstu3.model.Resource;

/**
 * A JSON Bundle read in one streaming pass (Jackson) without building its entries' resources:
 * where each entry's {@code resource} lies in the body, and the conditional references
 * ({@code "reference": "Type?params"}) anywhere in them, so that a transaction can resolve
 * those before any entry runs. {@link #skeleton} is the body without the resources (entries,
 * requests, full URLs: small), which HAPI parses as the Bundle; {@link #resource} parses one
 * entry's resource when it runs, so that a large bundle never has all its resources in memory
 * as model objects at once.
 */
public final class StreamedBundle {
  private static final JsonFactory JSON = new JsonFactory();

  private final byte[] body;
  private final int[] start;
  private final int[] end;
  private final Map<String, Integer> conditionalReferences;
  private final byte[] skeleton;

  private StreamedBundle(byte[] body, int[] start, int[] end, Map<String, Integer> conditionalReferences,
      byte[] skeleton) {
    this.body = body;
    this.start = start;
    this.end = end;
    this.conditionalReferences = conditionalReferences;
    this.skeleton = skeleton;
  }

  /**
   * Reads a Bundle's JSON; null when it is not a JSON object with an {@code entry} array of
   * objects (HAPI then parses it as it is and reports what is wrong).
   */
  public static StreamedBundle read(byte[] body) {
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      List<int[]> ranges = new ArrayList<>();
      Map<String, Integer> conditional = new LinkedHashMap<>();
      int entries = -1;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        if (!field.equals("entry")) {
          p.skipChildren();
          continue;
        }
        if (value != JsonToken.START_ARRAY) {
          return null;
        }
        entries = 0;
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
          if (t != JsonToken.START_OBJECT) {
            return null;
          }
          int[] range = {-1, -1, -1, -1}; // the resource value [start, end), the field [start, end)
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            boolean resource = p.currentName().equals("resource");
            int fieldStart = (int) p.currentTokenLocation().getByteOffset();
            JsonToken v = p.nextToken();
            if (resource && v == JsonToken.START_OBJECT) {
              range[0] = (int) p.currentTokenLocation().getByteOffset();
              references(p, conditional, entries);
              range[1] = (int) p.currentLocation().getByteOffset();
              range[2] = fieldStart;
              range[3] = range[1];
            } else {
              p.skipChildren();
            }
          }
          ranges.add(range);
          entries++;
        }
      }
      if (entries < 0 || p.nextToken() != null) {
        return null;
      }
      int[] start = new int[ranges.size()];
      int[] end = new int[ranges.size()];
      for (int i = 0; i < start.length; i++) {
        start[i] = ranges.get(i)[0];
        end[i] = ranges.get(i)[1];
      }
      return new StreamedBundle(body, start, end, conditional, skeleton(body, ranges));
    } catch (IOException e) {
      return null; // not JSON: HAPI says why
    }
  }

  /**
   * Walks an object to its end, collecting the values of {@code reference} fields that are
   * conditional references ({@code Type?params}).
   */
  private static void references(JsonParser p, Map<String, Integer> out, int entry) throws IOException {
    int depth = 1;
    boolean reference = false;
    while (depth > 0) {
      JsonToken t = p.nextToken();
      switch (t) {
        case START_OBJECT, START_ARRAY -> depth++;
        case END_OBJECT, END_ARRAY -> depth--;
        case FIELD_NAME -> {
          reference = p.currentName().equals("reference");
          continue;
        }
        case VALUE_STRING -> {
          if (reference) {
            String v = p.getText();
            int q = v.indexOf('?');
            int slash = v.indexOf('/');
            if (q > 0 && (slash < 0 || slash > q)) {
              out.putIfAbsent(v, entry);
            }
          }
        }
        default -> {}
      }
      reference = false;
    }
  }

  /** The body without the entries' {@code resource} fields (and the comma that went with each). */
  private static byte[] skeleton(byte[] body, List<int[]> ranges) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(body.length, 256 * ranges.size() + 1024));
    int from = 0;
    for (int[] r : ranges) {
      if (r[2] < 0) {
        continue;
      }
      int cutStart = r[2];
      int cutEnd = r[3];
      int next = skipSpace(body, cutEnd);
      if (next < body.length && body[next] == ',') {
        cutEnd = next + 1; // "resource": {...},
      } else {
        int before = cutStart - 1;
        while (before >= from && isSpace(body[before])) {
          before--;
        }
        if (before >= from && body[before] == ',') {
          cutStart = before; // ..., "resource": {...}
        }
      }
      out.write(body, from, cutStart - from);
      from = cutEnd;
    }
    out.write(body, from, body.length - from);
    return out.toByteArray();
  }

  private static int skipSpace(byte[] b, int i) {
    while (i < b.length && isSpace(b[i])) {
      i++;
    }
    return i;
  }

  private static boolean isSpace(byte c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
  }

  /** The Bundle without its entries' resources, for HAPI to parse. */
  public byte[] skeleton() {
    return skeleton;
  }

  /** The whole body as text. */
  String json() {
    return new String(body, StandardCharsets.UTF_8);
  }

  int size() {
    return start.length;
  }

  boolean hasResource(int entry) {
    return entry < start.length && start[entry] >= 0;
  }

  /** The conditional references of the entries' resources, each with the first entry that has it. */
  Map<String, Integer> conditionalReferences() {
    return conditionalReferences;
  }

  /** The entry's resource, parsed anew (each call a new object). */
  Resource resource(FhirContext ctx, int entry) {
    if (!hasResource(entry)) {
      return null;
    }
    InputStreamReader reader = new InputStreamReader(
        new ByteArrayInputStream(body, start[entry], end[entry] - start[entry]), StandardCharsets.UTF_8);
    return (Resource) ctx.newJsonParser().parseResource(reader);
  }
}
