package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.MethodNotAllowedException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import io.appointmentserver.interaction.WritePolicy.Prepared;
import io.appointmentserver.plugin.ChangeRule;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.Write;
import io.appointmentserver.store.Write.Guard;
import io.appointmentserver.store.WriteResult;
import io.appointmentserver.store.StoredResource;
import io.appointmentserver.store.TransactionScope;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.OperationOutcome;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.OperationOutcome.OperationOutcomeIssueComponent;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The write pipeline every create, update and patch ends in, and the delete's: prepare the
 * content ({@link WritePolicy}: references, the type's rules, access tags, bookings), authorize it
 * against the user's context, validate it against its profiles, store it (with the version check,
 * the replaced version's context and change rule, and the audit events in the same transaction),
 * and tell the validator and the plug-ins once it committed.
 */
final class Writes {
  private final ResourceStore store;
  private final ResourceCodec codec;
  private final WritePolicy policy;
  private final Access access;
  private final TransactionScope transactions;

  Writes(ResourceStore store, ResourceCodec codec, WritePolicy policy, Access access, TransactionScope transactions) {
    this.store = store;
    this.codec = codec;
    this.policy = policy;
    this.access = access;
    this.transactions = transactions;
  }

  ResourceStore store() {
    return store;
  }

  ResourceCodec codec() {
    return codec;
  }

  Access access() {
    return access;
  }

  /** A create: with the id a transaction assigned beforehand ({@code write.id()}), or a new one (null). */
  MethodOutcome create(WriteCommand write) {
    return withProvenance(write, () -> created(write));
  }

  /** An update (or the write of a patch: {@code subtype} "patch"): creates the resource when its id is new. */
  MethodOutcome update(WriteCommand write, String subtype) {
    return withProvenance(write, () -> updated(write, subtype));
  }

  /**
   * The write, and the Provenance of its {@code X-Provenance} header (if any) in the same
   * transaction: both are stored, or neither.
   */
  private MethodOutcome withProvenance(WriteCommand write, java.util.function.Supplier<MethodOutcome> work) {
    org.hl7.fhir.dstu3.model.Provenance provenance = ProvenanceHeader.of(write.request(), codec);
    if (provenance == null) {
      return work.get();
    }
    return transactions.run(() -> {
      MethodOutcome outcome = work.get();
      StoredResource written = StoredForm.of(write.resource());
      created(new WriteCommand("Provenance", null, ProvenanceHeader.of(provenance, written), null,
          WriteCommand.Origin.of(write.request())));
      return outcome;
    });
  }

  private MethodOutcome created(WriteCommand write) {
    String type = write.type();
    IBaseResource resource = write.resource();
    RequestDetails request = write.request();
    policy.plugins().onCreate(type, resource, Access.principal(request));
    Checked checked = check(write);
    WriteResult r = store.writes().create(Write.creating(type, write.id(), checked.content(),
        access.trail(request, "C", "create")));
    committed(type, r.resource());
    return outcome(r, write, "Created", checked.warnings());
  }

  private MethodOutcome updated(WriteCommand write, String subtype) {
    String type = write.type();
    IBaseResource resource = write.resource();
    RequestDetails request = write.request();
    Set<String> withoutUpdate = subtype.equals("update") ? policy.plugins().of(type).profilesWithoutUpdate() : Set.of();
    refuseUpdate(type, withoutUpdate, claimed(resource));
    Checked checked = check(write);
    // A versioned PUT (If-Match) always makes the next version, as the eHealth service answered the
    // seed's PUT with If-Match "1": version 2; a plain PUT, a conditional one, a patch (its version
    // is the one it read, not the client's) of the same content keeps the current version.
    Write.Content content = subtype.equals("update") && write.expectedVersion() != null
        ? checked.content().alwaysWritten() : checked.content();
    WriteResult r = store.writes().update(new Write(new Write.Target(type, write.id(), write.expectedVersion()),
        content, guard(request, type, resource, withoutUpdate), access.trail(request, "U", subtype)));
    if (!r.unchanged()) {
      committed(type, r.resource());
    }
    return outcome(r, write, r.created() ? "Created" : r.unchanged() ? "Unchanged" : "Updated", checked.warnings());
  }

  /** What a create and an update store, and the validation's warnings that go with the response. */
  private record Checked(Write.Content content, List<OperationOutcomeIssueComponent> warnings) {}

  /**
   * The content prepared ({@link WritePolicy#prepare}), authorized (nobody moves a resource into
   * someone else's reach, nor out of their own), encoded once and validated against its profiles.
   */
  private Checked check(WriteCommand write) {
    String type = write.type();
    IBaseResource resource = write.resource();
    RequestDetails request = write.request();
    Prepared prepared = policy.prepare(type, resource, request);
    access.check(request, type, prepared.tags());
    ResourceCodec.Encoded encoded = codec.encoded(resource, type);
    List<OperationOutcomeIssueComponent> warnings = policy.validate(resource, encoded::content);
    return new Checked(new Write.Content(encoded, resource, prepared.tags(),
        write.origin().toCheck(prepared.references()), prepared.bookings()), warnings);
  }

  /** A deletion (a tombstone version); null when the resource never existed. */
  StoredResource delete(String type, String id, Long expected, RequestDetails request) {
    StoredResource s = store.writes().delete(Write.deleting(new Write.Target(type, id, expected),
        policy.noBookings(type), access.guard(request, type), access.trail(request, "D", "delete")));
    if (s != null) {
      transactions.afterCommit(() -> policy.deleted(type, id));
    }
    return s;
  }

  /** Conformance resources reach the validator (and plug-ins their news) once their transaction has committed. */
  private void committed(String type, StoredResource s) {
    // only for the types that need it: a large transaction would hold every resource's JSON till its end
    if (policy.watches(type)) {
      transactions.afterCommit(() -> policy.committed(type, s.id(), s.json()));
    }
  }

  /**
   * The response of a create or update. What the profile validation found that did not block the
   * write is in the OperationOutcome ({@code Prefer: return=OperationOutcome}); with the default
   * representation the warnings also come as {@code X-FHIR-Request-Validation} headers, as HAPI's
   * validating interceptor sends them.
   */
  private static MethodOutcome outcome(WriteResult r, WriteCommand write, String verb,
      List<OperationOutcomeIssueComponent> warnings) {
    StoredResource s = r.resource();
    String type = write.type();
    MethodOutcome outcome = new MethodOutcome(new IdType(type, s.id(), Long.toString(s.version())));
    outcome.setCreated(r.created());
    outcome.setResource(write.resource());
    StoredForm.attach(write.resource(), s);
    OperationOutcome oo = Outcomes.issue(IssueSeverity.INFORMATION, IssueType.INFORMATIONAL,
        verb + " " + type + "/" + s.id() + " (version " + s.version() + ")");
    oo.getIssue().addAll(warnings);
    for (String other : r.overlaps()) {
      String msg = "Double booking: " + type + "/" + s.id() + " overlaps " + other
          + ", which books one of the same participants at the same time";
      oo.addIssue().setSeverity(IssueSeverity.WARNING).setCode(IssueType.CONFLICT).setDiagnostics(msg);
      // also visible to clients that take the resource, not the OperationOutcome
      if (write.request() instanceof ServletRequestDetails servlet) {
        servlet.getServletResponse().addHeader("Warning", "199 appointment-server \"" + msg + "\"");
      }
    }
    outcome.setOperationOutcome(oo);
    Outcomes.warningHeaders(warnings, write.request());
    return outcome;
  }

  /**
   * The version being replaced must be within the user's context, allow this change and, for a
   * PUT, claim none of the profiles {@code withoutUpdate}.
   */
  private Guard guard(RequestDetails request, String type, IBaseResource after, Set<String> withoutUpdate) {
    Guard inContext = access.guard(request, type);
    ChangeRule rule = policy.plugins().of(type).changeRule();
    if (rule == null && withoutUpdate.isEmpty()) {
      return inContext;
    }
    Class<? extends IBaseResource> cls = codec.context().getResourceDefinition(type).getImplementingClass();
    return (oldTags, oldJson) -> {
      if (!inContext.allows(oldTags, oldJson)) {
        return false;
      }
      if (oldJson != null && withoutUpdate.stream().anyMatch(oldJson::contains)) {
        refuseUpdate(type, withoutUpdate, claimed(codec.context().newJsonParser().parseResource(cls, oldJson)));
      }
      if (rule != null && oldJson != null && rule.concerns(oldJson)) {
        rule.check(codec.context().newJsonParser().parseResource(cls, oldJson), after);
      }
      return true;
    };
  }

  private static List<String> claimed(IBaseResource resource) {
    return resource.getMeta().getProfile().stream().map(p -> p.getValueAsString()).toList();
  }

  /**
   * 405 when a profile the resource claims declares no update (eHealth's Communication): the answer
   * of a server for an interaction it does not have.
   */
  private static void refuseUpdate(String type, Set<String> withoutUpdate, List<String> claimed) {
    for (String profile : claimed) {
      if (withoutUpdate.contains(profile)) {
        String msg = "Update is not supported for " + type + " claiming " + profile
            + ": the profile's service declares no update of it; change it with PATCH";
        throw new MethodNotAllowedException(msg, Outcomes.error(IssueType.NOTSUPPORTED, msg));
      }
    }
  }

  /** HAPI hands a create, update or bundle without a body (and without a Content-Type) over as null. */
  static void requireBody(IBaseResource resource) {
    if (resource == null) {
      String msg = "The request has no resource in its body";
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.REQUIRED, msg));
    }
  }

  /** 412: several resources match conditional criteria. */
  static PreconditionFailedException multiple(String what) {
    String msg = "Several resources match " + what + ": make them more selective";
    return new PreconditionFailedException(msg, Outcomes.error(IssueType.DUPLICATE, msg));
  }
}
