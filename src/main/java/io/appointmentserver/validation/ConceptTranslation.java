package io.appointmentserver.validation;

import java.util.List;
import java.util.Objects;
import org.hl7.fhir.dstu3.model.BooleanType;
import org.hl7.fhir.dstu3.model.CodeType;
import org.hl7.fhir.dstu3.model.Coding;
import org.hl7.fhir.dstu3.model.ConceptMap;
import org.hl7.fhir.dstu3.model.ConceptMap.ConceptMapGroupComponent;
import org.hl7.fhir.dstu3.model.ConceptMap.SourceElementComponent;
import org.hl7.fhir.dstu3.model.ConceptMap.TargetElementComponent;
import org.hl7.fhir.dstu3.model.Enumerations.ConceptMapEquivalence;
import org.hl7.fhir.dstu3.model.Parameters;
import org.hl7.fhir.dstu3.model.Parameters.ParametersParameterComponent;
import org.hl7.fhir.dstu3.model.StringType;
import org.hl7.fhir.dstu3.model.UriType;

/**
 * <a href="https://hl7.org/fhir/STU3/conceptmap-operation-translate.html">$translate</a> over
 * ConceptMaps (HAPI's in-memory terminology translates none): the matches of one coding in their
 * groups' elements, or, {@code reverse}, the elements whose targets are that coding.
 */
final class ConceptTranslation {
  /** What is translated: {@code system} may be null (any group), {@code targetSystem} too. */
  record Request(String system, String code, String targetSystem, boolean reverse) {}

  private ConceptTranslation() {}

  static Parameters translate(List<ConceptMap> maps, Request r) {
    Parameters out = new Parameters();
    ParametersParameterComponent result = out.addParameter().setName("result");
    int matched = 0;
    int any = 0;
    for (ConceptMap map : maps) {
      for (ConceptMapGroupComponent g : map.getGroup()) {
        String from = r.reverse() ? g.getTarget() : g.getSource();
        String to = r.reverse() ? g.getSource() : g.getTarget();
        if ((r.system() != null && !r.system().equals(from)) || (r.targetSystem() != null && !r.targetSystem().equals(to))) {
          continue;
        }
        for (SourceElementComponent e : g.getElement()) {
          for (TargetElementComponent t : e.getTarget()) {
            String fromCode = r.reverse() ? t.getCode() : e.getCode();
            if (!Objects.equals(fromCode, r.code())) {
              continue;
            }
            ConceptMapEquivalence eq = t.hasEquivalence() ? t.getEquivalence() : ConceptMapEquivalence.EQUIVALENT;
            if (r.reverse()) {
              eq = inverse(eq);
            }
            Coding concept = r.reverse() ? new Coding(to, e.getCode(), e.getDisplay())
                : new Coding(to, t.getCode(), t.getDisplay());
            ParametersParameterComponent match = out.addParameter().setName("match");
            match.addPart().setName("equivalence").setValue(new CodeType(eq.toCode()));
            if (concept.hasCode()) {
              match.addPart().setName("concept").setValue(concept);
            }
            match.addPart().setName("source").setValue(new UriType(map.getUrl()));
            any++;
            if (eq != ConceptMapEquivalence.UNMATCHED && eq != ConceptMapEquivalence.DISJOINT) {
              matched++;
            }
          }
        }
      }
    }
    result.setValue(new BooleanType(matched > 0));
    String what = (r.system() == null ? "" : r.system() + "|") + r.code();
    out.getParameter().add(1, new ParametersParameterComponent().setName("message").setValue(new StringType(
        matched > 0 ? matched + " match" + (matched == 1 ? "" : "es") + " for " + what
            : any > 0 ? "Only unmatched or disjoint mappings for " + what
            : "No mapping for " + what + " in " + maps.size() + " concept map" + (maps.size() == 1 ? "" : "s"))));
    return out;
  }

  /** The equivalence read the other way: wider and narrower, subsumes and specializes swap. */
  private static ConceptMapEquivalence inverse(ConceptMapEquivalence eq) {
    return switch (eq) {
      case WIDER -> ConceptMapEquivalence.NARROWER;
      case NARROWER -> ConceptMapEquivalence.WIDER;
      case SUBSUMES -> ConceptMapEquivalence.SPECIALIZES;
      case SPECIALIZES -> ConceptMapEquivalence.SUBSUMES;
      default -> eq;
    };
  }
}
