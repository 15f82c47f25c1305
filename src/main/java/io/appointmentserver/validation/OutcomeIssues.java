package io.appointmentserver.validation;

import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.dstu3.model.OperationOutcome;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.OperationOutcome.OperationOutcomeIssueComponent;
import org.hl7.fhir.utilities.validation.ValidationMessage;

/**
 * The validator's messages as OperationOutcome issues: those that go with the response of a
 * write, or the {@link ProfileValidationException} that refuses it.
 */
final class OutcomeIssues {
  private OutcomeIssues() {}

  /**
   * The issues that do not block (warnings, information); throws {@link ProfileValidationException}
   * with all of them when there are errors.
   */
  static List<OperationOutcomeIssueComponent> nonBlocking(List<ValidationMessage> messages) {
    OperationOutcome oo = new OperationOutcome();
    boolean errors = false;
    for (ValidationMessage m : messages) {
      ValidationMessage.IssueSeverity level = m.getLevel();
      errors |= level == ValidationMessage.IssueSeverity.ERROR || level == ValidationMessage.IssueSeverity.FATAL;
      oo.addIssue(issue(m));
    }
    if (errors) {
      // errors first, so that the first issue tells why the write was refused
      oo.getIssue().sort((a, b) -> Integer.compare(a.getSeverity().ordinal(), b.getSeverity().ordinal()));
      throw new ProfileValidationException(oo);
    }
    return oo.getIssue();
  }

  /** The refusal of a resource whose claimed profiles could not be used to validate it. */
  static ProfileValidationException notValidated(List<String> profileUrls, RuntimeException e) {
    OperationOutcome oo = new OperationOutcome();
    oo.addIssue().setSeverity(IssueSeverity.ERROR).setCode(IssueType.PROCESSING)
        .setDiagnostics("The resource could not be validated against " + profileUrls + ": " + e.getMessage());
    return new ProfileValidationException(oo);
  }

  /** A StructureDefinition whose snapshot cannot be made (see {@link Snapshots}). */
  static ProfileValidationException notSnapshot(String why) {
    OperationOutcome oo = new OperationOutcome();
    oo.addIssue().setSeverity(IssueSeverity.ERROR).setCode(IssueType.PROCESSING).setDiagnostics(why);
    return new ProfileValidationException(oo);
  }

  /** One validator message as an OperationOutcome issue: severity, type, FHIRPath location, message. */
  private static OperationOutcomeIssueComponent issue(ValidationMessage m) {
    OperationOutcomeIssueComponent issue = new OperationOutcomeIssueComponent();
    issue.setSeverity(switch (m.getLevel()) {
      case FATAL -> IssueSeverity.FATAL;
      case ERROR -> IssueSeverity.ERROR;
      case WARNING -> IssueSeverity.WARNING;
      default -> IssueSeverity.INFORMATION;
    });
    IssueType code = IssueType.PROCESSING;
    if (m.getType() != null) {
      try {
        code = IssueType.fromCode(m.getType().toCode());
      } catch (Exception e) {
        // a code newer than DSTU3: stays "processing"
      }
    }
    issue.setCode(code);
    String text = m.getMessage();
    if (m.hasSliceInfo()) {
      List<String> slices = new ArrayList<>();
      m.getSliceInfo().forEach(s -> slices.add(s.getMessage()));
      text += " (" + String.join("; ", slices) + ")";
    }
    issue.setDiagnostics(text);
    if (m.getLocation() != null) {
      // the validator's location is a FHIRPath expression such as Appointment.participant[0]
      issue.addLocation(m.getLocation());
      issue.addExpression(m.getLocation());
    }
    return issue;
  }
}
