package io.appointmentserver.rest;

import io.appointmentserver.interaction.Outcomes;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InternalErrorException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands every exception leaving HAPI's RestfulServer to {@link Outcomes#toResponse}. A failure
 * that no mapping knows while HAPI is still reading the request (its path, parameters and body,
 * before it hands them to a provider) is the request's fault, not the server's: a 400. That is
 * known from the phase, not only from the stack (the JVM throws a frequent exception without one).
 */
public final class ErrorInterceptor {
  private static final Logger log = LoggerFactory.getLogger(ErrorInterceptor.class);
  /** Request attribute: HAPI has not handed the request to a provider yet. */
  private static final String READING = ErrorInterceptor.class.getName() + ".reading";

  @Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_PROCESSED)
  public boolean reading(HttpServletRequest req, HttpServletResponse resp) {
    req.setAttribute(READING, Boolean.TRUE);
    return true;
  }

  @Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED)
  public void read(RequestDetails request) {
    if (request instanceof ServletRequestDetails s) {
      s.getServletRequest().removeAttribute(READING);
    }
  }

  @Hook(Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION)
  public BaseServerResponseException map(RequestDetails request, Throwable failure) {
    BaseServerResponseException mapped = Outcomes.toResponse(failure);
    if (mapped instanceof InternalErrorException && request instanceof ServletRequestDetails s
        && s.getServletRequest().getAttribute(READING) != null) {
      Throwable root = failure;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      String msg = "Invalid request: it cannot be read (" + root + ")";
      log.debug("{} {}: {}", request.getRequestType(), request.getCompleteUrl(), msg, failure);
      mapped = new InvalidRequestException(msg, Outcomes.error(IssueType.STRUCTURE, msg));
    }
    if (mapped.getOperationOutcome() == null && mapped.getStatusCode() >= 400) {
      // what HAPI would make of the message, but printable: it may quote the client's input
      mapped.setOperationOutcome(Outcomes.error(IssueType.PROCESSING, mapped.getMessage()));
    } else {
      Outcomes.printable(mapped.getOperationOutcome());
    }
    // 502, 503, 504: a service the server needs is away (said where it was found), not a bug here
    if (mapped.getStatusCode() >= 500 && (mapped.getStatusCode() < 502 || mapped.getStatusCode() > 504)) {
      log.error("{} {} failed", request.getRequestType(), request.getCompleteUrl(), failure);
    }
    return mapped;
  }
}
