package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import io.appointmentserver.interaction.WritePolicy.Prepared;
import io.appointmentserver.plugin.ChangeRule;
import io.appointmentserver.plugin.RuleViolation;
import io.appointmentserver.store.MissingReferenceException;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoredResource;
import io.appointmentserver.validation.ProfileValidationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.OperationOutcome;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.OperationOutcome.OperationOutcomeIssueComponent;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * <a href="https://hl7.org/fhir/STU3/resource-operations.html#validate">$validate</a>, at type and
 * instance level: would this content be accepted, in general or as the {@code mode} says (update
 * and delete: of the stored resource the URL names, which must exist)? It runs
 * what the write of that mode runs, up to the point where a write would store: the plug-in's rules
 * (on create the server-assigned values, on update the change rule against the stored version),
 * references made relative and, for a create or update, checked to exist, the user's context for
 * what they would write, and the profiles the content claims (and {@code profile}, when given).
 * Nothing is stored. Valid: 200 with the warnings, or the information "No issues detected during
 * validation" as the eHealth service answers; invalid: 412 with the errors, as HAPI's servers answer.
 */
public final class Validate {
  /** What is validated: {@code id} null at type level; {@code mode} null, create, update or delete. */
  public record Request(String type, String id, IBaseResource resource, String mode, String profile) {}

  static final String NO_ISSUES = "No issues detected during validation";

  private final ResourceStore store;
  private final ResourceCodec codec;
  private final WritePolicy policy;
  private final Access access;
  private final Read read;

  Validate(Writes writes, WritePolicy policy, Read read) {
    this.read = read;
    this.store = writes.store();
    this.codec = writes.codec();
    this.access = writes.access();
    this.policy = policy;
  }

  public MethodOutcome validate(Request v, RequestDetails request) {
    String mode = mode(v);
    String id = v.id() == null ? null : Ids.check(v.id());
    // update and delete are judged against the stored resource; the content alone needs none (an
    // instance-level $validate without a mode validates the content, as HAPI's servers do)
    boolean stored = mode.equals("update") || mode.equals("delete");
    StoredResource current = stored ? read.current(v.type(), id, request) : null;
    List<OperationOutcomeIssueComponent> issues = new ArrayList<>();
    if (!mode.equals("delete")) {
      issues.addAll(content(v, mode, current, request));
    }
    access.auditedOperation(request, "$validate", v.type(),
        current != null ? Ids.versioned(v.type(), current.id(), current.version()) : id == null ? null : v.type() + "/" + id,
        current == null ? new String[0] : current.tags());
    OperationOutcome oo = new OperationOutcome();
    oo.getIssue().addAll(issues);
    if (issues.stream().anyMatch(i -> i.getSeverity() == IssueSeverity.ERROR || i.getSeverity() == IssueSeverity.FATAL)) {
      throw new PreconditionFailedException("Validation failed", oo);
    }
    if (issues.isEmpty()) {
      oo.addIssue().setSeverity(IssueSeverity.INFORMATION).setCode(IssueType.INFORMATIONAL).setDiagnostics(NO_ISSUES);
    }
    MethodOutcome outcome = new MethodOutcome();
    outcome.setOperationOutcome(oo);
    return outcome;
  }

  /** The mode, checked against the level: update and delete name the resource they concern. */
  private static String mode(Request v) {
    String mode = v.mode() == null || v.mode().isBlank() ? "" : v.mode().trim().toLowerCase(Locale.ROOT);
    if (!List.of("", "create", "update", "delete").contains(mode)) {
      throw invalid(IssueType.VALUE, "mode must be create, update or delete, not " + v.mode());
    }
    if ((mode.equals("update") || mode.equals("delete")) && v.id() == null) {
      throw invalid(IssueType.REQUIRED, "$validate with mode " + mode + " is asked of the resource it concerns: "
          + "[base]/" + v.type() + "/[id]/$validate");
    }
    if (!mode.equals("delete")) {
      if (v.resource() == null) {
        throw invalid(IssueType.REQUIRED, "$validate needs the resource to validate (the parameter resource)");
      }
      String actual = ((Resource) v.resource()).getResourceType().name();
      if (!actual.equals(v.type())) {
        throw invalid(IssueType.INVALID, "The resource to validate is a " + actual + ", not a " + v.type());
      }
    }
    return mode;
  }

  /** What the write of {@code mode} would find wrong with the content: the issues, errors first. */
  private List<OperationOutcomeIssueComponent> content(Request v, String mode, StoredResource current,
      RequestDetails request) {
    IBaseResource resource = v.resource(); // the request's own copy: nothing of it is kept
    if (v.id() != null) {
      resource.setId(new IdType(v.type(), v.id()));
    }
    if (v.profile() != null && !v.profile().isBlank()) {
      ((Resource) resource).getMeta().addProfile(v.profile().trim());
    }
    try {
      if (mode.equals("create")) {
        policy.plugins().onCreate(v.type(), resource, Access.principal(request));
      }
      Prepared prepared = policy.prepare(v.type(), resource, request);
      if (!mode.isEmpty()) {
        // the user must be allowed to write what they would write
        access.check(request, v.type(), prepared.tags());
        // the local references that must exist (none when FHIR_CHECK_REFERENCES is off)
        if (!prepared.references().isEmpty()) {
          store.writes().checkReferencesExist(prepared.references());
        }
      }
      ChangeRule rule = policy.plugins().of(v.type()).changeRule();
      if (mode.equals("update") && rule != null && rule.concerns(current.json())) {
        rule.check(codec.context().newJsonParser().parseResource(current.json()), resource);
      }
      ResourceCodec.Encoded encoded = codec.encoded(resource, v.type());
      return policy.validate(resource, encoded::content);
    } catch (ProfileValidationException e) {
      return e.outcome().getIssue();
    } catch (RuleViolation e) {
      return List.of(error(e.code(), e.getMessage()));
    } catch (MissingReferenceException e) {
      return List.of(error(IssueType.NOTFOUND, e.getMessage()));
    }
  }

  private static OperationOutcomeIssueComponent error(IssueType code, String diagnostics) {
    return new OperationOutcomeIssueComponent().setSeverity(IssueSeverity.ERROR).setCode(code)
        .setDiagnostics(diagnostics);
  }

  private static InvalidRequestException invalid(IssueType code, String msg) {
    return new InvalidRequestException(msg, Outcomes.error(code, msg));
  }
}
