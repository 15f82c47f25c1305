package io.appointmentserver.interaction;

import io.appointmentserver.search.InvalidSearchException;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InternalErrorException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.UnclassifiedServerFailureException;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.security.AuthenticationException;
import io.appointmentserver.security.ForbiddenException;
import io.appointmentserver.store.Bookings;
import io.appointmentserver.store.MissingReferenceException;
import io.appointmentserver.store.GuardRefusedException;
import io.appointmentserver.store.ConcurrentWriteException;
import io.appointmentserver.store.StoreUnavailableException;
import io.appointmentserver.store.VersionConflictException;
import io.appointmentserver.validation.ProfileValidationException;
import io.appointmentserver.validation.TerminologyException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import java.util.List;
import java.util.function.Function;
import org.hl7.fhir.dstu3.model.OperationOutcome;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.OperationOutcome.OperationOutcomeIssueComponent;

/**
 * The one place where failures become HTTP statuses with an OperationOutcome. Everything the
 * store or the rules throw passes through {@link #toResponse(Throwable)}, both inside HAPI's
 * {@code RestfulServer} (see {@link ErrorInterceptor}) and in the servlet filters in front of it.
 */
public final class Outcomes {
  private Outcomes() {}

  public static OperationOutcome issue(IssueSeverity severity, IssueType code, String diagnostics) {
    OperationOutcome oo = new OperationOutcome();
    oo.addIssue().setSeverity(severity).setCode(code).setDiagnostics(printable(diagnostics));
    return oo;
  }

  /**
   * {@code s} without the characters XML cannot carry (NUL and other controls, lone surrogates):
   * a message quoting the client's bad input must still encode as an XML OperationOutcome.
   */
  public static String printable(String s) {
    if (s == null) {
      return null;
    }
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = c >= 0x20 ? !(Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) && !(Character.isLowSurrogate(c) && i > 0
          && Character.isHighSurrogate(s.charAt(i - 1)))) && c != 0xFFFE && c != 0xFFFF
          : c == '\t' || c == '\n' || c == '\r';
      if (!ok && b == null) {
        b = new StringBuilder(s.length()).append(s, 0, i);
      }
      if (b != null) {
        b.append(ok ? c : '\uFFFD');
      }
    }
    return b == null ? s : b.toString();
  }

  /** The same for every issue of an outcome made elsewhere (HAPI's). */
  public static void printable(org.hl7.fhir.instance.model.api.IBaseOperationOutcome outcome) {
    if (outcome instanceof OperationOutcome oo) {
      for (OperationOutcomeIssueComponent issue : oo.getIssue()) {
        if (issue.hasDiagnostics()) {
          issue.setDiagnostics(printable(issue.getDiagnostics()));
        }
      }
    }
  }

  public static OperationOutcome error(IssueType code, String diagnostics) {
    return issue(IssueSeverity.ERROR, code, diagnostics);
  }

  /** The response header that carries validation warnings, one value per warning (HAPI's name). */
  public static final String VALIDATION_HEADER = "X-FHIR-Request-Validation";
  private static final int MAX_WARNING_HEADERS = 10;
  private static final int MAX_WARNING_LENGTH = 300;

  /**
   * Adds a {@link #VALIDATION_HEADER} per warning ({@code warning <message> (<location>)}; the
   * first ten, cut at 300 characters, printable ASCII): a client that takes the default
   * representation still learns that its resource drew warnings. The full issues are in the
   * OperationOutcome the write returns with {@code Prefer: return=OperationOutcome}.
   */
  public static void warningHeaders(List<OperationOutcomeIssueComponent> issues, RequestDetails request) {
    if (request == null || request.getResponse() == null) {
      return;
    }
    int n = 0;
    for (OperationOutcomeIssueComponent issue : issues) {
      if (issue.getSeverity() != IssueSeverity.WARNING || n++ >= MAX_WARNING_HEADERS) {
        continue;
      }
      String where = issue.hasExpression() ? " (" + issue.getExpression().get(0).getValue() + ")" : "";
      String value = "warning " + issue.getDiagnostics() + where;
      StringBuilder b = new StringBuilder(Math.min(value.length(), MAX_WARNING_LENGTH));
      for (int i = 0; i < value.length() && b.length() < MAX_WARNING_LENGTH; i++) {
        char c = value.charAt(i);
        b.append(c >= 0x20 && c < 0x7f ? c : '?');
      }
      request.getResponse().addHeader(VALIDATION_HEADER, b.toString());
    }
  }

  /** An HTTP error of any status with one error issue. */
  public static BaseServerResponseException status(int status, IssueType code, String diagnostics) {
    return new UnclassifiedServerFailureException(status, diagnostics, error(code, diagnostics));
  }

  /** A failure of type {@code E} and the response it deserves. */
  private record Mapping<E extends Throwable>(Class<E> type, Function<E, BaseServerResponseException> response) {
    BaseServerResponseException apply(Throwable t) {
      return response.apply(type.cast(t));
    }
  }

  private static <E extends Throwable> Mapping<E> map(Class<E> type, Function<E, BaseServerResponseException> response) {
    return new Mapping<>(type, response);
  }

  /** Every failure we know how to answer: the one table the cause chain is matched against. */
  private static final List<Mapping<?>> MAPPINGS = List.of(
      map(VersionConflictException.class,
          e -> new PreconditionFailedException(e.getMessage(), error(IssueType.CONFLICT, e.getMessage()))),
      map(MissingReferenceException.class,
          e -> new InvalidRequestException(e.getMessage(), error(IssueType.NOTFOUND, e.getMessage()))),
      map(AuthenticationException.class, e -> {
        ca.uhn.fhir.rest.server.exceptions.AuthenticationException r =
            new ca.uhn.fhir.rest.server.exceptions.AuthenticationException(e.getMessage());
        r.setOperationOutcome(error(IssueType.LOGIN, e.getMessage()));
        r.addResponseHeader("WWW-Authenticate", "Bearer error=\"invalid_token\", error_description=\""
            + e.getMessage().replace('"', '\'') + "\"");
        return r;
      }),
      map(ForbiddenException.class,
          e -> new ForbiddenOperationException(e.getMessage(), error(IssueType.FORBIDDEN, e.getMessage()))),
      map(GuardRefusedException.class, e -> {
        String msg = AccessPolicy.NOT_MATCHING + ": the stored resource is outside the token's context";
        return new ForbiddenOperationException(msg, error(IssueType.FORBIDDEN, msg));
      }),
      map(Bookings.OverlapException.class, e -> status(409, IssueType.CONFLICT, "Double booking: " + e.getMessage())),
      map(ConcurrentWriteException.class, e -> status(409, IssueType.CONFLICT, e.getMessage())),
      map(StoreUnavailableException.class, e -> status(503, IssueType.TRANSIENT,
          "The database is not available at the moment; nothing was changed. Retry later.")),
      map(io.appointmentserver.plugin.ExternalServiceException.class, e -> e.timedOut()
          ? status(504, IssueType.TIMEOUT, e.getMessage()) : status(502, IssueType.TRANSIENT, e.getMessage())),
      map(io.appointmentserver.plugin.RuleViolation.class,
          e -> new UnprocessableEntityException(e.getMessage(), error(e.code(), e.getMessage()))),
      map(ProfileValidationException.class, e -> new UnprocessableEntityException(e.getMessage(), e.outcome())),
      map(TerminologyException.class, e -> e.notFound()
          ? new ResourceNotFoundException(e.getMessage(), error(e.code(), e.getMessage()))
          : new InvalidRequestException(e.getMessage(), error(e.code(), e.getMessage()))),
      map(DataFormatException.class, e -> new InvalidRequestException("Invalid resource: " + e.getMessage(),
          error(IssueType.STRUCTURE, "Invalid resource: " + e.getMessage()))),
      // the request needed more memory than the server has: its transaction rolled back
      map(OutOfMemoryError.class, e -> status(507, IssueType.TOOCOSTLY, "The server ran out of memory for this"
          + " request (" + e.getMessage() + "); nothing of it was written. Send it in smaller parts.")),
      map(io.appointmentserver.search.TextNotIndexedException.class,
          e -> status(503, IssueType.TRANSIENT, e.getMessage())),
      map(InvalidSearchException.class,
          e -> new InvalidRequestException(e.getMessage(), error(IssueType.NOTSUPPORTED, e.getMessage()))),
      // the container refusing what it was asked to read (a form body it cannot parse or too large)
      map(org.eclipse.jetty.http.HttpException.RuntimeException.class, e -> status(
          e.getCode() >= 400 && e.getCode() < 500 ? e.getCode() : 400, IssueType.INVALID,
          "Invalid request: " + (e.getReason() != null ? e.getReason() : e.getMessage()))));

  /**
   * PostgreSQL's refusals of text it cannot hold: {@code character_not_in_repertoire} (a NUL in a
   * text value) and {@code untranslatable_character} (a \\u0000 escape in jsonb). The client's
   * content, not a server fault; the statement failed, so its transaction wrote nothing.
   */
  private static final java.util.Set<String> UNSTORABLE_TEXT = java.util.Set.of("22021", "22P05");

  /**
   * A runtime failure thrown inside HAPI's parsers (a NullPointerException on an extension that is
   * an array, a StackOverflowError on deep nesting) or its reading of the request path: malformed
   * input HAPI did not report as such, so a 400 rather than a 500. Null when the failure did not
   * start there.
   */
  private static Throwable parserCrash(Throwable t) {
    Throwable root = t;
    for (int depth = 0; root.getCause() != null && root.getCause() != root && depth < 10; depth++) {
      root = root.getCause();
    }
    if (!(root instanceof RuntimeException || root instanceof StackOverflowError)) {
      return null;
    }
    // thrown while parsing (not while encoding, which would be the server's own fault), or while
    // HAPI read the request's path (GET /metadata/x/_history/1 failed in IdType)
    StackTraceElement[] stack = root.getStackTrace();
    for (int i = 0; i < Math.min(stack.length, 60); i++) {
      String method = stack[i].getMethodName();
      if (stack[i].getClassName().startsWith("ca.uhn.fhir.parser.")) {
        if (method.startsWith("encode")) {
          return null;
        }
        if (method.startsWith("parse") || method.startsWith("doParse")) {
          return root;
        }
      }
      if (stack[i].getClassName().equals("ca.uhn.fhir.rest.server.RestfulServer")
          && method.equals("populateRequestDetailsFromRequestPath")) {
        return root;
      }
    }
    return null;
  }

  /**
   * Maps a failure to the response it deserves: the outermost exception in its cause chain that
   * {@link #MAPPINGS} knows (looking through HAPI's wrappers); else the failure itself when it is
   * already an HTTP response; unknown failures stay 500 (a bug).
   */
  public static BaseServerResponseException toResponse(Throwable t) {
    Throwable cur = t;
    for (int depth = 0; cur != null && depth < 10; depth++) {
      if (cur instanceof java.sql.SQLException sql && UNSTORABLE_TEXT.contains(sql.getSQLState())) {
        String msg = "The request holds text the database cannot store (a NUL character, \\u0000): " + sql.getMessage();
        return new InvalidRequestException(msg, error(IssueType.VALUE, msg));
      }
      if (cur instanceof java.sql.SQLException sql && "54000".equals(sql.getSQLState())) {
        // program_limit_exceeded: a value too large for the search index (e.g. a number of a million digits)
        String msg = "The resource holds a value too large to index: " + sql.getMessage();
        return new InvalidRequestException(msg, error(IssueType.TOOLONG, msg));
      }
      for (Mapping<?> m : MAPPINGS) {
        if (m.type().isInstance(cur)) {
          return m.apply(cur);
        }
      }
      cur = cur.getCause();
    }
    if (t instanceof BaseServerResponseException e && !(e instanceof InternalErrorException)) {
      return e;
    }
    Throwable parserCrash = parserCrash(t);
    if (parserCrash != null) {
      String msg = "Invalid request: it cannot be read (" + parserCrash + ")";
      return new InvalidRequestException(msg, error(IssueType.STRUCTURE, msg));
    }
    if (t instanceof BaseServerResponseException e) {
      return e;
    }
    return new InternalErrorException(t.getMessage() == null ? t.toString() : t.getMessage(), t);
  }
}
