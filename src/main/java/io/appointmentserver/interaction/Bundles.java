package io.appointmentserver.interaction;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.PreferReturnEnum;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import ca.uhn.fhir.util.FhirTerser;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.plugin.Operations.InstanceOperation;
import io.appointmentserver.store.StoredResource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.dstu3.model.Bundle.BundleType;
import org.hl7.fhir.dstu3.model.Bundle.HTTPVerb;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.OperationOutcome;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Reference;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.dstu3.model.UriType;

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
public final class Bundles {
  private final FhirContext ctx;
  private final Set<String> types;
  private final ConditionalWrites conditional;
  private final PrivilegeCheck privileges;
  private final ResourceStore store;
  private final Set<String> operations;
  private final BundleEntries runner;

  /** {@code operations}: by {@code Type/$name}, the instance operations entries may call. */
  public Bundles(Interactions interactions, PrivilegeCheck privileges, Map<String, InstanceOperation> operations) {
    this.ctx = interactions.codec().context();
    this.types = ctx.getResourceTypes();
    this.conditional = interactions.conditional();
    this.privileges = privileges;
    this.store = interactions.store();
    this.operations = Set.copyOf(operations.keySet());
    this.runner = new BundleEntries(interactions, operations);
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
    return q > 0 && types.contains(reference.substring(0, q));
  }

  /**
   * A batch or transaction Bundle; {@code streamed}: its JSON as read once ({@link StreamedBundle}),
   * the entries' resources parsed one at a time from it, or null (XML: HAPI's whole Bundle).
   */
  public Bundle process(Bundle bundle, StreamedBundle streamed, RequestDetails request) {
    Writes.requireBody(bundle);
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

  private BundleEntry parse(int index, BundleEntryComponent source, boolean hasResource) {
    return BundleEntry.parse(index, source, hasResource, types, operations);
  }

  // ---------------------------------------------------------------- batch

  private Bundle batch(Bundle bundle, Resources resources, PreferReturnEnum prefer, RequestDetails request) {
    Bundle out = new Bundle().setType(BundleType.BATCHRESPONSE);
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      BundleEntryComponent source = bundle.getEntry().get(i);
      BundleEntryComponent result;
      try {
        BundleEntry e = parse(i, source, resources.has(i));
        ServletRequestDetails sub = e.sub(request);
        privileges.check(sub, e.operation());
        result = runner.run(e, sub, resources.get(i), prefer, null);
      } catch (RuntimeException ex) {
        BaseServerResponseException r = Outcomes.toResponse(ex);
        if (r.getStatusCode() >= 500) {
          throw ex; // a server error is not an entry's answer
        }
        result = new BundleEntryComponent();
        result.getResponse().setStatus(BundleEntries.status(r.getStatusCode()))
            .setOutcome((Resource) BundleEntries.outcome(r));
      }
      out.addEntry(result);
    }
    return out;
  }

  // ---------------------------------------------------------------- transaction

  private Bundle transaction(Bundle bundle, Resources resources, PreferReturnEnum prefer, RequestDetails request) {
    List<BundleEntry> entries = new ArrayList<>();
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      int index = i;
      BundleEntryComponent source = bundle.getEntry().get(i);
      entries.add(BundleEntries.failing(index, source, () -> parse(index, source, resources.has(index))));
    }
    Set<String> references = new HashSet<>();
    return conditional.transactions().run(() -> {
      for (BundleEntry e : entries) {
        BundleEntries.failing(e, () -> {
          privileges.check(e.sub(request), e.operation());
          return null;
        });
      }
      List<String> locks = new ArrayList<>();
      for (BundleEntry e : entries) {
        BundleEntries.failing(e, () -> {
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
      List<BundleEntry> creates = entries.stream().filter(e -> e.method == HTTPVerb.POST && !e.hasIfNoneExist()).toList();
      List<String> newIds = store.ids().newIds(creates.stream().map(e -> e.type).toList());
      for (int i = 0; i < creates.size(); i++) {
        creates.get(i).assigned = newIds.get(i);
        creates.get(i).id = newIds.get(i);
      }
      Map<String, String> ids = new HashMap<>();
      for (BundleEntry e : entries) {
        BundleEntries.failing(e, () -> {
          resolve(e, request, ids);
          return null;
        });
      }
      Set<String> written = new HashSet<>();
      for (BundleEntry e : entries) {
        String target = e.method == HTTPVerb.GET || e.id == null ? null : e.type + "/" + e.id;
        if (target != null && !written.add(target)) {
          String msg = e.describe() + ": " + target + " is written by another entry of the transaction too";
          throw new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
        }
      }
      // conditional references are found before anything is written, each once
      Map<String, String> found = new HashMap<>();
      resources.conditionalReferences().forEach((ref, index) -> BundleEntries.failing(entries.get(index), () ->
          found.put(ref, conditionalReference(ref, entries.get(index).sub(request)))));
      List<BundleEntry> order = new ArrayList<>(entries);
      order.sort(Comparator.comparingInt(BundleEntry::rank));
      // the plain creates are written in batches (ResourceWrites.batched): before any other
      // entry runs, those queued so far are written, so that it sees them
      store.writes().batched(() -> {
        runAll(order, new Run(resources, ids, found, references, request), prefer);
        return null;
      });
      if (!references.isEmpty()) {
        BundleEntries.failing(null, () -> {
          store.writes().checkReferencesExist(references);
          return null;
        });
      }
      Bundle out = new Bundle().setType(BundleType.TRANSACTIONRESPONSE);
      entries.forEach(e -> out.addEntry(e.response));
      return out;
    });
  }

  /**
   * What the entries of a transaction share as they run: their resources, the ids of full URLs and
   * conditional references, where their references go to be checked at the end, the request.
   */
  private record Run(Resources resources, Map<String, String> ids, Map<String, String> found, Set<String> references,
      RequestDetails request) {}

  /** Runs the entries in {@code order}, each with its resource parsed, rewritten and then dropped. */
  private void runAll(List<BundleEntry> order, Run run, PreferReturnEnum prefer) {
    for (BundleEntry e : order) {
      if (e.method != HTTPVerb.POST) {
        BundleEntries.failing(e, () -> {
          store.writes().flush();
          return null;
        });
      }
      e.response = BundleEntries.failing(e, () -> {
        ServletRequestDetails sub = e.sub(run.request());
        // parsed now, dropped once written: the bundle's resources are never all in memory
        Resource resource = run.resources().get(e.index);
        rewrite(resource, run.ids(), run.found(), sub);
        if (e.conditionalMatch) {
          resource.setId(new IdType(e.type, e.id));
        }
        return runner.run(e, sub, resource, prefer, run.references());
      });
    }
  }

  /**
   * Before anything is written: a conditional create or update finds its match (under its
   * criteria's lock, held until the transaction ends) and becomes a plain one; every create gets
   * its id (the plain creates have theirs already); the full URL of each written entry is mapped
   * to the resource it becomes.
   */
  private void resolve(BundleEntry e, RequestDetails request, Map<String, String> ids) {
    String fullUrl = e.source.getFullUrl();
    if (e.method == HTTPVerb.POST && e.assigned == null) {
      if (e.hasIfNoneExist()) {
        List<StoredResource> matches = conditional.underLock(e.sub(request), e.type,
            ConditionalWrites.parse(e.source.getRequest().getIfNoneExist()), 2, m -> m);
        if (matches.size() > 1) {
          throw Writes.multiple("ifNoneExist");
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
      List<StoredResource> matches = conditional.underLock(e.sub(request), e.type,
          ConditionalWrites.criteria(e.params), 2, m -> m);
      if (matches.size() > 1) {
        throw Writes.multiple("the conditional update's criteria");
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
      throw Writes.multiple("the conditional reference " + reference);
    }
    return type + "/" + matches.get(0).id();
  }

}
