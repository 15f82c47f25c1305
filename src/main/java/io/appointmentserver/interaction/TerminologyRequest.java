package io.appointmentserver.interaction;

import org.hl7.fhir.dstu3.model.CodeableConcept;
import org.hl7.fhir.dstu3.model.Coding;
import org.hl7.fhir.instance.model.api.IBaseResource;

/** The parameters of the terminology operations, as the REST binding hands them over (nulls for absent ones). */
public final class TerminologyRequest {
  private TerminologyRequest() {}

  /** Which CodeSystem, ValueSet or ConceptMap: the instance's id, a {@code url}, or the resource sent in the body. */
  public record Target(String id, String url, IBaseResource inBody) {}

  /** A concept given as separate parameters ({@code code}, {@code system}, {@code version}, {@code display}). */
  public record Concept(String system, String code, String version, String display) {}

  /** A concept as the operations take it: separate parameters, a {@code coding} or a {@code codeableConcept}. */
  public record Coded(Concept loose, Coding coding, CodeableConcept codeableConcept) {}

  /** $translate's choice of maps and direction: {@code source} and {@code target} value sets, {@code targetsystem}. */
  public record Translation(String source, String target, String targetSystem, boolean reverse) {}
}
