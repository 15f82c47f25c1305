package io.appointmentserver.validation;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.hl7.fhir.dstu3.model.CodeSystem.ConceptDefinitionComponent;
import org.hl7.fhir.dstu3.model.CodeSystem.ConceptPropertyComponent;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.ValueSet;
import org.hl7.fhir.dstu3.model.ValueSet.ConceptSetComponent;
import org.hl7.fhir.dstu3.model.ValueSet.ConceptSetFilterComponent;

/**
 * {@code compose.include.filter} on a code system's own concept properties ({@code size = small}),
 * which HAPI's in-memory expander does not evaluate (it knows {@code concept}, {@code code} and
 * {@code display} only): such filters are resolved here against the code system's concepts and
 * replaced by the concepts they select, in a copy of the value set, before HAPI expands it; the
 * hierarchy filters stay HAPI's.
 */
final class PropertyFilters {
  private static final Set<String> HAPIS = Set.of("concept", "code", "display");

  private PropertyFilters() {}

  /** {@code vs}, or a copy with its property filters resolved; {@code hierarchy} gives a code system's concepts. */
  static ValueSet resolved(ValueSet vs, Function<String, CodeHierarchy> hierarchy) {
    if (!vs.hasCompose() || all(vs).stream().noneMatch(PropertyFilters::hasOwn)) {
      return vs;
    }
    ValueSet copy = vs.copy();
    copy.getCompose().getInclude().removeIf(c -> resolve(c, hierarchy));
    copy.getCompose().getExclude().removeIf(c -> resolve(c, hierarchy));
    return copy;
  }

  private static List<ConceptSetComponent> all(ValueSet vs) {
    List<ConceptSetComponent> all = new ArrayList<>(vs.getCompose().getInclude());
    all.addAll(vs.getCompose().getExclude());
    return all;
  }

  private static boolean hasOwn(ConceptSetComponent c) {
    return c.getFilter().stream().anyMatch(f -> f.hasProperty() && !HAPIS.contains(f.getProperty()));
  }

  /** Replaces the property filters of {@code c} by the concepts they select; true when it then selects nothing. */
  private static boolean resolve(ConceptSetComponent c, Function<String, CodeHierarchy> hierarchy) {
    if (!hasOwn(c)) {
      return false;
    }
    CodeHierarchy h = c.hasSystem() ? hierarchy.apply(c.getSystem()) : null;
    if (h == null) {
      throw TerminologyException.invalid(IssueType.NOTSUPPORTED, "The filters on properties of " + c.getSystem()
          + " cannot be evaluated: the code system is not known to this server");
    }
    Set<String> codes = new LinkedHashSet<>();
    h.concepts().forEach(concept -> codes.add(concept.getCode()));
    if (c.hasConcept()) {
      codes.retainAll(c.getConcept().stream().map(ValueSet.ConceptReferenceComponent::getCode).toList());
    }
    for (ConceptSetFilterComponent f : List.copyOf(c.getFilter())) {
      if (f.hasProperty() && !HAPIS.contains(f.getProperty())) {
        codes.removeIf(code -> !matches(h.concept(code), f));
        c.getFilter().remove(f);
      }
    }
    c.getConcept().clear();
    codes.forEach(code -> c.addConcept().setCode(code).setDisplay(h.concept(code).getDisplay()));
    return codes.isEmpty(); // an include without concepts would take the whole code system
  }

  private static boolean matches(ConceptDefinitionComponent concept, ConceptSetFilterComponent f) {
    List<String> values = new ArrayList<>();
    for (ConceptPropertyComponent p : concept.getProperty()) {
      if (p.getCode().equals(f.getProperty()) && p.hasValue()) {
        values.add(p.getValue() instanceof org.hl7.fhir.dstu3.model.Coding coding ? coding.getCode()
            : p.getValue().primitiveValue());
      }
    }
    String value = f.getValue();
    return switch (f.getOp()) {
      case EQUAL -> values.contains(value);
      case IN -> values.stream().anyMatch(v -> List.of(value.split(",")).contains(v));
      case NOTIN -> values.stream().noneMatch(v -> List.of(value.split(",")).contains(v));
      case REGEX -> values.stream().anyMatch(v -> regex(value).matcher(v).matches());
      case EXISTS -> values.isEmpty() != Boolean.parseBoolean(value);
      default -> throw TerminologyException.invalid(IssueType.NOTSUPPORTED, "The filter operation "
          + f.getOp().toCode() + " applies to the hierarchy (property concept), not to the property " + f.getProperty());
    };
  }

  private static Pattern regex(String value) {
    try {
      return Pattern.compile(value);
    } catch (PatternSyntaxException e) {
      throw TerminologyException.invalid(IssueType.INVALID, "The filter's regex " + value + " is no regular expression");
    }
  }
}
