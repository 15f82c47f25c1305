package io.appointmentserver.api;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Hands every exception leaving HAPI's RestfulServer to {@link Outcomes#toResponse}. */
public final class ErrorInterceptor {
  private static final Logger log = LoggerFactory.getLogger(ErrorInterceptor.class);

  @Hook(Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION)
  public BaseServerResponseException map(RequestDetails request, Throwable failure) {
    BaseServerResponseException mapped = Outcomes.toResponse(failure);
    if (mapped.getOperationOutcome() == null && mapped.getStatusCode() >= 400) {
      // what HAPI would make of the message, but printable: it may quote the client's input
      mapped.setOperationOutcome(Outcomes.error(org.hl7.fhir.dstu3.model.OperationOutcome.IssueType.PROCESSING,
          mapped.getMessage()));
    } else {
      Outcomes.printable(mapped.getOperationOutcome());
    }
    if (mapped.getStatusCode() >= 500 && mapped.getStatusCode() != 503) {
      log.error("{} {} failed", request.getRequestType(), request.getCompleteUrl(), failure);
    }
    return mapped;
  }
}
