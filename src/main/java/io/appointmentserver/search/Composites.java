package io.appointmentserver.search;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import io.appointmentserver.search.SearchParameters.Param;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How a composite search parameter (<a href="https://hl7.org/fhir/STU3/search.html#composite">search.html</a>)
 * is indexed and searched. Its expression selects the elements (DSTU3 Observation
 * {@code component-code-value-quantity}: {@code Observation.component}); a match needs the values
 * of all its components from one element. The components' own expressions start with the
 * element's path ({@code Observation.component.code}): the rest of each is evaluated on every
 * element, and the values are index rows of the components' kinds, named by the composite, the
 * component and the element's number ({@link #rowParam}), so that a search pairs values of one
 * element only. A composite whose components are not below its elements (its expression is the
 * type itself, as {@code code-value-quantity}, or the definition says so otherwise, as Sequence's
 * {@code coordinate}) pairs values of the whole resource: its components' own rows answer it.
 */
final class Composites {
  /** The kinds a component may have: those with index rows. */
  private static final Set<RestSearchParameterTypeEnum> KINDS = EnumSet.of(RestSearchParameterTypeEnum.STRING,
      RestSearchParameterTypeEnum.TOKEN, RestSearchParameterTypeEnum.REFERENCE, RestSearchParameterTypeEnum.DATE,
      RestSearchParameterTypeEnum.NUMBER, RestSearchParameterTypeEnum.QUANTITY, RestSearchParameterTypeEnum.URI);

  private Composites() {}

  /**
   * The elements of one path of the composite's expression, and for each component the
   * expression of its values relative to such an element (null: none there).
   */
  record Elements(String path, List<String> relative) {}

  /** A composite's components and, when its values pair per element, the elements ({@code elements} empty otherwise). */
  record Shape(List<Param> components, List<Elements> elements) {
    boolean perElement() {
      return !elements.isEmpty();
    }
  }

  /** How {@code composite} of {@code type} is answered, or null when it cannot be. */
  static Shape shape(String type, Param composite, Map<String, Param> params) {
    if (composite.kind() != RestSearchParameterTypeEnum.COMPOSITE || composite.expression() == null
        || composite.components().size() < 2) {
      return null;
    }
    List<Param> components = new ArrayList<>();
    for (String name : composite.components()) {
      Param c = params.get(name);
      if (c == null || c.expression() == null || !KINDS.contains(c.kind())) {
        return null;
      }
      components.add(c);
    }
    List<String> paths = parts(composite.expression());
    List<Elements> elements = new ArrayList<>();
    boolean below = false;
    for (String path : paths) {
      List<String> relative = new ArrayList<>();
      for (Param c : components) {
        List<String> mine = new ArrayList<>();
        for (String part : parts(c.expression())) {
          // a component's path belongs to the longest of the composite's paths it starts with
          String owner = null;
          for (String p : paths) {
            if (part.startsWith(p + ".") && (owner == null || p.length() > owner.length())) {
              owner = p;
            }
          }
          if (path.equals(owner)) {
            mine.add(part.substring(path.length() + 1));
            below |= !path.equals(type);
          }
        }
        relative.add(mine.isEmpty() ? null : String.join(" | ", mine));
      }
      elements.add(new Elements(path, relative));
    }
    return new Shape(components, below ? elements : List.of());
  }

  /** The name of the index rows of component {@code component} in the composite's element number {@code element}. */
  static String rowParam(String composite, int component, int element) {
    return rowPrefix(composite, component) + element;
  }

  /** What the names of a component's rows start with; the element's number follows. */
  static String rowPrefix(String composite, int component) {
    return composite + "$" + component + ":";
  }

  /** The parts of a FHIRPath union {@code a | b}. */
  private static List<String> parts(String expression) {
    List<String> out = new ArrayList<>();
    for (String p : expression.split("\\|")) {
      if (!p.isBlank()) {
        out.add(p.trim());
      }
    }
    return out;
  }
}
