package io.appointmentserver.rest;

import ca.uhn.fhir.rest.annotation.Count;
import ca.uhn.fhir.rest.annotation.History;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.annotation.Since;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.Set;
import io.appointmentserver.interaction.Expunge;
import io.appointmentserver.interaction.Interactions;
import org.hl7.fhir.dstu3.model.Bundle;
import io.appointmentserver.store.Expunges;
import org.hl7.fhir.dstu3.model.BooleanType;
import org.hl7.fhir.dstu3.model.CodeType;
import org.hl7.fhir.dstu3.model.IntegerType;
import org.hl7.fhir.dstu3.model.InstantType;
import org.hl7.fhir.dstu3.model.Parameters;
import org.hl7.fhir.dstu3.model.StringType;

/**
 * Interactions on the whole server: system search, system history, {@code $get-resource-counts},
 * {@code $expunge}, reindexing, {@code $suggest-keywords}.
 */
public final class SystemProvider {
  private final Interactions interactions;
  private final Set<String> resourceTypes;

  SystemProvider(Interactions interactions, Set<String> resourceTypes) {
    this.interactions = interactions;
    this.resourceTypes = resourceTypes;
  }

  /**
   * search-system, GET {@code [base]?params} and POST {@code [base]/_search} (see
   * {@link io.appointmentserver.interaction.Searches#searchSystem}): every parameter is read by the search.
   */
  @Search(allowUnknownParams = true)
  public Bundle search(RequestDetails request) {
    return interactions.search().searchSystem(request, StoredResponses.plainJson(request));
  }

  /** history-all (see {@link io.appointmentserver.interaction.History#system}). */
  @History
  public IBundleProvider systemHistory(@Since InstantType since, @Count Integer count, @Offset Integer offset,
      RequestDetails request) {
    return interactions.history().system(resourceTypes,
        new io.appointmentserver.interaction.History.Paging(since, count, offset), request);
  }

  /** {@code [base]/$meta}: the tags, security labels and profiles in use on what the user may see. */
  @Operation(name = "$meta", idempotent = true)
  public Parameters meta(RequestDetails request) {
    return interactions.meta().inUse(null, resourceTypes, request);
  }

  /** {@code [base]/$expunge} (see {@link io.appointmentserver.interaction.Expunge}). */
  @Operation(name = "$expunge", idempotent = false, returnParameters = @OperationParam(name = "count", typeName = "integer"))
  public Parameters expunge(@OperationParam(name = "limit") IntegerType limit,
      @OperationParam(name = "expungeDeletedResources") BooleanType deletedResources,
      @OperationParam(name = "expungePreviousVersions") BooleanType previousVersions,
      @OperationParam(name = "expungeEverything") BooleanType everything, RequestDetails request) {
    return interactions.expunge().expunge(Expunges.Scope.ALL,
        expungeOptions(limit, deletedResources, previousVersions, everything), request);
  }

  static Expunge.Options expungeOptions(IntegerType limit, BooleanType deletedResources, BooleanType previousVersions,
      BooleanType everything) {
    return new Expunge.Options(limit == null ? null : limit.getValue(), value(deletedResources), value(previousVersions),
        value(everything));
  }

  private static Boolean value(BooleanType b) {
    return b == null ? null : b.getValue();
  }

  /** {@code $mark-all-resources-for-reindexing} (see {@link io.appointmentserver.interaction.Reindexing}). */
  @Operation(name = "$mark-all-resources-for-reindexing", idempotent = false,
      returnParameters = @OperationParam(name = "status", typeName = "string"))
  public Parameters markAllResourcesForReindexing(@OperationParam(name = "type", typeName = "code") CodeType type,
      RequestDetails request) {
    return interactions.reindexing().mark(type == null || type.isEmpty() ? null : type.getValue(), request);
  }

  /** {@code $perform-reindexing-pass} (see {@link io.appointmentserver.interaction.Reindexing}). */
  @Operation(name = "$perform-reindexing-pass", idempotent = false,
      returnParameters = @OperationParam(name = "status", typeName = "string"))
  public Parameters performReindexingPass(RequestDetails request) {
    return interactions.reindexing().perform(request);
  }

  /** {@code $get-resource-counts} (see {@link io.appointmentserver.interaction.ResourceCounts}). */
  @Operation(name = "$get-resource-counts", idempotent = true)
  public Parameters resourceCounts(RequestDetails request) {
    return interactions.counts().counts(request);
  }

  /** {@code $suggest-keywords} (see {@link io.appointmentserver.interaction.SuggestKeywords}). */
  @Operation(name = "$suggest-keywords", idempotent = true)
  public Parameters suggestKeywords(@OperationParam(name = "context", min = 1, max = 1) StringType context,
      @OperationParam(name = "searchParam", min = 1, max = 1) StringType searchParam,
      @OperationParam(name = "text", min = 1, max = 1) StringType text, RequestDetails request) {
    return interactions.keywords().suggest(value(context), value(searchParam), value(text), request);
  }

  private static String value(StringType s) {
    return s == null ? null : s.getValue();
  }
}
