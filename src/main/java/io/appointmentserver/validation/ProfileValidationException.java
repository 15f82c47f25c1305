package io.appointmentserver.validation;

import org.hl7.fhir.dstu3.model.OperationOutcome;

/**
 * A resource does not conform to the profiles it claims: the validator's issues, errors first.
 * Nothing was written; {@code api.Outcomes} answers 422 with this OperationOutcome.
 */
public final class ProfileValidationException extends RuntimeException {
  private final transient OperationOutcome outcome;

  public ProfileValidationException(OperationOutcome outcome) {
    super(summary(outcome), null, false, false);
    this.outcome = outcome;
  }

  public OperationOutcome outcome() {
    return outcome;
  }

  private static String summary(OperationOutcome oo) {
    var first = oo.getIssueFirstRep();
    String where = first.hasExpression() ? first.getExpression().get(0).getValue() + ": " : "";
    return "The resource does not conform to its profiles: " + where + first.getDiagnostics();
  }
}
