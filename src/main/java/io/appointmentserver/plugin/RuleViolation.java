package io.appointmentserver.plugin;

import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;

/**
 * A write refused by a resource type's rule: answered 422 with an OperationOutcome whose one error
 * issue has {@code code} and the message as diagnostics (the mapping is the REST layer's, in one place).
 */
public final class RuleViolation extends RuntimeException {
  private final IssueType code;

  public RuleViolation(IssueType code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  /** An invariant of a profile or the base resource: "Rule key violated: human". */
  public static RuleViolation invariant(String key, String human) {
    return new RuleViolation(IssueType.INVARIANT, "Rule " + key + " violated: " + human);
  }

  /** A business rule of the service. */
  public static RuleViolation businessRule(String message) {
    return new RuleViolation(IssueType.BUSINESSRULE, message);
  }

  public IssueType code() {
    return code;
  }
}
