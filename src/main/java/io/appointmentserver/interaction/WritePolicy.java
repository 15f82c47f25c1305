package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import io.appointmentserver.store.Bookings;
import io.appointmentserver.plugin.Plugins;
import io.appointmentserver.security.AccessTags;
import io.appointmentserver.validation.ProfileValidator;
import org.hl7.fhir.dstu3.model.OperationOutcome.OperationOutcomeIssueComponent;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * What every write does to a resource before it is stored: references to this server's own base
 * URL become relative; (unless switched off) the local references are collected so the store
 * can reject those whose target does not exist, in the write's transaction; its access tags
 * are computed from the final content; and, once the write is allowed, a resource that claims
 * profiles is validated against them (errors refuse the write, warnings go with the response).
 * Once a write has committed, conformance resources (profiles, value sets, code systems) reach
 * the validator, and SearchParameters the search.
 */
public final class WritePolicy {
  private final References references;
  private final AccessTags accessTags;
  private final String configuredBase;
  private final boolean checkReferences;
  private final Plugins plugins;
  private final ProfileValidator validator;

  /** {@code configuredBase}: the public base URL references to which are stored relative. */
  public WritePolicy(References references, String configuredBase, boolean checkReferences, Plugins plugins,
      ProfileValidator validator) {
    this.validator = validator;
    this.references = references;
    this.accessTags = plugins.accessTags(references.context());
    this.configuredBase = configuredBase;
    this.checkReferences = checkReferences;
    this.plugins = plugins;
  }

  /** The plug-ins: what each resource type adds to the write. */
  Plugins plugins() {
    return plugins;
  }

  /** The profile validator, for the operations that use the conformance resources it knows. */
  ProfileValidator validator() {
    return validator;
  }

  /** A resource ready to store: the references that must exist, its access tags, its bookings. */
  public record Prepared(Set<String> references, String[] tags, Bookings bookings) {}

  /** What a deletion of {@code type} books: nothing, or null when the type never books. */
  Bookings noBookings(String type) {
    return plugins.bookings(type, null);
  }

  public Prepared prepare(String type, IBaseResource resource, RequestDetails request) {
    List<String> bases = new ArrayList<>(2);
    if (configuredBase != null) {
      bases.add(configuredBase);
    }
    String requestBase = request == null ? null : request.getFhirServerBase();
    if (requestBase != null && !requestBase.equals(configuredBase)) {
      bases.add(requestBase.endsWith("/") ? requestBase.substring(0, requestBase.length() - 1) : requestBase);
    }
    Set<String> targets = references.localize(resource, bases, checkReferences);
    plugins.of(type).checkContent(resource, request == null ? null : Access.principal(request));
    return new Prepared(checkReferences ? targets : Set.of(), accessTags.of(type, resource),
        plugins.bookings(type, resource));
  }

  /**
   * Validates the prepared resource (as it will be stored: own-base references relative) against
   * the profiles it claims, once the writer is known to be allowed to write it: throws
   * {@code ProfileValidationException} on errors, returns the warnings and information.
   * {@code content}: its JSON without the server's id and meta ({@link ResourceCodec.Encoded#content}).
   */
  public List<OperationOutcomeIssueComponent> validate(IBaseResource resource,
      java.util.function.Supplier<String> content) {
    return validator.validate(resource, content);
  }

  /** The terminology over the conformance resources the validator knows now (the same ones, the same generation). */
  io.appointmentserver.validation.Terminology terminology() {
    return validator.terminology();
  }

  /** Whether {@link #committed} does anything for {@code type}. */
  boolean watches(String type) {
    return ProfileValidator.CONFORMANCE_TYPES.contains(type) || plugins.of(type).watchesCommits();
  }

  /** After a create or update of {@code type/id} committed with {@code json}. */
  public void committed(String type, String id, String json) {
    validator.stored(type, id, json);
    plugins.of(type).afterCommit();
  }

  /** After a delete of {@code type/id} committed. */
  public void deleted(String type, String id) {
    validator.deleted(type, id);
    plugins.of(type).afterCommit();
  }
}
