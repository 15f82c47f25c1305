package io.appointmentserver;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.PerformanceOptionsEnum;
import ca.uhn.fhir.parser.StrictErrorHandler;

/** The one FHIR DSTU3 context of the server, with the parser options the store relies on. */
public final class FhirServerContext {
  private FhirServerContext() {}

  public static FhirContext create() {
    FhirContext ctx = FhirContext.forDstu3();
    ctx.setPerformanceOptions(PerformanceOptionsEnum.DEFERRED_MODEL_SCANNING);
    // references are kept exactly as sent: no stripping of versions, no id rewriting in bundles
    ctx.getParserOptions().setStripVersionsFromReferences(false);
    ctx.getParserOptions().setOverrideResourceIdWithBundleEntryFullUrl(false);
    // an element the parser does not know is refused (400), not silently dropped: nothing a
    // client sends may get lost on the way into the store
    ctx.setParserErrorHandler(new StrictErrorHandler());
    // scan every resource type now rather than on the first request that needs it
    for (String type : ctx.getResourceTypes()) {
      ctx.getResourceDefinition(type);
    }
    return ctx;
  }
}
