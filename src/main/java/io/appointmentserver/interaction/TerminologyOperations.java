package io.appointmentserver.interaction;

import static io.appointmentserver.interaction.TerminologyInputs.invalid;
import static io.appointmentserver.interaction.TerminologyInputs.required;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.interaction.TerminologyInputs.Resolved;
import io.appointmentserver.validation.Terminology;
import io.appointmentserver.validation.Terminology.CodeCheck;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.dstu3.model.BooleanType;
import org.hl7.fhir.dstu3.model.CodeSystem;
import org.hl7.fhir.dstu3.model.CodeType;
import org.hl7.fhir.dstu3.model.Coding;
import org.hl7.fhir.dstu3.model.ConceptMap;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Parameters;
import org.hl7.fhir.dstu3.model.StringType;
import org.hl7.fhir.dstu3.model.ValueSet;

/**
 * The DSTU3 terminology operations over the CodeSystems, ValueSets and ConceptMaps the server
 * knows ({@link Terminology}: the DSTU3 ones, the IG's, those written through the API):
 * {@code CodeSystem/$lookup}, {@code CodeSystem/$subsumes}, {@code ValueSet/$validate-code},
 * {@code ValueSet/$expand}, {@code ConceptMap/$translate}. The privilege ({@code ValueSet$expand},
 * {@code ValueSet.*}) is checked before (PrivilegeCheck); an instance is read with the read
 * privilege and the user's context. Each call is audited as its operation.
 */
public final class TerminologyOperations {
  private final TerminologyInputs inputs;

  TerminologyOperations(TerminologyInputs inputs) {
    this.inputs = inputs;
  }

  /** {@code $lookup}: a code of a code system, its display, designations and properties. */
  public Parameters lookup(TerminologyRequest.Coded coded, List<String> properties, RequestDetails request) {
    if (coded.codeableConcept() != null) {
      throw invalid(IssueType.INVALID, "$lookup takes code and system, or coding");
    }
    Coding c = TerminologyInputs.codings(coded, "$lookup").get(0);
    required(c.getSystem(), "system (with code, or in coding)", "$lookup");
    Parameters out = inputs.terminology().lookup(c.getSystem(), c.getVersion(), c.getCode(),
        properties == null ? List.of() : properties);
    inputs.audit(request, "$lookup", "CodeSystem", null);
    return out;
  }

  /**
   * {@code $subsumes}: how code A relates to code B in the hierarchy of their code system
   * ({@code codeA}, {@code codeB} and {@code system}, or {@code codingA} and {@code codingB}).
   */
  public Parameters subsumes(TerminologyRequest.Target target, TerminologyRequest.Concept a, TerminologyRequest.Concept b,
      RequestDetails request) {
    Terminology t = inputs.terminology();
    Resolved<CodeSystem> cs = inputs.resolve("CodeSystem", target, t::codeSystem, request);
    String system = cs != null ? cs.resource().getUrl() : a.system() != null ? a.system() : b.system();
    required(system, "system (or codingA and codingB with their system)", "$subsumes");
    for (TerminologyRequest.Concept c : List.of(a, b)) {
      if (c.system() != null && !c.system().equals(system)) {
        throw invalid(IssueType.INVALID, "$subsumes compares codes of one code system, not " + c.system()
            + " and " + system);
      }
    }
    String outcome = t.subsumes(system, a.version() != null ? a.version() : b.version(),
        required(a.code(), "codeA (or codingA)", "$subsumes"), required(b.code(), "codeB (or codingB)", "$subsumes"));
    inputs.audit(request, "$subsumes", "CodeSystem", cs);
    Parameters out = new Parameters();
    out.addParameter().setName("outcome").setValue(new CodeType(outcome));
    return out;
  }

  /** {@code $validate-code}: whether the code is in the value set, and the display right. */
  public Parameters validateCode(TerminologyRequest.Target target, TerminologyRequest.Coded coded,
      RequestDetails request) {
    Terminology t = inputs.terminology();
    Resolved<ValueSet> vs = valueSet(target, t, "$validate-code", request);
    List<Coding> codings = TerminologyInputs.codings(coded, "$validate-code");
    CodeCheck check = t.validateCode(vs.resource(), vs.known(), codings);
    inputs.audit(request, "$validate-code", "ValueSet", vs);
    Parameters out = new Parameters();
    out.addParameter().setName("result").setValue(new BooleanType(check.result()));
    if (check.message() != null) {
      out.addParameter().setName("message").setValue(new StringType(check.message()));
    }
    if (check.display() != null) {
      out.addParameter().setName("display").setValue(new StringType(check.display()));
    }
    return out;
  }

  /** {@code $expand}: the value set's codes, filtered by text and paged. */
  public ValueSet expand(TerminologyRequest.Target target, Terminology.Paging paging, RequestDetails request) {
    Terminology t = inputs.terminology();
    Resolved<ValueSet> vs = valueSet(target, t, "$expand", request);
    ValueSet out = t.expand(vs.resource(), vs.known(), paging);
    inputs.audit(request, "$expand", "ValueSet", vs);
    return out;
  }

  private Resolved<ValueSet> valueSet(TerminologyRequest.Target target, Terminology t, String operation,
      RequestDetails request) {
    Resolved<ValueSet> vs = inputs.resolve("ValueSet", target, t::valueSet, request);
    if (vs == null) {
      throw invalid(IssueType.REQUIRED, operation + " needs the value set: [base]/ValueSet/[id]/" + operation
          + ", the parameter url, or valueSet in a Parameters body");
    }
    return vs;
  }

  /**
   * {@code $translate}: the matches of the concept in the concept map named (instance, url or
   * conceptMap), else in every known one from {@code source} to {@code target}.
   */
  public Parameters translate(TerminologyRequest.Target target, TerminologyRequest.Coded coded,
      TerminologyRequest.Translation how, RequestDetails request) {
    Terminology t = inputs.terminology();
    Resolved<ConceptMap> map = inputs.resolve("ConceptMap", target, t::conceptMap, request);
    List<Coding> codings = TerminologyInputs.codings(coded, "$translate");
    List<ConceptMap> maps = map != null ? List.of(map.resource()) : t.conceptMaps(how.source(), how.target());
    Parameters out = null;
    List<Parameters.ParametersParameterComponent> matches = new ArrayList<>();
    for (Coding c : codings) {
      Parameters one = t.translate(maps, c, how.targetSystem(), how.reverse());
      if (out == null || (!((BooleanType) out.getParameter().get(0).getValue()).booleanValue()
          && ((BooleanType) one.getParameter().get(0).getValue()).booleanValue())) {
        out = one; // the first coding's result and message, unless a later one matched where it did not
      }
      one.getParameter().stream().filter(p -> p.getName().equals("match")).forEach(matches::add);
    }
    out.getParameter().removeIf(p -> p.getName().equals("match"));
    out.getParameter().addAll(matches);
    inputs.audit(request, "$translate", "ConceptMap", map);
    return out;
  }
}
