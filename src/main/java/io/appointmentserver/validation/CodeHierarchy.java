package io.appointmentserver.validation;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.dstu3.model.CodeSystem;
import org.hl7.fhir.dstu3.model.CodeSystem.ConceptDefinitionComponent;
import org.hl7.fhir.dstu3.model.CodeSystem.ConceptPropertyComponent;

/**
 * The is-a hierarchy of one CodeSystem, which HAPI's in-memory terminology does not answer
 * questions about: the parents of each code, from concepts nested in concepts and from the
 * properties {@code parent} and {@code child} (the DSTU3 names for an explicit hierarchy).
 */
final class CodeHierarchy {
  private final Map<String, ConceptDefinitionComponent> concepts = new HashMap<>();
  private final Map<String, Set<String>> parents = new HashMap<>();
  private final Map<String, Set<String>> children = new HashMap<>();
  private final long weight;

  CodeHierarchy(CodeSystem cs) {
    long w = 200;
    Deque<ConceptDefinitionComponent> todo = new ArrayDeque<>(cs.getConcept());
    while (!todo.isEmpty()) {
      ConceptDefinitionComponent c = todo.pop();
      concepts.putIfAbsent(c.getCode(), c);
      w += 120 + 2L * c.getCode().length();
      for (ConceptDefinitionComponent child : c.getConcept()) {
        link(c.getCode(), child.getCode());
        todo.push(child);
      }
      for (ConceptPropertyComponent p : c.getProperty()) {
        if (p.hasValueCodeType() && p.getCode().equals("parent")) {
          link(p.getValueCodeType().getValue(), c.getCode());
        } else if (p.hasValueCodeType() && p.getCode().equals("child")) {
          link(c.getCode(), p.getValueCodeType().getValue());
        }
      }
    }
    this.weight = w;
  }

  private void link(String parent, String child) {
    parents.computeIfAbsent(child, k -> new LinkedHashSet<>()).add(parent);
    children.computeIfAbsent(parent, k -> new LinkedHashSet<>()).add(child);
  }

  /** Every concept, nested ones included. */
  java.util.Collection<ConceptDefinitionComponent> concepts() {
    return concepts.values();
  }

  /** The concept of {@code code}, or null. */
  ConceptDefinitionComponent concept(String code) {
    return concepts.get(code);
  }

  Set<String> parentsOf(String code) {
    return parents.getOrDefault(code, Set.of());
  }

  Set<String> childrenOf(String code) {
    return children.getOrDefault(code, Set.of());
  }

  /** Whether there is any hierarchy at all. */
  boolean flat() {
    return parents.isEmpty();
  }

  /** Whether {@code ancestor} is above {@code code} (not equal to it). */
  boolean isAbove(String ancestor, String code) {
    Deque<String> todo = new ArrayDeque<>(parentsOf(code));
    Set<String> seen = new java.util.HashSet<>();
    while (!todo.isEmpty()) {
      String p = todo.pop();
      if (p.equals(ancestor)) {
        return true;
      }
      if (seen.add(p)) {
        todo.addAll(parentsOf(p));
      }
    }
    return false;
  }

  /** The $subsumes outcome of A and B (both known). */
  String subsumes(String a, String b) {
    if (a.equals(b)) {
      return "equivalent";
    }
    if (isAbove(a, b)) {
      return "subsumes";
    }
    return isAbove(b, a) ? "subsumed-by" : "not-subsumed";
  }

  /** Estimated bytes, for the cache that keeps it. */
  long weight() {
    return weight;
  }
}
