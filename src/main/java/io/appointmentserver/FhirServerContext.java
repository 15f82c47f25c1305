package io.appointmentserver;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.PerformanceOptionsEnum;

/** The one FHIR DSTU3 context of the server, with the parser options the store relies on. */
final class FhirServerContext {
  private FhirServerContext() {}

  static FhirContext create() {
    FhirContext ctx = FhirContext.forDstu3();
    ctx.setPerformanceOptions(PerformanceOptionsEnum.DEFERRED_MODEL_SCANNING);
    // references are kept exactly as sent: no stripping of versions, no id rewriting in bundles
    ctx.getParserOptions().setStripVersionsFromReferences(false);
    ctx.getParserOptions().setOverrideResourceIdWithBundleEntryFullUrl(false);
    // scan every resource type now rather than on the first request that needs it
    for (String type : ctx.getResourceTypes()) {
      ctx.getResourceDefinition(type);
    }
    return ctx;
  }
}
