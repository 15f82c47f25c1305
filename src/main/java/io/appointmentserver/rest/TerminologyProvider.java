package io.appointmentserver.rest;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.interaction.Interactions;
import io.appointmentserver.interaction.TerminologyRequest.Coded;
import io.appointmentserver.interaction.TerminologyRequest.Concept;
import io.appointmentserver.interaction.TerminologyRequest.Target;
import io.appointmentserver.interaction.TerminologyRequest.Translation;
import io.appointmentserver.validation.Terminology.Paging;
import java.util.List;
import org.hl7.fhir.dstu3.model.BooleanType;
import org.hl7.fhir.dstu3.model.CodeSystem;
import org.hl7.fhir.dstu3.model.CodeType;
import org.hl7.fhir.dstu3.model.CodeableConcept;
import org.hl7.fhir.dstu3.model.Coding;
import org.hl7.fhir.dstu3.model.ConceptMap;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.IntegerType;
import org.hl7.fhir.dstu3.model.Parameters;
import org.hl7.fhir.dstu3.model.StringType;
import org.hl7.fhir.dstu3.model.UriType;
import org.hl7.fhir.dstu3.model.ValueSet;
import org.hl7.fhir.instance.model.api.IPrimitiveType;

/**
 * The terminology operations (see {@link io.appointmentserver.interaction.TerminologyOperations}),
 * with the parameters, levels, GET and POST forms of their DSTU3 OperationDefinitions.
 */
public final class TerminologyProvider {
  private final Interactions interactions;

  TerminologyProvider(Interactions interactions) {
    this.interactions = interactions;
  }

  /** {@code CodeSystem/$lookup} (type level, as DSTU3 defines it). */
  @Operation(name = "$lookup", type = CodeSystem.class, idempotent = true)
  public Parameters lookup(@OperationParam(name = "code") CodeType code, @OperationParam(name = "system") UriType system,
      @OperationParam(name = "version") StringType version, @OperationParam(name = "coding") Coding coding,
      @OperationParam(name = "property", max = OperationParam.MAX_UNLIMITED) List<CodeType> property,
      RequestDetails request) {
    return interactions.terminology().lookup(new Coded(new Concept(v(system), v(code), v(version), null), coding, null),
        property == null ? null : property.stream().map(CodeType::getValue).toList(), request);
  }

  /** {@code CodeSystem/$subsumes} and {@code CodeSystem/[id]/$subsumes}. */
  @Operation(name = "$subsumes", type = CodeSystem.class, idempotent = true)
  public Parameters subsumes(@IdParam(optional = true) IdType id, @OperationParam(name = "codeA") CodeType codeA,
      @OperationParam(name = "codeB") CodeType codeB, @OperationParam(name = "system") UriType system,
      @OperationParam(name = "version") StringType version, @OperationParam(name = "codingA") Coding codingA,
      @OperationParam(name = "codingB") Coding codingB, RequestDetails request) {
    return interactions.terminology().subsumes(new Target(idPart(id), null, null),
        concept(codingA, v(system), v(codeA), v(version)), concept(codingB, v(system), v(codeB), v(version)), request);
  }

  /** {@code ValueSet/$validate-code} and {@code ValueSet/[id]/$validate-code}. */
  @Operation(name = "$validate-code", type = ValueSet.class, idempotent = true)
  public Parameters validateCode(@IdParam(optional = true) IdType id, @OperationParam(name = "url") UriType url,
      @OperationParam(name = "valueSet") ValueSet valueSet, @OperationParam(name = "code") CodeType code,
      @OperationParam(name = "system") UriType system, @OperationParam(name = "version") StringType version,
      @OperationParam(name = "display") StringType display, @OperationParam(name = "coding") Coding coding,
      @OperationParam(name = "codeableConcept") CodeableConcept codeableConcept, RequestDetails request) {
    return interactions.terminology().validateCode(new Target(idPart(id), v(url), valueSet),
        new Coded(new Concept(v(system), v(code), v(version), v(display)), coding, codeableConcept), request);
  }

  /** {@code ValueSet/$expand} and {@code ValueSet/[id]/$expand}. */
  @Operation(name = "$expand", type = ValueSet.class, idempotent = true)
  public ValueSet expand(@IdParam(optional = true) IdType id, @OperationParam(name = "url") UriType url,
      @OperationParam(name = "valueSet") ValueSet valueSet, @OperationParam(name = "filter") StringType filter,
      @OperationParam(name = "count") IntegerType count, @OperationParam(name = "offset") IntegerType offset,
      RequestDetails request) {
    return interactions.terminology().expand(new Target(idPart(id), v(url), valueSet),
        new Paging(v(filter), count == null ? null : count.getValue(), offset == null ? null : offset.getValue()),
        request);
  }

  /** {@code ConceptMap/$translate} and {@code ConceptMap/[id]/$translate}. */
  @Operation(name = "$translate", type = ConceptMap.class, idempotent = true)
  public Parameters translate(@IdParam(optional = true) IdType id, @OperationParam(name = "url") UriType url,
      @OperationParam(name = "conceptMap") ConceptMap conceptMap, @OperationParam(name = "code") CodeType code,
      @OperationParam(name = "system") UriType system, @OperationParam(name = "version") StringType version,
      @OperationParam(name = "source") UriType source, @OperationParam(name = "coding") Coding coding,
      @OperationParam(name = "codeableConcept") CodeableConcept codeableConcept,
      @OperationParam(name = "target") UriType target, @OperationParam(name = "targetsystem") UriType targetSystem,
      @OperationParam(name = "reverse") BooleanType reverse, RequestDetails request) {
    return interactions.terminology().translate(new Target(idPart(id), v(url), conceptMap),
        new Coded(new Concept(v(system), v(code), v(version), null), coding, codeableConcept),
        new Translation(v(source), v(target), v(targetSystem), reverse != null && reverse.booleanValue()), request);
  }

  /** codeA or codingA (the one given; both given is the caller's mistake, reported as the code being ambiguous). */
  private static Concept concept(Coding coding, String system, String code, String version) {
    if (coding == null) {
      return new Concept(system, code, version, null);
    }
    if (code != null) {
      throw io.appointmentserver.interaction.Outcomes.status(400,
          org.hl7.fhir.dstu3.model.OperationOutcome.IssueType.INVALID,
          "$subsumes takes codeA and codeB, or codingA and codingB, not both");
    }
    return new Concept(coding.getSystem(), coding.getCode(), coding.getVersion(), null);
  }

  private static String v(IPrimitiveType<?> p) {
    return p == null || p.isEmpty() ? null : p.getValueAsString();
  }

  private static String idPart(IdType id) {
    return id == null || !id.hasIdPart() ? null : id.getIdPart();
  }
}
