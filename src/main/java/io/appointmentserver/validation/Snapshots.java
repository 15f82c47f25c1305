package io.appointmentserver.validation;

import ca.uhn.fhir.context.support.ValidationSupportContext;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.dstu3.model.StructureDefinition;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r5.context.IWorkerContext;

/**
 * A StructureDefinition's snapshot made from its differential and its base definition, by HAPI's
 * snapshot generator over one generation's definitions (the DSTU3 ones, the IG's and those stored
 * through the API), so that a profile based on another profile the server knows gets its snapshot.
 */
final class Snapshots {
  private Snapshots() {}

  /** Why a snapshot could not be made (no differential, an unknown base, a differential the generator refuses). */
  static final class Failed extends RuntimeException {
    Failed(String message, Throwable cause) {
      super(message, cause);
    }
  }

  static StructureDefinition generate(ValidationSupportChain chain, IWorkerContext worker, StructureDefinition sd) {
    if (!sd.hasDifferential() || sd.getDifferential().getElement().isEmpty()) {
      throw new Failed("The StructureDefinition has no differential to make a snapshot of", null);
    }
    if (!sd.hasBaseDefinition()) {
      throw new Failed("The StructureDefinition has no baseDefinition", null);
    }
    if (chain.fetchStructureDefinition(sd.getBaseDefinition()) == null) {
      throw new Failed("The base definition " + sd.getBaseDefinition() + " is not known to this server", null);
    }
    StructureDefinition input = sd.copy();
    input.setSnapshot(null);
    String url = input.hasUrl() ? input.getUrl() : "urn:snapshot:unnamed";
    String name = input.hasName() ? input.getName() : "unnamed";
    IBaseResource out;
    try {
      out = new SnapshotGeneratingValidationSupport(chain.getFhirContext(), worker)
          .generateSnapshot(new ValidationSupportContext(chain), input, url, null, name);
    } catch (RuntimeException e) {
      throw new Failed("The snapshot could not be generated: " + e.getMessage(), e);
    }
    if (!(out instanceof StructureDefinition result) || !result.hasSnapshot()) {
      throw new Failed("The snapshot could not be generated", null);
    }
    return result;
  }
}
