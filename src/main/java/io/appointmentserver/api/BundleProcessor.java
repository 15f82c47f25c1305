package io.appointmentserver.api;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.RequestTypeEnum;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import ca.uhn.fhir.util.FhirTerser;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoredResource;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.dstu3.model.Bundle.BundleEntryRequestComponent;
import org.hl7.fhir.dstu3.model.Bundle.BundleEntryResponseComponent;
import org.hl7.fhir.dstu3.model.Bundle.BundleType;
import org.hl7.fhir.dstu3.model.Bundle.HTTPVerb;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.OperationOutcome;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Reference;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.dstu3.model.UriType;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * {@code POST [base]} with a {@code batch} or {@code transaction} Bundle
 * (<a href="https://hl7.org/fhir/STU3/http.html#transaction">DSTU3 batch/transaction</a>). Every
 * entry is the single request it stands for, run by the same {@link ResourceProvider} method with
 * the same privilege check, rules, validation, context checks and audit.
 *
 * <p>A batch runs its entries one after the other, each on its own, and reports each status. A
 * transaction is one database transaction ({@link io.appointmentserver.store.TransactionScope}):
 * the conditional entries are resolved first (each under its criteria's lock) and the new
 * resources get their ids; {@code urn:uuid:}, {@code urn:oid:} and other full URLs, and
 * conditional references ({@code Patient?identifier=x}), are replaced by those ids in every
 * reference and uri of the bundle; then the entries run in the specification's order (deletes,
 * creates, updates, reads), and the references to this server are checked once all
 * are written (so that entries may refer to each other in any order). Two writes of one resource
 * are a 400; the first refused entry fails the whole transaction, with its status and an
 * OperationOutcome naming it, and nothing is written.
 */
public final class BundleProcessor {
  private static final String DEFERRED = BundleProcessor.class.getName() + ".references";

  private final FhirContext ctx;
  private final Map<String, ResourceProvider<?>> providers;
  private final ConditionalWrites conditional;
  private final PrivilegeCheck privileges;
  private final ResourceStore store;

  BundleProcessor(FhirContext ctx, Map<String, ResourceProvider<?>> providers, ConditionalWrites conditional,
      PrivilegeCheck privileges, ResourceStore store) {
    this.ctx = ctx;
    this.providers = providers;
    this.conditional = conditional;
    this.privileges = privileges;
    this.store = store;
  }

  /**
   * The references a write must find in the database now: all of them, or none within a
   * transaction, which collects them and checks them once all its entries are written.
   */
  @SuppressWarnings("unchecked")
  static Set<String> toCheck(Set<String> references, RequestDetails request) {
    if (request != null && request.getUserData().get(DEFERRED) instanceof Set<?> deferred) {
      ((Set<String>) deferred).addAll(references);
      return Set.of();
    }
    return references;
  }

  /** One entry: what it asks, parsed from its request. */
  private static final class Entry {
    final int index;
    final BundleEntryComponent source;
    HTTPVerb method;
    final String type;
    String id;
    final String version;
    final Map<String, String[]> params;
    String assigned; // a create's id, known before the entry runs
    StoredResource matched; // a conditional create's match: nothing to write
    BundleEntryComponent response;

    Entry(int index, BundleEntryComponent source, HTTPVerb method, String type, String id, String version,
        Map<String, String[]> params) {
      this.index = index;
      this.source = source;
      this.method = method;
      this.type = type;
      this.id = id;
      this.version = version;
      this.params = params;
    }

    String describe() {
      BundleEntryRequestComponent r = source.getRequest();
      return "Bundle entry " + index + " (" + r.getMethod().toCode() + " " + r.getUrl() + ")";
    }
  }

  @Transaction
  public Bundle process(@TransactionParam Bundle bundle, RequestDetails request) {
    if (bundle.getType() == BundleType.BATCH) {
      return batch(bundle, request);
    }
    if (bundle.getType() == BundleType.TRANSACTION) {
      return transaction(bundle, request);
    }
    String msg = "POST [base] takes a Bundle of type batch or transaction, not "
        + (bundle.getType() == null ? "none" : bundle.getType().toCode());
    throw new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
  }

  // ---------------------------------------------------------------- batch

  private Bundle batch(Bundle bundle, RequestDetails request) {
    Bundle out = new Bundle().setType(BundleType.BATCHRESPONSE);
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      BundleEntryComponent source = bundle.getEntry().get(i);
      BundleEntryComponent result;
      try {
        Entry e = parse(i, source);
        ServletRequestDetails sub = sub(request, e);
        privileges.check(sub, operation(e));
        result = run(e, sub);
      } catch (RuntimeException ex) {
        BaseServerResponseException r = Outcomes.toResponse(ex);
        if (r.getStatusCode() >= 500) {
          throw ex; // a server error is not an entry's answer
        }
        result = new BundleEntryComponent();
        result.getResponse().setStatus(status(r.getStatusCode()))
            .setOutcome((Resource) outcome(r));
      }
      out.addEntry(result);
    }
    return out;
  }

  // ---------------------------------------------------------------- transaction

  private Bundle transaction(Bundle bundle, RequestDetails request) {
    List<Entry> entries = new ArrayList<>();
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      int index = i;
      BundleEntryComponent source = bundle.getEntry().get(i);
      entries.add(failing(index, source, () -> parse(index, source)));
    }
    Set<String> references = new LinkedHashSet<>();
    return conditional.transactions().run(() -> {
      Map<Entry, ServletRequestDetails> subs = new HashMap<>();
      for (Entry e : entries) {
        failing(e, () -> {
          ServletRequestDetails sub = sub(request, e);
          sub.getUserData().put(DEFERRED, references);
          privileges.check(sub, operation(e));
          subs.put(e, sub);
          return null;
        });
      }
      List<String> locks = new ArrayList<>();
      for (Entry e : entries) {
        failing(e, () -> {
          String ifNoneExist = e.source.getRequest().getIfNoneExist();
          if (e.method == HTTPVerb.POST && ifNoneExist != null && !ifNoneExist.isBlank()) {
            locks.add(ConditionalWrites.key(e.type, ConditionalWrites.parse(ifNoneExist)));
          } else if (e.method != HTTPVerb.GET && e.method != HTTPVerb.POST && e.id == null) {
            locks.add(ConditionalWrites.key(e.type, ConditionalWrites.criteria(e.params)));
          }
          return null;
        });
      }
      conditional.lockAll(locks);
      Map<String, String> ids = new HashMap<>();
      for (Entry e : entries) {
        failing(e, () -> {
          resolve(e, subs.get(e), ids);
          return null;
        });
      }
      Set<String> written = new HashSet<>();
      for (Entry e : entries) {
        String target = e.method == HTTPVerb.GET || e.id == null ? null : e.type + "/" + e.id;
        if (target != null && !written.add(target)) {
          String msg = e.describe() + ": " + target + " is written by another entry of the transaction too";
          throw new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
        }
      }
      for (Entry e : entries) {
        failing(e, () -> {
          rewrite(e, ids, subs.get(e));
          return null;
        });
      }
      List<Entry> order = new ArrayList<>(entries);
      order.sort(Comparator.comparingInt(BundleProcessor::rank));
      for (Entry e : order) {
        e.response = failing(e, () -> run(e, subs.get(e)));
      }
      if (!references.isEmpty()) {
        failing(null, () -> {
          store.checkReferencesExist(references);
          return null;
        });
      }
      Bundle out = new Bundle().setType(BundleType.TRANSACTIONRESPONSE);
      entries.forEach(e -> out.addEntry(e.response));
      return out;
    });
  }

  /** The specification's order: deletes, creates, updates, reads. */
  private static int rank(Entry e) {
    return switch (e.method) {
      case DELETE -> 0;
      case POST -> 1;
      case PUT -> 2;
      default -> 3;
    };
  }

  /**
   * Before anything is written: a conditional create or update finds its match (under its
   * criteria's lock, held until the transaction ends) and becomes a plain one; every create gets
   * its id; the full URL of each written entry is mapped to the resource it becomes.
   */
  private void resolve(Entry e, ServletRequestDetails sub, Map<String, String> ids) {
    String fullUrl = e.source.getFullUrl();
    if (e.method == HTTPVerb.POST) {
      String ifNoneExist = e.source.getRequest().getIfNoneExist();
      if (ifNoneExist != null && !ifNoneExist.isBlank()) {
        List<StoredResource> matches = conditional.underLock(sub, e.type, ConditionalWrites.parse(ifNoneExist), 2,
            m -> m);
        if (matches.size() > 1) {
          throw ResourceProvider.multiple("ifNoneExist");
        }
        if (matches.size() == 1) {
          e.matched = matches.get(0);
          e.id = e.matched.id();
        }
      }
      if (e.matched == null) {
        e.assigned = store.newId(e.type);
        e.id = e.assigned;
      }
    } else if (e.method == HTTPVerb.PUT && e.id == null) {
      List<StoredResource> matches = conditional.underLock(sub, e.type, ConditionalWrites.criteria(e.params), 2,
          m -> m);
      if (matches.size() > 1) {
        throw ResourceProvider.multiple("the conditional update's criteria");
      }
      if (matches.isEmpty()) {
        e.method = HTTPVerb.POST; // no match: a create
        e.assigned = store.newId(e.type);
        e.id = e.assigned;
      } else {
        e.id = matches.get(0).id();
        e.source.getResource().setId(new IdType(e.type, e.id));
      }
    }
    boolean writes = e.method == HTTPVerb.POST || e.method == HTTPVerb.PUT;
    if (writes && e.id != null && fullUrl != null && !fullUrl.isBlank()) {
      String to = e.type + "/" + e.id;
      ids.put(fullUrl, to);
      // a relative reference of the same type and id stands for an absolute full URL's resource
      IdType given = new IdType(fullUrl);
      if (fullUrl.startsWith("http") && e.type.equals(given.getResourceType()) && given.hasIdPart()) {
        ids.putIfAbsent(e.type + "/" + given.getIdPart(), to);
      }
    }
  }

  /**
   * Every reference and uri of the entry's resource that names another entry's full URL gets the
   * id of that resource; a conditional reference ({@code Type?params}) gets the one resource that
   * matches it within the user's context (none: 400, several: 412).
   */
  private void rewrite(Entry e, Map<String, String> ids, ServletRequestDetails sub) {
    Resource resource = e.source.getResource();
    if (resource == null) {
      return;
    }
    FhirTerser terser = ctx.newTerser();
    for (Reference ref : terser.getAllPopulatedChildElementsOfType(resource, Reference.class)) {
      String value = ref.getReference();
      if (value == null) {
        continue;
      }
      String mapped = ids.get(value);
      if (mapped == null && value.indexOf('?') > 0 && providers.containsKey(value.substring(0, value.indexOf('?')))) {
        mapped = conditionalReference(value, sub);
      }
      if (mapped != null) {
        ref.setReference(mapped);
        // the parser linked the entry's resource: stored, it would become a contained copy
        ref.setResource(null);
      }
    }
    for (UriType uri : terser.getAllPopulatedChildElementsOfType(resource, UriType.class)) {
      String mapped = uri.getValue() == null ? null : ids.get(uri.getValue());
      if (mapped != null) {
        uri.setValue(mapped);
      }
    }
  }

  private String conditionalReference(String reference, ServletRequestDetails sub) {
    String type = reference.substring(0, reference.indexOf('?'));
    List<StoredResource> matches = conditional.matches(sub, type, ConditionalWrites.parse(reference), 2);
    if (matches.isEmpty()) {
      String msg = "No " + type + " matches the conditional reference " + reference;
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.NOTFOUND, msg));
    }
    if (matches.size() > 1) {
      throw ResourceProvider.multiple("the conditional reference " + reference);
    }
    return type + "/" + matches.get(0).id();
  }

  // ---------------------------------------------------------------- entries

  private Entry parse(int index, BundleEntryComponent source) {
    BundleEntryRequestComponent r = source.getRequest();
    if (r.getMethod() == null || r.getUrl() == null || r.getUrl().isBlank()) {
      throw invalid("Bundle entry " + index + " needs request.method and request.url");
    }
    String url = r.getUrl().trim();
    int question = url.indexOf('?');
    String path = question < 0 ? url : url.substring(0, question);
    Map<String, String[]> params = question < 0 ? null : ConditionalWrites.query(url.substring(question + 1));
    List<String> segments = new ArrayList<>(List.of(path.split("/")));
    segments.removeIf(String::isEmpty);
    // an absolute URL names the resource by its last segments, as a relative one does
    String type = null;
    String id = null;
    String version = null;
    int n = segments.size();
    if (n >= 4 && segments.get(n - 2).equals("_history") && providers.containsKey(segments.get(n - 4))) {
      type = segments.get(n - 4);
      id = segments.get(n - 3);
      version = segments.get(n - 1);
    } else if (n >= 2 && providers.containsKey(segments.get(n - 2)) && !segments.get(n - 1).startsWith("$")
        && !segments.get(n - 1).startsWith("_")) {
      type = segments.get(n - 2);
      id = segments.get(n - 1);
    } else if (n >= 1 && providers.containsKey(segments.get(n - 1))) {
      type = segments.get(n - 1);
    }
    if (type == null) {
      String msg = "Bundle entry " + index + ": " + r.getMethod().toCode() + " " + url
          + " is not supported in a Bundle (a resource type, [type]/[id], [type]/[id]/_history/[vid] or [type]?params)";
      throw Outcomes.status(400, IssueType.NOTSUPPORTED, msg);
    }
    if (id != null) {
      ResourceProvider.checkId(id);
    }
    HTTPVerb method = r.getMethod();
    boolean needsBody = method == HTTPVerb.POST || method == HTTPVerb.PUT;
    if (needsBody && source.getResource() == null) {
      throw invalid("Bundle entry " + index + " (" + method.toCode() + ") has no resource");
    }
    boolean byId = id != null && version == null;
    boolean ok = switch (method) {
      case GET -> true;
      case POST -> id == null && version == null;
      case PUT, DELETE -> byId || (id == null && version == null && params != null);
      default -> false;
    };
    if (!ok) {
      throw invalid("Bundle entry " + index + ": " + method.toCode() + " " + url + " is not a valid request");
    }
    return new Entry(index, source, method, type, id, version, params);
  }

  private static RestOperationTypeEnum operation(Entry e) {
    return switch (e.method) {
      case GET -> e.id == null ? RestOperationTypeEnum.SEARCH_TYPE
          : e.version != null ? RestOperationTypeEnum.VREAD : RestOperationTypeEnum.READ;
      case POST -> RestOperationTypeEnum.CREATE;
      case PUT -> RestOperationTypeEnum.UPDATE;
      case DELETE -> RestOperationTypeEnum.DELETE;
      default -> throw invalid(e.describe() + ": " + e.method.toCode() + " is not supported in a Bundle");
    };
  }

  /**
   * The entry as a request of its own, for the provider method: its method, URL, parameters and
   * conditional headers; the user, the base URL and the audit details of the Bundle's request.
   * Response headers the methods add (ETag, warnings) do not reach the Bundle's response.
   */
  private ServletRequestDetails sub(RequestDetails outer, Entry e) {
    BundleEntryRequestComponent r = e.source.getRequest();
    Map<String, String> headers = new HashMap<>();
    if (r.hasIfMatch()) headers.put("if-match", r.getIfMatch());
    if (r.hasIfNoneExist() && e.method == HTTPVerb.POST) headers.put("if-none-exist", r.getIfNoneExist());
    if (outer.getHeader("Prefer") != null) headers.put("prefer", outer.getHeader("Prefer"));
    ServletRequestDetails o = (ServletRequestDetails) outer;
    ServletRequestDetails sub = new ServletRequestDetails(o.getInterceptorBroadcaster()) {
      @Override
      public String getHeader(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
      }

      @Override
      public List<String> getHeaders(String name) {
        String v = getHeader(name);
        return v == null ? List.of() : List.of(v);
      }
    };
    sub.setServer(o.getServer());
    sub.setServletRequest(o.getServletRequest());
    sub.setServletResponse(new HttpServletResponseWrapper(o.getServletResponse()) {
      @Override
      public void setHeader(String name, String value) {}

      @Override
      public void addHeader(String name, String value) {}
    });
    sub.setFhirServerBase(outer.getFhirServerBase());
    sub.setResourceName(e.type);
    sub.setId(e.id == null ? null : new IdType(e.type, e.id, e.version));
    sub.setParameters(e.params == null ? new HashMap<>() : e.params);
    sub.setRequestType(RequestTypeEnum.valueOf(e.method.toCode()));
    sub.setSubRequest(true);
    return sub;
  }

  /** Runs one entry by its provider's method; its response entry. */
  private BundleEntryComponent run(Entry e, ServletRequestDetails sub) {
    ResourceProvider<?> p = providers.get(e.type);
    BundleEntryComponent out = new BundleEntryComponent();
    BundleEntryResponseComponent response = out.getResponse();
    switch (e.method) {
      case GET -> {
        if (e.id == null) {
          out.setResource(p.search(sub));
          response.setStatus("200 OK");
          return out;
        }
        Resource r = (Resource) p.read(new IdType(e.type, e.id, e.version), sub);
        String etag = "W/\"" + r.getMeta().getVersionId() + "\"";
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
        MethodOutcome m = p.delete(e.id == null ? null : new IdType(e.type, e.id), null, sub);
        response.setStatus("204 No Content");
        if (m.getId() != null && m.getId().hasVersionIdPart()) {
          response.setEtag("W/\"" + m.getId().getVersionIdPart() + "\"");
        }
        return out;
      }
      case POST -> {
        if (e.matched != null) {
          response.setStatus("200 OK").setLocation(e.type + "/" + e.id + "/_history/" + e.matched.version())
              .setEtag("W/\"" + e.matched.version() + "\"").setLastModified(java.util.Date.from(e.matched.lastUpdated()));
          return out;
        }
        return written(create(p, e, sub), out);
      }
      case PUT -> {
        return written(update(p, e, sub), out);
      }
      default -> throw invalid(e.describe() + ": " + e.method.toCode() + " is not supported in a Bundle");
    }
  }

  /** A transaction's create has its id; a batch's may be conditional ({@code ifNoneExist}). */
  private static <T extends IBaseResource> MethodOutcome create(ResourceProvider<T> p, Entry e, RequestDetails sub) {
    T resource = p.cast(e.source.getResource());
    return e.assigned != null ? p.create(resource, sub, e.assigned)
        : p.create(resource, sub.getHeader("If-None-Exist"), sub);
  }

  private static <T extends IBaseResource> MethodOutcome update(ResourceProvider<T> p, Entry e, RequestDetails sub) {
    return p.update(new IdType(e.type, e.id), p.cast(e.source.getResource()), null, sub);
  }

  /** The response entry of a write: status, location, ETag, last modified; the resource if the client prefers it. */
  private static BundleEntryComponent written(MethodOutcome m, BundleEntryComponent out) {
    BundleEntryResponseComponent response = out.getResponse();
    IdType id = (IdType) m.getId();
    response.setStatus(Boolean.TRUE.equals(m.getCreated()) ? "201 Created" : "200 OK")
        .setLocation(id.getResourceType() + "/" + id.getIdPart() + "/_history/" + id.getVersionIdPart())
        .setEtag("W/\"" + id.getVersionIdPart() + "\"");
    if (m.getResource() instanceof Resource r) {
      response.setLastModified(r.getMeta().getLastUpdated());
    }
    return out;
  }

  // ---------------------------------------------------------------- errors

  @FunctionalInterface
  private interface Step<T> {
    T run();
  }

  private static <T> T failing(Entry e, Step<T> step) {
    return failing(e == null ? -1 : e.index, e == null ? null : e.source, step);
  }

  /** A refused step fails the transaction with its status, the OperationOutcome naming the entry. */
  private static <T> T failing(int index, BundleEntryComponent source, Step<T> step) {
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

  private static IBaseResource outcome(BaseServerResponseException r) {
    return r.getOperationOutcome() != null ? r.getOperationOutcome() : Outcomes.error(IssueType.PROCESSING, r.getMessage());
  }

  private static String status(int code) {
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

  private static InvalidRequestException invalid(String msg) {
    return new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
  }
}
