package io.appointmentserver.validation;

import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;

/**
 * A terminology operation cannot be answered: what it names is not known ({@link #notFound}, a 404)
 * or the request cannot be served as asked (a 400). {@code interaction.Outcomes} maps it.
 */
public final class TerminologyException extends RuntimeException {
  private final boolean notFound;
  private final transient IssueType code;

  private TerminologyException(boolean notFound, IssueType code, String message) {
    super(message, null, false, false);
    this.notFound = notFound;
    this.code = code;
  }

  /** What the request names (a value set, code system, concept map, code) is not known: 404. */
  public static TerminologyException notFound(String message) {
    return new TerminologyException(true, IssueType.NOTFOUND, message);
  }

  /** The request cannot be answered as asked: 400 with {@code code}. */
  public static TerminologyException invalid(IssueType code, String message) {
    return new TerminologyException(false, code, message);
  }

  public boolean notFound() {
    return notFound;
  }

  public IssueType code() {
    return code;
  }
}
