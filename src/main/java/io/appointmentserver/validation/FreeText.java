package io.appointmentserver.validation;

import ca.uhn.fhir.context.support.IValidationSupport;
import com.fasterxml.jackson.core.JsonFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r5.model.StructureDefinition;
import org.hl7.fhir.utilities.validation.ValidationMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Free text (an Appointment's {@code comment} and {@code description}): top-level string
 * elements whose value only their own checks read. It is left out of the content whose outcome
 * is remembered (replaced by {@link #PLACEHOLDER}) and validated on its own, in a small resource
 * holding only it, so an update that changes only the comment reuses the outcome of the rest.
 * Which elements are free text depends on the definitions: one per generation.
 */
final class FreeText {
  // the validator's log lines keep the one logger name they have always had
  private static final Logger log = LoggerFactory.getLogger(ProfileValidator.class);
  private static final JsonFactory JSON = new JsonFactory();
  /** What free text is validated as, in the content it belongs to: a plain string no check refuses. */
  static final String PLACEHOLDER = "free-text";
  private static final java.util.regex.Pattern LITERAL = java.util.regex.Pattern.compile("'(?:[^'\\\\]|\\\\.)*'");
  private static final java.util.regex.Pattern TRAVERSAL =
      java.util.regex.Pattern.compile("(?<![A-Za-z0-9_])(?:descendants|children|allDescendants)\\s*\\(\\s*\\)");
  private static final java.util.regex.Pattern PRESENCE =
      java.util.regex.Pattern.compile("\\s*\\.\\s*(?:exists|empty|count|hasValue)\\s*\\(\\s*\\)");
  private static final java.util.regex.Pattern NAMED_STEP =
      java.util.regex.Pattern.compile("\\s*\\.\\s*([A-Za-z_][A-Za-z0-9_]*+)(?!\\s*\\()");

  private final IValidationSupport chain;
  private final RememberingWorkerContext worker;
  /** A claimed profile's definition, or null when unknown. */
  private final Function<String, StructureDefinition> profile;
  /** {@link #names} by resource type and claimed profiles (known ones only). */
  private final Map<String, Set<String>> byClaim = new ConcurrentHashMap<>();
  /** {@link #unreadElsewhere} by element name. */
  private final Map<String, Boolean> unreadElsewhere = new ConcurrentHashMap<>();

  /**
   * @param chain   what the generation knows
   * @param worker  the generation's worker context, prepared
   * @param profile a claimed profile's definition, or null when unknown
   */
  FreeText(IValidationSupport chain, RememberingWorkerContext worker, Function<String, StructureDefinition> profile) {
    this.chain = chain;
    this.worker = worker;
    this.profile = profile;
  }

  /**
   * The top-level string elements of {@code type} whose value only their own checks read, for
   * resources claiming {@code profileUrls}: none if a profile is unknown.
   */
  Set<String> names(String type, List<String> profileUrls) {
    String key = type + " " + String.join(" ", profileUrls);
    Set<String> known = byClaim.get(key);
    if (known != null) {
      return known;
    }
    List<StructureDefinition> definitions = new ArrayList<>();
    definitions.add(worker.fetchResource(StructureDefinition.class, "http://hl7.org/fhir/StructureDefinition/" + type));
    for (String url : profileUrls) {
      definitions.add(profile.apply(url));
    }
    if (definitions.contains(null)) {
      return Set.of(); // not remembered: the URLs come from the content
    }
    Set<String> names = new java.util.TreeSet<>();
    for (org.hl7.fhir.r5.model.ElementDefinition ed : definitions.get(0).getSnapshot().getElement()) {
      String path = ed.getPath();
      String name = path.startsWith(type + ".") ? path.substring(type.length() + 1) : "";
      if (!name.isEmpty() && !name.contains(".") && "1".equals(ed.getMax()) && onlyString(ed)
          && definitions.stream().allMatch(sd -> checkedOnItsOwn(sd, path)) && unreadElsewhere(name)) {
        names.add(name);
      }
    }
    Set<String> found = Set.copyOf(names);
    byClaim.put(key, found);
    return found;
  }

  /**
   * Whether no invariant of any definition this generation knows reads the value of an element
   * named {@code name} (they may ask whether it is there: masking keeps it there).
   */
  private boolean unreadElsewhere(String name) {
    return unreadElsewhere.computeIfAbsent(name, n -> {
      for (IBaseResource r : chain.fetchAllStructureDefinitions()) {
        if (r instanceof org.hl7.fhir.dstu3.model.StructureDefinition sd) {
          for (List<org.hl7.fhir.dstu3.model.ElementDefinition> elements :
              List.of(sd.getSnapshot().getElement(), sd.getDifferential().getElement())) {
            for (org.hl7.fhir.dstu3.model.ElementDefinition ed : elements) {
              for (org.hl7.fhir.dstu3.model.ElementDefinition.ElementDefinitionConstraintComponent c : ed.getConstraint()) {
                if (c.hasExpression() && !leavesValueUnread(c.getExpression(), n)) {
                  log.info("{} is validated with its resource: {} {} reads it", n, c.getKey(), c.getExpression());
                  return false;
                }
              }
            }
          }
        }
      }
      return true;
    });
  }

  /**
   * Whether a FHIRPath invariant cannot read the value of elements named {@code name}: it names
   * them only to ask whether they are there ({@code exists()}, {@code empty()}, {@code count()},
   * {@code hasValue()}), and walks the tree generically ({@code descendants()}, {@code children()})
   * only to count or to go on to another name. Anything else (a comparison, a function of the
   * value, {@code descendants().where(...)}) counts as reading it.
   */
  static boolean leavesValueUnread(String expression, String name) {
    String e = LITERAL.matcher(expression).replaceAll("''").replace("`", "");
    java.util.regex.Matcher t = TRAVERSAL.matcher(e);
    while (t.find()) {
      java.util.regex.Matcher step = NAMED_STEP.matcher(e).region(t.end(), e.length());
      boolean presence = PRESENCE.matcher(e).region(t.end(), e.length()).lookingAt();
      if (!presence && !(step.lookingAt() && !step.group(1).equals(name))) {
        return false;
      }
    }
    java.util.regex.Matcher n = java.util.regex.Pattern
        .compile("(?<![A-Za-z0-9_%$])" + java.util.regex.Pattern.quote(name) + "(?![A-Za-z0-9_])").matcher(e);
    while (n.find()) {
      if (!PRESENCE.matcher(e).region(n.end(), e.length()).lookingAt()) {
        return false;
      }
    }
    return true;
  }

  /** A single type, string. */
  private static boolean onlyString(org.hl7.fhir.r5.model.ElementDefinition ed) {
    return ed.getType().size() == 1 && "string".equals(ed.getType().get(0).getCode());
  }

  /**
   * Whether {@code path} is one plain string element in {@code sd}: not sliced, nothing said of
   * its children, and its own invariants look at nothing but itself (no {@code %resource}, no
   * {@code resolve()}), so that in another resource claiming the same profile it meets the same checks.
   */
  private static boolean checkedOnItsOwn(StructureDefinition sd, String path) {
    int found = 0;
    for (org.hl7.fhir.r5.model.ElementDefinition ed : sd.getSnapshot().getElement()) {
      if (ed.getPath().equals(path)) {
        found++;
        if (ed.hasSlicing() || !onlyString(ed)) {
          return false;
        }
        for (org.hl7.fhir.r5.model.ElementDefinition.ElementDefinitionConstraintComponent c : ed.getConstraint()) {
          String x = c.getExpression();
          if (x != null && (x.contains("%") || x.contains("resolve"))) {
            return false;
          }
        }
      } else if (ed.getPath().startsWith(path + ".")) {
        return false;
      }
    }
    return found == 1;
  }

  /** Whether the validator located {@code m} at one of these top-level elements (or inside one). */
  static boolean at(ValidationMessage m, String type, Set<String> names) {
    String location = m.getLocation();
    if (location == null) {
      return false;
    }
    for (String name : names) {
      String path = type + "." + name;
      if (location.equals(path) || location.startsWith(path + ".") || location.startsWith(path + "[")) {
        return true;
      }
    }
    return false;
  }

  /** A resource holding only the free text and the profile claims. */
  static String resource(String type, Map<String, String> freeText, List<String> profileUrls) {
    java.io.StringWriter w = new java.io.StringWriter();
    try (com.fasterxml.jackson.core.JsonGenerator g = JSON.createGenerator(w)) {
      g.writeStartObject();
      g.writeStringField("resourceType", type);
      if (!profileUrls.isEmpty()) {
        g.writeObjectFieldStart("meta");
        g.writeArrayFieldStart("profile");
        for (String url : profileUrls) {
          g.writeString(url);
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      for (Map.Entry<String, String> e : freeText.entrySet()) {
        g.writeStringField(e.getKey(), e.getValue());
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }
}
