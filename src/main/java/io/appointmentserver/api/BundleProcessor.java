package io.appointmentserver.api;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.model.api.ResourceMetadataKeyEnum;
import ca.uhn.fhir.model.valueset.BundleEntryTransactionMethodEnum;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.PreferReturnEnum;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
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
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
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
  private static final String STREAMED = BundleProcessor.class.getName() + ".streamed";
  /** The servlet request attribute with the request's body as read (RequestGuard): not copied again. */
  public static final String BODY = BundleProcessor.class.getName() + ".body";

  /** An operation a Bundle entry may call on an instance: (id, request) to the resource it returns. */
  @FunctionalInterface
  interface InstanceOperation extends BiFunction<IdType, RequestDetails, IBaseResource> {}

  private final FhirContext ctx;
  private final Map<String, ResourceProvider<?>> providers;
  private final ConditionalWrites conditional;
  private final PrivilegeCheck privileges;
  private final ResourceStore store;
  private final Map<String, InstanceOperation> operations;

  /** {@code operations}: by {@code Type/$name}, the instance operations entries may call. */
  BundleProcessor(FhirContext ctx, Map<String, ResourceProvider<?>> providers, ConditionalWrites conditional,
      PrivilegeCheck privileges, ResourceStore store, Map<String, InstanceOperation> operations) {
    this.ctx = ctx;
    this.providers = providers;
    this.conditional = conditional;
    this.privileges = privileges;
    this.store = store;
    this.operations = Map.copyOf(operations);
  }

  /**
   * The interceptor that streams a JSON Bundle: before HAPI parses the body into the
   * {@code @Transaction} method's Bundle, it reads it once ({@link StreamedBundle}) and hands HAPI
   * the body without the entries' resources; each resource is parsed when its entry runs.
   */
  public static final class Streaming {
    @Hook(Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED)
    public boolean stream(RequestDetails request) {
      if (request.getRestOperationType() == RestOperationTypeEnum.TRANSACTION
          && RestfulServerUtils.determineRequestEncodingNoDefault(request) == EncodingEnum.JSON) {
        Object read = request instanceof ServletRequestDetails servlet
            ? servlet.getServletRequest().getAttribute(BODY) : null;
        StreamedBundle streamed = StreamedBundle.read(read instanceof byte[] body ? body : request.loadRequestContents());
        if (streamed != null) {
          request.getUserData().put(STREAMED, streamed);
          request.setRequestContents(streamed.skeleton());
        }
      }
      return true;
    }
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

  /**
   * The entries' resources: parsed one at a time from the streamed body (a new object each time),
   * or those of HAPI's whole Bundle (XML); and the conditional references in them.
   */
  private final class Resources {
    private final Bundle bundle;
    private final StreamedBundle streamed;

    Resources(Bundle bundle, StreamedBundle streamed) {
      this.bundle = bundle;
      this.streamed = streamed;
    }

    boolean has(int entry) {
      return streamed != null ? streamed.hasResource(entry) : bundle.getEntry().get(entry).getResource() != null;
    }

    Resource get(int entry) {
      return streamed != null ? streamed.resource(ctx, entry) : bundle.getEntry().get(entry).getResource();
    }

    /** Each conditional reference ({@code Type?params}) of the bundle and the first entry that has it. */
    Map<String, Integer> conditionalReferences() {
      Map<String, Integer> out = new LinkedHashMap<>();
      if (streamed != null) {
        streamed.conditionalReferences().forEach((ref, entry) -> {
          if (isConditional(ref)) {
            out.put(ref, entry);
          }
        });
        return out;
      }
      for (int i = 0; i < bundle.getEntry().size(); i++) {
        Resource r = bundle.getEntry().get(i).getResource();
        if (r != null) {
          for (Reference ref : ctx.newTerser().getAllPopulatedChildElementsOfType(r, Reference.class)) {
            if (ref.getReference() != null && isConditional(ref.getReference())) {
              out.putIfAbsent(ref.getReference(), i);
            }
          }
        }
      }
      return out;
    }
  }

  private boolean isConditional(String reference) {
    int q = reference.indexOf('?');
    return q > 0 && providers.containsKey(reference.substring(0, q));
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
    final String operation; // $name, or _history
    String assigned; // a create's id, known before the entry runs
    StoredResource matched; // a conditional create's match: nothing to write
    boolean conditionalMatch; // a conditional update found its resource: the body gets its id
    BundleEntryComponent response;

    Entry(int index, BundleEntryComponent source, HTTPVerb method, String type, String id, String version,
        Map<String, String[]> params, String operation) {
      this.index = index;
      this.source = source;
      this.method = method;
      this.type = type;
      this.id = id;
      this.version = version;
      this.params = params;
      this.operation = operation;
    }

    String describe() {
      BundleEntryRequestComponent r = source.getRequest();
      return "Bundle entry " + index + " (" + r.getMethod().toCode() + " " + r.getUrl() + ")";
    }
  }

  @Transaction
  public Bundle process(@TransactionParam Bundle bundle, RequestDetails request) {
    ResourceProvider.requireBody(bundle);
    StreamedBundle streamed = request.getUserData().remove(STREAMED) instanceof StreamedBundle s ? s : null;
    if (streamed != null && streamed.size() != bundle.getEntry().size()) {
      // not expected (HAPI keeps every entry); should it happen, HAPI's parse of the whole body is the truth
      bundle = (Bundle) ctx.newJsonParser().parseResource(streamed.json());
      streamed = null;
    }
    Resources resources = new Resources(bundle, streamed);
    PreferReturnEnum prefer = RestfulServerUtils.parsePreferHeader(request.getHeader("Prefer")).getReturn();
    if (bundle.getType() == BundleType.BATCH) {
      return batch(bundle, resources, prefer, request);
    }
    if (bundle.getType() == BundleType.TRANSACTION) {
      return transaction(bundle, resources, prefer, request);
    }
    String msg = "POST [base] takes a Bundle of type batch or transaction, not "
        + (bundle.getType() == null ? "none" : bundle.getType().toCode());
    throw new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
  }

  // ---------------------------------------------------------------- batch

  private Bundle batch(Bundle bundle, Resources resources, PreferReturnEnum prefer, RequestDetails request) {
    Bundle out = new Bundle().setType(BundleType.BATCHRESPONSE);
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      BundleEntryComponent source = bundle.getEntry().get(i);
      BundleEntryComponent result;
      try {
        Entry e = parse(i, source, resources.has(i));
        ServletRequestDetails sub = sub(request, e);
        privileges.check(sub, operation(e));
        result = run(e, sub, resources.get(i), prefer);
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

  private Bundle transaction(Bundle bundle, Resources resources, PreferReturnEnum prefer, RequestDetails request) {
    List<Entry> entries = new ArrayList<>();
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      int index = i;
      BundleEntryComponent source = bundle.getEntry().get(i);
      entries.add(failing(index, source, () -> parse(index, source, resources.has(index))));
    }
    Set<String> references = new HashSet<>();
    return conditional.transactions().run(() -> {
      for (Entry e : entries) {
        failing(e, () -> {
          privileges.check(sub(request, e), operation(e));
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
      // the plain creates' ids, in one round trip
      List<Entry> creates = entries.stream().filter(e -> e.method == HTTPVerb.POST && !hasIfNoneExist(e)).toList();
      List<String> newIds = store.ids().newIds(creates.stream().map(e -> e.type).toList());
      for (int i = 0; i < creates.size(); i++) {
        creates.get(i).assigned = newIds.get(i);
        creates.get(i).id = newIds.get(i);
      }
      Map<String, String> ids = new HashMap<>();
      for (Entry e : entries) {
        failing(e, () -> {
          resolve(e, request, ids);
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
      // conditional references are found before anything is written, each once
      Map<String, String> found = new HashMap<>();
      resources.conditionalReferences().forEach((ref, index) -> failing(entries.get(index), () ->
          found.put(ref, conditionalReference(ref, sub(request, entries.get(index))))));
      List<Entry> order = new ArrayList<>(entries);
      order.sort(Comparator.comparingInt(BundleProcessor::rank));
      // the plain creates are written in batches (ResourceWrites.batched): before any other
      // entry runs, those queued so far are written, so that it sees them
      store.writes().batched(() -> {
        runAll(order, resources, ids, found, references, prefer, request);
        return null;
      });
      if (!references.isEmpty()) {
        failing(null, () -> {
          store.writes().checkReferencesExist(references);
          return null;
        });
      }
      Bundle out = new Bundle().setType(BundleType.TRANSACTIONRESPONSE);
      entries.forEach(e -> out.addEntry(e.response));
      return out;
    });
  }

  /** Runs the entries in {@code order}, each with its resource parsed, rewritten and then dropped. */
  private void runAll(List<Entry> order, Resources resources, Map<String, String> ids, Map<String, String> found,
      Set<String> references, PreferReturnEnum prefer, RequestDetails request) {
    for (Entry e : order) {
      if (e.method != HTTPVerb.POST) {
        failing(e, () -> {
          store.writes().flush();
          return null;
        });
      }
      e.response = failing(e, () -> {
        ServletRequestDetails sub = sub(request, e);
        sub.getUserData().put(DEFERRED, references);
        // parsed now, dropped once written: the bundle's resources are never all in memory
        Resource resource = resources.get(e.index);
        rewrite(resource, ids, found, sub);
        if (e.conditionalMatch) {
          resource.setId(new IdType(e.type, e.id));
        }
        return run(e, sub, resource, prefer);
      });
    }
  }

  private static boolean hasIfNoneExist(Entry e) {
    String ifNoneExist = e.source.getRequest().getIfNoneExist();
    return ifNoneExist != null && !ifNoneExist.isBlank();
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
   * its id (the plain creates have theirs already); the full URL of each written entry is mapped
   * to the resource it becomes.
   */
  private void resolve(Entry e, RequestDetails request, Map<String, String> ids) {
    String fullUrl = e.source.getFullUrl();
    if (e.method == HTTPVerb.POST && e.assigned == null) {
      if (hasIfNoneExist(e)) {
        List<StoredResource> matches = conditional.underLock(sub(request, e), e.type,
            ConditionalWrites.parse(e.source.getRequest().getIfNoneExist()), 2, m -> m);
        if (matches.size() > 1) {
          throw ResourceProvider.multiple("ifNoneExist");
        }
        if (matches.size() == 1) {
          e.matched = matches.get(0);
          e.id = e.matched.id();
        }
      }
      if (e.matched == null) {
        e.assigned = store.ids().newId(e.type);
        e.id = e.assigned;
      }
    } else if (e.method == HTTPVerb.PUT && e.id == null) {
      List<StoredResource> matches = conditional.underLock(sub(request, e), e.type,
          ConditionalWrites.criteria(e.params), 2, m -> m);
      if (matches.size() > 1) {
        throw ResourceProvider.multiple("the conditional update's criteria");
      }
      if (matches.isEmpty()) {
        e.method = HTTPVerb.POST; // no match: a create
        e.assigned = store.ids().newId(e.type);
        e.id = e.assigned;
      } else {
        e.id = matches.get(0).id();
        e.conditionalMatch = true;
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
   * matches it within the user's context (none: 400, several: 412), found before any entry ran.
   */
  private void rewrite(Resource resource, Map<String, String> ids, Map<String, String> found,
      ServletRequestDetails sub) {
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
      if (mapped == null && isConditional(value)) {
        mapped = found.computeIfAbsent(value, v -> conditionalReference(v, sub));
      }
      if (mapped != null) {
        ref.setReference(mapped);
        // a parser that linked the entry's resource: stored, it would become a contained copy
        ref.setResource(null);
      }
    }
    if (ids.isEmpty()) {
      return;
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

  private Entry parse(int index, BundleEntryComponent source, boolean hasResource) {
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
    String operation = null;
    int n = segments.size();
    String last = n == 0 ? "" : segments.get(n - 1);
    if (n >= 4 && segments.get(n - 2).equals("_history") && providers.containsKey(segments.get(n - 4))) {
      type = segments.get(n - 4);
      id = segments.get(n - 3);
      version = segments.get(n - 1);
    } else if (last.equals("_history") || last.startsWith("$")) {
      // [type]/[id]/_history, [type]/_history, [type]/[id]/$op
      operation = last;
      if (n >= 3 && providers.containsKey(segments.get(n - 3))) {
        type = segments.get(n - 3);
        id = segments.get(n - 2);
      } else if (n >= 2 && last.equals("_history") && providers.containsKey(segments.get(n - 2))) {
        type = segments.get(n - 2);
      }
      if (type != null && last.startsWith("$") && !operations.containsKey(type + "/" + last)) {
        type = null;
      }
    } else if (n >= 2 && providers.containsKey(segments.get(n - 2)) && !last.startsWith("_")) {
      type = segments.get(n - 2);
      id = last;
    } else if (n >= 1 && providers.containsKey(last)) {
      type = last;
    }
    if (type == null) {
      String msg = "Bundle entry " + index + ": " + r.getMethod().toCode() + " " + url
          + " is not supported in a Bundle (a resource type, [type]/[id], [type]/[id]/_history/[vid],"
          + " [type]?params, the history of a type or resource, or " + String.join(", ", operations.keySet()) + ")";
      throw Outcomes.status(400, IssueType.NOTSUPPORTED, msg);
    }
    if (id != null) {
      ResourceProvider.checkId(id);
    }
    HTTPVerb method = r.getMethod();
    boolean needsBody = method == HTTPVerb.POST || method == HTTPVerb.PUT;
    if (needsBody && !hasResource) {
      throw invalid("Bundle entry " + index + " (" + method.toCode() + ") has no resource");
    }
    boolean byId = id != null && version == null;
    boolean ok = operation != null ? method == HTTPVerb.GET : switch (method) {
      case GET -> true;
      case POST -> id == null && version == null;
      case PUT, DELETE -> byId || (id == null && version == null && params != null);
      default -> false;
    };
    if (!ok) {
      throw invalid("Bundle entry " + index + ": " + method.toCode() + " " + url + " is not a valid request");
    }
    return new Entry(index, source, method, type, id, version, params, operation);
  }

  private static RestOperationTypeEnum operation(Entry e) {
    if (e.operation != null) {
      return e.operation.startsWith("$") ? RestOperationTypeEnum.EXTENDED_OPERATION_INSTANCE
          : e.id != null ? RestOperationTypeEnum.HISTORY_INSTANCE : RestOperationTypeEnum.HISTORY_TYPE;
    }
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
    if (e.operation != null && e.operation.startsWith("$")) {
      sub.setOperation(e.operation);
    }
    sub.setSubRequest(true);
    return sub;
  }

  /** Runs one entry by its provider's method; its response entry. */
  private BundleEntryComponent run(Entry e, ServletRequestDetails sub, Resource resource, PreferReturnEnum prefer) {
    ResourceProvider<?> p = providers.get(e.type);
    BundleEntryComponent out = new BundleEntryComponent();
    BundleEntryResponseComponent response = out.getResponse();
    if (e.operation != null) {
      out.setResource((Resource) (e.operation.startsWith("$")
          ? operations.get(e.type + "/" + e.operation).apply(new IdType(e.type, e.id), sub)
          : history(p, e, sub)));
      response.setStatus("200 OK");
      return out;
    }
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
        if (prefer == PreferReturnEnum.OPERATION_OUTCOME && m.getOperationOutcome() instanceof Resource oo) {
          response.setOutcome(oo);
        }
        return out;
      }
      case POST -> {
        if (e.matched != null) {
          response.setStatus("200 OK").setLocation(e.type + "/" + e.id + "/_history/" + e.matched.version())
              .setEtag("W/\"" + e.matched.version() + "\"").setLastModified(java.util.Date.from(e.matched.lastUpdated()));
          if (prefer == PreferReturnEnum.REPRESENTATION) {
            out.setResource((Resource) ctx.newJsonParser().parseResource(e.matched.json()));
          }
          return out;
        }
        return written(create(p, e, sub, resource), out, prefer);
      }
      case PUT -> {
        return written(update(p, e, sub, resource), out, prefer);
      }
      default -> throw invalid(e.describe() + ": " + e.method.toCode() + " is not supported in a Bundle");
    }
  }

  /** The first page of a resource's or a type's history, as a history Bundle. */
  private static Bundle history(ResourceProvider<?> p, Entry e, ServletRequestDetails sub) {
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
    IBundleProvider versions = e.id != null ? p.instanceHistory(new IdType(e.type, e.id), since, count, null, sub)
        : p.typeHistory(since, count, null, sub);
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
  private static <T extends IBaseResource> MethodOutcome create(ResourceProvider<T> p, Entry e, RequestDetails sub,
      Resource resource) {
    T cast = p.cast(resource);
    return e.assigned != null ? p.create(cast, sub, e.assigned)
        : p.create(cast, sub.getHeader("If-None-Exist"), sub);
  }

  private static <T extends IBaseResource> MethodOutcome update(ResourceProvider<T> p, Entry e, RequestDetails sub,
      Resource resource) {
    return p.update(new IdType(e.type, e.id), p.cast(resource), null, sub);
  }

  /**
   * The response entry of a write: status, location, ETag, last modified; the resource or the
   * OperationOutcome (its warnings) if the client prefers it ({@code Prefer: return=...}).
   */
  private static BundleEntryComponent written(MethodOutcome m, BundleEntryComponent out, PreferReturnEnum prefer) {
    BundleEntryResponseComponent response = out.getResponse();
    IdType id = (IdType) m.getId();
    response.setStatus(Boolean.TRUE.equals(m.getCreated()) ? "201 Created" : "200 OK")
        .setLocation(id.getResourceType() + "/" + id.getIdPart() + "/_history/" + id.getVersionIdPart())
        .setEtag("W/\"" + id.getVersionIdPart() + "\"");
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
