package io.appointmentserver.rest;

import ca.uhn.fhir.rest.annotation.ConditionalUrlParam;
import ca.uhn.fhir.rest.annotation.Count;
import ca.uhn.fhir.rest.annotation.Create;
import ca.uhn.fhir.rest.annotation.Delete;
import ca.uhn.fhir.rest.annotation.History;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.annotation.Patch;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.annotation.Since;
import ca.uhn.fhir.rest.annotation.Update;
import ca.uhn.fhir.rest.annotation.Validate;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.PatchTypeEnum;
import ca.uhn.fhir.rest.api.ValidationModeEnum;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import io.appointmentserver.interaction.Interactions;
import io.appointmentserver.store.Expunges;
import java.util.Set;
import org.hl7.fhir.dstu3.model.BooleanType;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.InstantType;
import org.hl7.fhir.dstu3.model.IntegerType;
import org.hl7.fhir.dstu3.model.Meta;
import org.hl7.fhir.dstu3.model.Parameters;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * HAPI's binding of the RESTful interactions (<a href="https://hl7.org/fhir/STU3/http.html">DSTU3
 * http</a>) of one resource type to {@link Interactions}: the server binds one per DSTU3 resource
 * type. Nothing happens here but the translation of HAPI's parameters; each interaction is a class
 * of its own in {@code interaction}.
 */
public final class ResourceProvider<T extends IBaseResource> implements IResourceProvider {
  private final Class<T> resourceClass;
  private final String type;
  private final Interactions interactions;

  ResourceProvider(Class<T> resourceClass, String type, Interactions interactions) {
    this.resourceClass = resourceClass;
    this.type = type;
    this.interactions = interactions;
  }

  @Override
  public Class<T> getResourceType() {
    return resourceClass;
  }

  /** read and vread. */
  @Read(version = true)
  public IBaseResource read(@IdParam IdType id, RequestDetails request) {
    return interactions.read().read(type, id, request);
  }

  /** create, conditional with {@code If-None-Exist}. */
  @Create
  public MethodOutcome create(@ResourceParam T resource, @ConditionalUrlParam String ifNoneExist,
      RequestDetails request) {
    return interactions.create().create(type, resource, ifNoneExist, request);
  }

  /** update, conditional without an id. */
  @Update
  public MethodOutcome update(@IdParam IdType id, @ResourceParam T resource, @ConditionalUrlParam String conditionalUrl,
      RequestDetails request) {
    return interactions.update().update(type, idPart(id), resource, request);
  }

  /** patch (JSON Patch), conditional without an id. */
  @Patch
  public MethodOutcome patch(@IdParam IdType id, PatchTypeEnum patchType, @ResourceParam String body,
      @ConditionalUrlParam String conditionalUrl, RequestDetails request) {
    return interactions.patch().patch(type, idPart(id), patchType, body, request);
  }

  /** delete, conditional without an id. */
  @Delete
  public MethodOutcome delete(@IdParam IdType id, @ConditionalUrlParam(supportsMultiple = true) String conditionalUrl,
      RequestDetails request) {
    return interactions.delete().delete(type, idPart(id), request);
  }

  @History
  public IBundleProvider instanceHistory(@IdParam IdType id, @Since InstantType since, @Count Integer count,
      @Offset Integer offset, RequestDetails request) {
    return interactions.history().instance(type, id, new io.appointmentserver.interaction.History.Paging(since, count,
        offset), request);
  }

  @History
  public IBundleProvider typeHistory(@Since InstantType since, @Count Integer count, @Offset Integer offset,
      RequestDetails request) {
    return interactions.history().type(type, new io.appointmentserver.interaction.History.Paging(since, count, offset),
        request);
  }

  /** {@code $validate} at type and instance level (the instance for modes update and delete). */
  @Validate
  public MethodOutcome validate(@ResourceParam T resource, @IdParam(optional = true) IdType id,
      @Validate.Mode ValidationModeEnum mode, @Validate.Profile String profile, RequestDetails request) {
    return interactions.validate().validate(new io.appointmentserver.interaction.Validate.Request(type, idPart(id),
        resource, mode == null ? null : mode.getCode(), profile), request);
  }

  /** {@code [type]/[id]/$meta}: the resource's tags, security labels and profiles; {@code [type]/$meta}: those in use. */
  @Operation(name = "$meta", idempotent = true)
  public Parameters meta(@IdParam(optional = true) IdType id, RequestDetails request) {
    String idPart = idPart(id);
    return idPart == null ? interactions.meta().inUse(type, Set.of(type), request)
        : interactions.meta().read(type, idPart, request);
  }

  /** {@code [type]/[id]/$meta-add}: adds tags, security labels and profiles, with no new version. */
  @Operation(name = "$meta-add")
  public Parameters metaAdd(@IdParam IdType id, @OperationParam(name = "meta") Meta meta, RequestDetails request) {
    return interactions.meta().change(type, id.getIdPart(), meta, true, request);
  }

  /** {@code [type]/[id]/$meta-delete}: removes tags, security labels and profiles, with no new version. */
  @Operation(name = "$meta-delete")
  public Parameters metaDelete(@IdParam IdType id, @OperationParam(name = "meta") Meta meta, RequestDetails request) {
    return interactions.meta().change(type, id.getIdPart(), meta, false, request);
  }

  /**
   * {@code [type]/$expunge}, {@code [type]/[id]/$expunge} and {@code [type]/[id]/_history/[vid]/$expunge}
   * (see {@link io.appointmentserver.interaction.Expunge}).
   */
  @Operation(name = "$expunge", idempotent = false, returnParameters = @OperationParam(name = "count", typeName = "integer"))
  public Parameters expunge(@IdParam(optional = true) IdType id, @OperationParam(name = "limit") IntegerType limit,
      @OperationParam(name = "expungeDeletedResources") BooleanType deletedResources,
      @OperationParam(name = "expungePreviousVersions") BooleanType previousVersions,
      @OperationParam(name = "expungeEverything") BooleanType everything, RequestDetails request) {
    String idPart = idPart(id);
    Long version = idPart != null && id.hasVersionIdPart() ? versionOf(id) : null;
    return interactions.expunge().expunge(new Expunges.Scope(type, idPart, version),
        SystemProvider.expungeOptions(limit, deletedResources, previousVersions, everything), request);
  }

  /** search-type, GET and POST {@code _search}: every parameter is read by the search interaction. */
  @Search(allowUnknownParams = true)
  public Bundle search(RequestDetails request) {
    return interactions.search().search(type, request, StoredResponses.plainJson(request));
  }

  /** The version of {@code [type]/[id]/_history/[vid]}: 404 when it is no version number. */
  private Long versionOf(IdType id) {
    if (!id.isVersionIdPartValidLong()) {
      throw new ResourceNotFoundException("Version " + id.getVersionIdPart() + " of " + type + "/" + id.getIdPart()
          + " is not known");
    }
    return id.getVersionIdPartAsLong();
  }

  /** The id of the URL, or null when there is none (a conditional interaction). */
  private static String idPart(IdType id) {
    return id == null || !id.hasIdPart() ? null : id.getIdPart();
  }
}
