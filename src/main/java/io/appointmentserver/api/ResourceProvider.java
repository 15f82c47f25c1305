package io.appointmentserver.api;

import ca.uhn.fhir.rest.annotation.ConditionalUrlParam;
import ca.uhn.fhir.rest.annotation.Count;
import ca.uhn.fhir.rest.annotation.Create;
import ca.uhn.fhir.rest.annotation.Delete;
import ca.uhn.fhir.rest.annotation.History;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Patch;
import ca.uhn.fhir.rest.api.PatchTypeEnum;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.store.VersionConflictException;
import io.appointmentserver.store.Write.Guard;
import io.appointmentserver.api.Rules.ChangeRule;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.annotation.Since;
import ca.uhn.fhir.rest.annotation.Update;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.Write;
import io.appointmentserver.store.WriteResult;
import io.appointmentserver.store.StoredResource;
import io.appointmentserver.api.WritePolicy.Prepared;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.InstantType;
import org.hl7.fhir.dstu3.model.OperationOutcome;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.OperationOutcome.OperationOutcomeIssueComponent;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The RESTful interactions (<a href="https://hl7.org/fhir/STU3/http.html">DSTU3 http</a>) of one
 * resource type; the server binds one instance per DSTU3 resource type.
 */
public final class ResourceProvider<T extends IBaseResource> implements IResourceProvider {
  /** The FHIR id rule. */
  static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

  private final Class<T> resourceClass;
  private final String type;
  private final ResourceStore store;
  private final ResourceCodec codec;
  private final WritePolicy policy;
  private final HistoryQueries history;
  private final Access access;
  private final Searches searches;
  private final ConditionalWrites conditional;

  public ResourceProvider(Class<T> resourceClass, ResourceStore store, ResourceCodec codec,
      WritePolicy policy, HistoryQueries history, Access access, Searches searches, ConditionalWrites conditional) {
    this.resourceClass = resourceClass;
    this.type = codec.context().getResourceType(resourceClass);
    this.store = store;
    this.codec = codec;
    this.policy = policy;
    this.history = history;
    this.access = access;
    this.searches = searches;
    this.conditional = conditional;
  }

  @Override
  public Class<T> getResourceType() {
    return resourceClass;
  }

  /** read and vread. */
  @Read(version = true)
  public IBaseResource read(@IdParam IdType id, RequestDetails request) {
    String idPart = checkId(id.getIdPart());
    StoredResource s;
    if (id.hasVersionIdPart()) {
      Long version = parseVersion(id.getVersionIdPart());
      s = version == null ? null : store.reads().vread(type, idPart, version);
      if (s == null) {
        throw new ResourceNotFoundException(id);
      }
    } else {
      s = store.reads().read(type, idPart);
      if (s == null) {
        throw new ResourceNotFoundException(id);
      }
    }
    access.check(request, type, s.tags());
    if (!s.deleted()) {
      access.audited(request, id.hasVersionIdPart() ? "vread" : "read", type,
          type + "/" + idPart + "/_history/" + s.version(), s.tags());
    }
    if (s.deleted()) {
      throw new ResourceGoneException("Resource " + type + "/" + idPart + " was deleted (version "
          + s.version() + ")");
    }
    return codec.decode(s);
  }

  /**
   * create, with a server-assigned id (a client's id in the body is ignored); with
   * {@code If-None-Exist} a conditional create: one match within the user's context is returned
   * as it is (200), several are a 412.
   */
  @Create
  public MethodOutcome create(@ResourceParam T resource, @ConditionalUrlParam String ifNoneExist,
      RequestDetails request) {
    requireBody(resource);
    if (ifNoneExist == null) {
      return create(resource, request);
    }
    return conditional.underLock(request, type, ConditionalWrites.parse(ifNoneExist), 2, matches -> switch (matches.size()) {
      case 0 -> create(resource, request);
      case 1 -> existing(matches.get(0), request);
      default -> throw multiple("If-None-Exist");
    });
  }

  /** HAPI hands a create, update or bundle without a body (and without a Content-Type) over as null. */
  static void requireBody(IBaseResource resource) {
    if (resource == null) {
      String msg = "The request has no resource in its body";
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.REQUIRED, msg));
    }
  }

  /** The plain create. */
  MethodOutcome create(T resource, RequestDetails request) {
    return create(resource, request, null);
  }

  /** A create, with the id {@code assigned} beforehand (a transaction's) or a new one (null). */
  MethodOutcome create(T resource, RequestDetails request, String assigned) {
    policy.rules().onCreate(type, resource, Access.principal(request));
    Prepared prepared = policy.prepare(type, resource, request);
    access.check(request, type, prepared.tags());
    ResourceCodec.Encoded encoded = codec.encoded(resource, type);
    List<OperationOutcomeIssueComponent> warnings = policy.validate(resource, encoded::content);
    Write.Content content = new Write.Content(encoded, resource, prepared.tags(),
        BundleProcessor.toCheck(prepared.references(), request), prepared.bookings());
    WriteResult r = store.writes().create(Write.creating(type, assigned, content, access.trail(request, "C", "create")));
    committed(r.resource());
    return outcome(r, resource, "Created", warnings, request);
  }

  /**
   * update, which creates the resource when the client chose a new id; without an id, addressed
   * by search parameters, a conditional update: no match within the user's context creates
   * (as a POST), one is updated, several are a 412.
   */
  @Update
  public MethodOutcome update(@IdParam IdType id, @ResourceParam T resource, @ConditionalUrlParam String conditionalUrl,
      RequestDetails request) {
    requireBody(resource);
    if (id == null || !id.hasIdPart()) {
      Map<String, String[]> criteria = ConditionalWrites.criteria(request.getParameters());
      return conditional.underLock(request, type, criteria, 2, matches -> switch (matches.size()) {
        case 0 -> create(resource, request);
        case 1 -> {
          String matched = matches.get(0).id();
          resource.setId(new IdType(type, matched));
          yield write(matched, resource, ifMatch(request), request, "update");
        }
        default -> throw multiple("the conditional update's criteria");
      });
    }
    String idPart = checkId(id.getIdPart());
    String bodyId = resource.getIdElement().getIdPart();
    if (bodyId == null || bodyId.isEmpty()) {
      throw new InvalidRequestException("The resource body must contain an id equal to the URL's id ("
          + idPart + ")", Outcomes.error(IssueType.REQUIRED, "Resource.id is missing in the body"));
    }
    if (!bodyId.equals(idPart)) {
      String msg = "The resource body's id (" + bodyId + ") does not match the URL's id (" + idPart + ")";
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
    }
    return write(idPart, resource, ifMatch(request), request, "update");
  }

  /**
   * patch with a JSON Patch document (<a href="https://hl7.org/fhir/STU3/http.html#patch">DSTU3
   * patch</a>, RFC 6902), with or without If-Match. The patched resource is then written exactly
   * like an update: the same checks, rules and authorization. Without If-Match the patch applies to
   * the current version, and is applied again should another write come in between.
   */
  @Patch
  public MethodOutcome patch(@IdParam IdType id, PatchTypeEnum patchType, @ResourceParam String body,
      @ConditionalUrlParam String conditionalUrl, RequestDetails request) {
    if (id == null || !id.hasIdPart()) {
      Map<String, String[]> criteria = ConditionalWrites.criteria(request.getParameters());
      return conditional.underLock(request, type, criteria, 2, matches -> switch (matches.size()) {
        case 0 -> throw new ResourceNotFoundException("No " + type + " matches the conditional patch's criteria");
        case 1 -> patch(new IdType(type, matches.get(0).id()), patchType, body, null, request);
        default -> throw multiple("the conditional patch's criteria");
      });
    }
    String idPart = checkId(id.getIdPart());
    if (patchType != PatchTypeEnum.JSON_PATCH) {
      throw Outcomes.status(415, IssueType.NOTSUPPORTED, "Only JSON Patch (application/json-patch+json) is supported");
    }
    JsonNode patch = JsonPatches.parse(body);
    Long expected = ifMatch(request);
    for (int attempt = 0; ; attempt++) {
      StoredResource current = store.reads().read(type, idPart);
      if (current == null) {
        throw new ResourceNotFoundException(id);
      }
      access.check(request, type, current.tags());
      if (current.deleted()) {
        throw new ResourceGoneException("Resource " + type + "/" + idPart + " was deleted (version "
            + current.version() + ")");
      }
      if (expected != null && expected != current.version()) {
        throw new VersionConflictException(type, idPart, expected, current.version());
      }
      String patched = JsonPatches.apply(patch, current.json());
      T resource;
      try {
        resource = codec.context().newJsonParser().parseResource(resourceClass, patched);
      } catch (DataFormatException e) {
        String msg = "The patched resource is not a valid " + type + ": " + e.getMessage();
        throw new UnprocessableEntityException(msg, Outcomes.error(IssueType.PROCESSING, msg));
      }
      if (!idPart.equals(resource.getIdElement().getIdPart())) {
        String msg = "A patch must not change the resource's id";
        throw new UnprocessableEntityException(msg, Outcomes.error(IssueType.PROCESSING, msg));
      }
      try {
        MethodOutcome outcome = write(idPart, resource, current.version(), request, "patch");
        // HAPI's patch binding sends no ETag of its own
        if (request instanceof ServletRequestDetails servlet) {
          servlet.getServletResponse().setHeader("ETag", "W/\"" + outcome.getId().getVersionIdPart() + "\"");
        }
        return outcome;
      } catch (VersionConflictException e) {
        if (expected != null || attempt >= 5) {
          throw e;
        }
        // another write came first: patch that one
      }
    }
  }

  /** The write of update and patch: prepare, authorize, store with the version check. */
  private MethodOutcome write(String idPart, T resource, Long expected, RequestDetails request, String subtype) {
    Prepared prepared = policy.prepare(type, resource, request);
    // nobody moves a resource into someone else's reach, nor out of their own
    access.check(request, type, prepared.tags());
    ResourceCodec.Encoded encoded = codec.encoded(resource, type);
    List<OperationOutcomeIssueComponent> warnings = policy.validate(resource, encoded::content);
    Write.Content content = new Write.Content(encoded, resource, prepared.tags(),
        BundleProcessor.toCheck(prepared.references(), request), prepared.bookings());
    WriteResult r = store.writes().update(new Write(new Write.Target(type, idPart, expected), content,
        guard(request, resource), access.trail(request, "U", subtype)));
    committed(r.resource());
    return outcome(r, resource, r.created() ? "Created" : "Updated", warnings, request);
  }

  /**
   * delete: writes a tombstone version; reading the resource then answers 410 Gone. Without an
   * id, addressed by search parameters, a conditional delete: no match within the user's context
   * is a 404, one is deleted, several are a 412 unless the server is set to delete them all.
   */
  @Delete
  public MethodOutcome delete(@IdParam IdType id, @ConditionalUrlParam(supportsMultiple = true) String conditionalUrl,
      RequestDetails request) {
    if (id == null || !id.hasIdPart()) {
      return conditionalDelete(ConditionalWrites.criteria(request.getParameters()), request);
    }
    String idPart = checkId(id.getIdPart());
    StoredResource s = deleteOne(idPart, ifMatch(request), request);
    if (s == null) {
      throw new ResourceNotFoundException(id);
    }
    MethodOutcome outcome = new MethodOutcome(new IdType(type, idPart, Long.toString(s.version())));
    outcome.setOperationOutcome(Outcomes.issue(IssueSeverity.INFORMATION, IssueType.INFORMATIONAL,
        "Deleted " + type + "/" + idPart + " (version " + s.version() + ")"));
    return outcome;
  }

  private StoredResource deleteOne(String idPart, Long expected, RequestDetails request) {
    StoredResource s = store.writes().delete(Write.deleting(new Write.Target(type, idPart, expected),
        policy.noBookings(type), access.guard(request, type), access.trail(request, "D", "delete")));
    if (s != null) {
      conditional.transactions().afterCommit(() -> policy.deleted(type, idPart));
    }
    return s;
  }

  /** Pages of matches are deleted until none is left (each deletion drops out of the next search). */
  private MethodOutcome conditionalDelete(Map<String, String[]> criteria, RequestDetails request) {
    int page = conditional.deleteMultiple() ? HistoryQueries.MAX_PAGE_SIZE : 2;
    return conditional.underLock(request, type, criteria, page, first -> {
      if (first.isEmpty()) {
        throw new ResourceNotFoundException("No " + type + " matches the conditional delete's criteria");
      }
      if (first.size() > 1 && !conditional.deleteMultiple()) {
        throw multiple("the conditional delete's criteria");
      }
      Long expected = first.size() == 1 ? ifMatch(request) : null;
      int deleted = 0;
      String last = null;
      for (List<StoredResource> matches = first; !matches.isEmpty();
          matches = conditional.matches(request, type, criteria, page)) {
        for (StoredResource m : matches) {
          deleteOne(m.id(), expected, request);
          last = m.id() + "/_history/" + (m.version() + 1);
          deleted++;
        }
      }
      MethodOutcome outcome = deleted == 1 ? new MethodOutcome(new IdType(type + "/" + last)) : new MethodOutcome();
      outcome.setOperationOutcome(Outcomes.issue(IssueSeverity.INFORMATION, IssueType.INFORMATIONAL,
          "Deleted " + deleted + " " + type + " matching the criteria"));
      return outcome;
    });
  }

  /** A conditional create's match: answered as it is stored (200), audited as a read. */
  private MethodOutcome existing(StoredResource s, RequestDetails request) {
    access.audited(request, "read", type, type + "/" + s.id() + "/_history/" + s.version(), s.tags());
    IBaseResource resource = codec.decode(s);
    MethodOutcome outcome = new MethodOutcome(new IdType(type, s.id(), Long.toString(s.version())));
    outcome.setCreated(false);
    outcome.setResource(resource);
    StoredResponses.written(request, resource, s);
    outcome.setOperationOutcome(Outcomes.issue(IssueSeverity.INFORMATION, IssueType.INFORMATIONAL,
        "Found " + type + "/" + s.id() + " matching If-None-Exist: nothing was created"));
    return outcome;
  }

  static PreconditionFailedException multiple(String what) {
    String msg = "Several resources match " + what + ": make them more selective";
    return new PreconditionFailedException(msg, Outcomes.error(IssueType.DUPLICATE, msg));
  }

  /** Conformance resources reach the validator once their transaction has committed. */
  private void committed(StoredResource s) {
    // only for the types that need it: a large transaction would hold every resource's JSON till its end
    if (policy.watches(type)) {
      conditional.transactions().afterCommit(() -> policy.committed(type, s.id(), s.json()));
    }
  }

  /** The resource type's model class, for a Bundle entry's resource. */
  T cast(IBaseResource resource) {
    if (!resourceClass.isInstance(resource)) {
      String msg = "The entry's resource is a " + codec.context().getResourceType(resource) + ", not a " + type;
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
    }
    return resourceClass.cast(resource);
  }

  @History
  public IBundleProvider instanceHistory(@IdParam IdType id, @Since InstantType since, @Count Integer count,
      @Offset Integer offset, RequestDetails request) {
    String idPart = checkId(id.getIdPart());
    StoredResource current = store.reads().read(type, idPart);
    if (current == null) {
      throw new ResourceNotFoundException(id);
    }
    access.check(request, type, current.tags());
    return history.of(request, type, idPart, null, since, count, offset, access.filter(request, type),
        tags -> access.audited(request, "history-instance", type, type + "/" + idPart, tags));
  }

  @History
  public IBundleProvider typeHistory(@Since InstantType since, @Count Integer count, @Offset Integer offset,
      RequestDetails request) {
    return history.of(request, type, null, null, since, count, offset, access.filter(request, type),
        tags -> access.audited(request, "history-type", type, null, tags));
  }

  /** search-type, GET and POST {@code _search}: every parameter is read by {@link Searches}. */
  @Search(allowUnknownParams = true)
  public org.hl7.fhir.dstu3.model.Bundle search(RequestDetails request) {
    return searches.search(type, request);
  }

  /**
   * The response of a create or update. What the profile validation found that did not block the
   * write is in the OperationOutcome ({@code Prefer: return=OperationOutcome}); with the default
   * representation the warnings also come as {@code X-FHIR-Request-Validation} headers, as HAPI's
   * validating interceptor sends them.
   */
  private MethodOutcome outcome(WriteResult r, T resource, String verb, List<OperationOutcomeIssueComponent> warnings,
      RequestDetails request) {
    StoredResource s = r.resource();
    MethodOutcome outcome = new MethodOutcome(new IdType(type, s.id(), Long.toString(s.version())));
    outcome.setCreated(r.created());
    outcome.setResource(resource);
    StoredResponses.written(request, resource, s);
    OperationOutcome oo = Outcomes.issue(IssueSeverity.INFORMATION, IssueType.INFORMATIONAL,
        verb + " " + type + "/" + s.id() + " (version " + s.version() + ")");
    oo.getIssue().addAll(warnings);
    for (String other : r.overlaps()) {
      String msg = "Double booking: " + type + "/" + s.id() + " overlaps " + other
          + ", which books one of the same participants at the same time";
      oo.addIssue().setSeverity(IssueSeverity.WARNING).setCode(IssueType.CONFLICT).setDiagnostics(msg);
      // also visible to clients that take the resource, not the OperationOutcome
      if (request instanceof ServletRequestDetails servlet) {
        servlet.getServletResponse().addHeader("Warning", "199 appointment-server \"" + msg + "\"");
      }
    }
    outcome.setOperationOutcome(oo);
    Outcomes.warningHeaders(warnings, request);
    return outcome;
  }

  /** The version being replaced must be within the user's context and allow this change. */
  private Guard guard(RequestDetails request, T after) {
    Guard inContext = access.guard(request, type);
    ChangeRule rule = policy.rules().changeRule(type);
    if (rule == null) {
      return inContext;
    }
    return (oldTags, oldJson) -> {
      if (!inContext.allows(oldTags, oldJson)) {
        return false;
      }
      if (oldJson != null && rule.concerns(oldJson)) {
        rule.check(codec.context().newJsonParser().parseResource(resourceClass, oldJson), after);
      }
      return true;
    };
  }

  static String checkId(String id) {
    if (id == null || !ID.matcher(id).matches()) {
      String msg = "Invalid resource id '" + id + "': ids are 1 to 64 of A-Z, a-z, 0-9, '-' and '.'";
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.VALUE, msg));
    }
    return id;
  }

  private static Long parseVersion(String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** The version in {@code If-Match}, in either form {@code W/"1"} or {@code "1"}; null if absent. */
  static Long ifMatch(RequestDetails request) {
    String header = request.getHeader("If-Match");
    if (header == null || header.isBlank()) {
      return null;
    }
    String v = header.trim();
    if (v.startsWith("W/")) {
      v = v.substring(2);
    }
    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
      v = v.substring(1, v.length() - 1);
    }
    Long version = parseVersion(v);
    if (version == null) {
      String msg = "If-Match must name a version such as W/\"1\" or \"1\", not " + header;
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.VALUE, msg));
    }
    return version;
  }
}
