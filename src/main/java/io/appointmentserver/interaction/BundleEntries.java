package io.appointmentserver.interaction;

import ca.uhn.fhir.model.api.ResourceMetadataKeyEnum;
import ca.uhn.fhir.model.valueset.BundleEntryTransactionMethodEnum;
import ca.uhn.fhir.rest.api.PreferReturnEnum;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import io.appointmentserver.plugin.Operations.InstanceOperation;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.dstu3.model.InstantType;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.dstu3.model.Bundle.BundleEntryRequestComponent;
import org.hl7.fhir.dstu3.model.Bundle.BundleEntryResponseComponent;
import org.hl7.fhir.dstu3.model.Bundle.BundleType;
import org.hl7.fhir.dstu3.model.Bundle.HTTPVerb;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.OperationOutcome;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.instance.model.api.IBaseResource;

/** Runs one entry of a batch or transaction by its interaction, and makes its response entry. */
final class BundleEntries {
  private final Interactions interactions;
  private final Map<String, InstanceOperation> operations;

  BundleEntries(Interactions interactions, Map<String, InstanceOperation> operations) {
    this.interactions = interactions;
    this.operations = Map.copyOf(operations);
  }

  /**
   * Runs one entry by its interaction; its response entry. {@code deferred}: within a transaction,
   * where the writes' references go to be checked once every entry is written (null in a batch).
   */
  BundleEntryComponent run(BundleEntry e, ServletRequestDetails sub, Resource resource, PreferReturnEnum prefer,
      Set<String> deferred) {
    BundleEntryComponent out = new BundleEntryComponent();
    BundleEntryResponseComponent response = out.getResponse();
    if (e.operation != null) {
      out.setResource((Resource) (e.operation.startsWith("$")
          ? operations.get(e.type + "/" + e.operation).apply(new IdType(e.type, e.id), sub)
          : history(e, sub)));
      response.setStatus("200 OK");
      return out;
    }
    switch (e.method) {
      case GET -> {
        if (e.id == null) {
          out.setResource(interactions.search().search(e.type, sub, false));
          response.setStatus("200 OK");
          return out;
        }
        Resource r = (Resource) interactions.read().read(e.type, new IdType(e.type, e.id, e.version), sub);
        String etag = Ids.etag(Long.parseLong(r.getMeta().getVersionId()));
        response.setEtag(etag).setLastModified(r.getMeta().getLastUpdated());
        BundleEntryRequestComponent req = e.source.getRequest();
        boolean sameVersion = req.hasIfNoneMatch() && req.getIfNoneMatch().replace("W/", "").equals(etag.replace("W/", ""));
        boolean notModified = req.hasIfModifiedSince() && r.getMeta().getLastUpdated() != null
            && r.getMeta().getLastUpdated().getTime() / 1000 <= req.getIfModifiedSince().getTime() / 1000;
        if (sameVersion || notModified) {
          response.setStatus("304 Not Modified");
        } else {
          out.setResource(r);
          response.setStatus("200 OK");
        }
        return out;
      }
      case DELETE -> {
        MethodOutcome m = interactions.delete().delete(e.type, e.id, sub);
        response.setStatus("204 No Content");
        if (m.getId() != null && m.getId().hasVersionIdPart()) {
          response.setEtag(Ids.etag(m.getId().getVersionIdPartAsLong()));
        }
        if (prefer == PreferReturnEnum.OPERATION_OUTCOME && m.getOperationOutcome() instanceof Resource oo) {
          response.setOutcome(oo);
        }
        return out;
      }
      case POST -> {
        if (e.matched != null) {
          response.setStatus("200 OK").setLocation(Ids.versioned(e.type, e.id, e.matched.version()))
              .setEtag(Ids.etag(e.matched.version())).setLastModified(java.util.Date.from(e.matched.lastUpdated()));
          if (prefer == PreferReturnEnum.REPRESENTATION) {
            out.setResource((Resource) interactions.codec().context().newJsonParser().parseResource(e.matched.json()));
          }
          return out;
        }
        return written(create(e, sub, resource, deferred), out, prefer);
      }
      case PUT -> {
        return written(update(e, sub, resource, deferred), out, prefer);
      }
      default -> throw invalid(e.describe() + ": " + e.method.toCode() + " is not supported in a Bundle");
    }
  }

  /** The first page of a resource's or a type's history, as a history Bundle. */
  private Bundle history(BundleEntry e, ServletRequestDetails sub) {
    InstantType since = null;
    Integer count = null;
    try {
      String[] s = sub.getParameters().get("_since");
      since = s == null ? null : new InstantType(s[0]);
      String[] c = sub.getParameters().get("_count");
      count = c == null ? null : Integer.valueOf(c[0]);
    } catch (RuntimeException ex) {
      throw invalid(e.describe() + ": _since must be an instant and _count a number (" + ex.getMessage() + ")");
    }
    History.Paging paging = new History.Paging(since, count, null);
    IBundleProvider versions = e.id != null
        ? interactions.history().instance(e.type, new IdType(e.type, e.id), paging, sub)
        : interactions.history().type(e.type, paging, sub);
    Bundle out = new Bundle().setType(BundleType.HISTORY);
    out.setTotal(versions.size());
    for (IBaseResource version : versions.getResources(0, versions.preferredPageSize())) {
      Resource r = (Resource) version;
      BundleEntryComponent entry = out.addEntry();
      entry.setFullUrl(sub.getFhirServerBase() + "/" + r.getIdElement().toUnqualifiedVersionless().getValue());
      BundleEntryTransactionMethodEnum method = ResourceMetadataKeyEnum.ENTRY_TRANSACTION_METHOD.get(r);
      HTTPVerb verb = method == null ? HTTPVerb.PUT : HTTPVerb.fromCode(method.getCode());
      // how each version was made, as a history interaction lists it
      entry.getRequest().setMethod(verb).setUrl(verb == HTTPVerb.POST ? e.type
          : e.type + "/" + r.getIdElement().getIdPart());
      if (ResourceMetadataKeyEnum.DELETED_AT.get(r) == null) {
        entry.setResource(r);
      }
    }
    return out;
  }

  /** A transaction's create has its id; a batch's may be conditional ({@code ifNoneExist}). */
  private MethodOutcome create(BundleEntry e, RequestDetails sub, Resource resource, Set<String> deferred) {
    IBaseResource checked = ofType(e, resource);
    return e.assigned != null
        ? interactions.create().create(new WriteCommand(e.type, e.assigned, checked, null,
            new WriteCommand.Origin(sub, deferred)))
        : interactions.create().create(e.type, checked, sub.getHeader("If-None-Exist"), sub);
  }

  /** A transaction's update has its id; a batch's may be conditional (by the entry's parameters). */
  private MethodOutcome update(BundleEntry e, RequestDetails sub, Resource resource, Set<String> deferred) {
    IBaseResource checked = ofType(e, resource);
    return e.id == null ? interactions.update().update(e.type, null, checked, sub)
        : interactions.update().update(new WriteCommand(e.type, e.id, checked, Ids.ifMatch(sub),
            new WriteCommand.Origin(sub, deferred)));
  }

  /** The entry's resource must be of the type its URL names. */
  private IBaseResource ofType(BundleEntry e, Resource resource) {
    String actual = interactions.codec().context().getResourceType(resource);
    if (!actual.equals(e.type)) {
      String msg = "The entry's resource is a " + actual + ", not a " + e.type;
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
    }
    return resource;
  }

  /**
   * The response entry of a write: status, location, ETag, last modified; the resource or the
   * OperationOutcome (its warnings) if the client prefers it ({@code Prefer: return=...}).
   */
  private static BundleEntryComponent written(MethodOutcome m, BundleEntryComponent out, PreferReturnEnum prefer) {
    BundleEntryResponseComponent response = out.getResponse();
    IdType id = (IdType) m.getId();
    response.setStatus(Boolean.TRUE.equals(m.getCreated()) ? "201 Created" : "200 OK")
        .setLocation(Ids.versioned(id.getResourceType(), id.getIdPart(), id.getVersionIdPartAsLong()))
        .setEtag(Ids.etag(id.getVersionIdPartAsLong()));
    if (m.getResource() instanceof Resource r) {
      response.setLastModified(r.getMeta().getLastUpdated());
      if (prefer == PreferReturnEnum.REPRESENTATION) {
        out.setResource(r);
      }
    }
    if (prefer == PreferReturnEnum.OPERATION_OUTCOME && m.getOperationOutcome() instanceof Resource oo) {
      response.setOutcome(oo);
    }
    return out;
  }

  // ---------------------------------------------------------------- errors

  @FunctionalInterface
  interface Step<T> {
    T run();
  }

  static <T> T failing(BundleEntry e, Step<T> step) {
    return failing(e == null ? -1 : e.index, e == null ? null : e.source, step);
  }

  /** A refused step fails the transaction with its status, the OperationOutcome naming the entry. */
  static <T> T failing(int index, BundleEntryComponent source, Step<T> step) {
    try {
      return step.run();
    } catch (RuntimeException ex) {
      BaseServerResponseException r = Outcomes.toResponse(ex);
      if (r.getStatusCode() >= 500 || !(r.getOperationOutcome() instanceof OperationOutcome oo) || oo.getIssue().isEmpty()) {
        throw ex;
      }
      String where = source == null ? "The transaction's references"
          : "Bundle entry " + index + (source.getRequest().getMethod() == null ? ""
              : " (" + source.getRequest().getMethod().toCode() + " " + source.getRequest().getUrl() + ")");
      String diagnostics = oo.getIssueFirstRep().getDiagnostics();
      if (diagnostics == null || !diagnostics.startsWith("Bundle entry")) {
        oo.getIssueFirstRep().setDiagnostics(where + ": " + diagnostics);
      }
      r.setOperationOutcome(oo);
      throw r;
    }
  }

  static IBaseResource outcome(BaseServerResponseException r) {
    return r.getOperationOutcome() != null ? r.getOperationOutcome() : Outcomes.error(IssueType.PROCESSING, r.getMessage());
  }

  static String status(int code) {
    String reason = switch (code) {
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 409 -> "Conflict";
      case 410 -> "Gone";
      case 412 -> "Precondition Failed";
      case 415 -> "Unsupported Media Type";
      case 422 -> "Unprocessable Entity";
      default -> null;
    };
    return reason == null ? Integer.toString(code) : code + " " + reason;
  }

  static InvalidRequestException invalid(String msg) {
    return new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
  }
}
