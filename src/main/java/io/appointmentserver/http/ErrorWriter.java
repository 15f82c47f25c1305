package io.appointmentserver.http;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import io.appointmentserver.api.Outcomes;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.instance.model.api.IBaseOperationOutcome;

/** Writes an error as an OperationOutcome from code outside HAPI (filters, handlers). */
final class ErrorWriter {
  private final FhirContext ctx;

  ErrorWriter(FhirContext ctx) {
    this.ctx = ctx;
  }

  void write(HttpServletRequest req, HttpServletResponse resp, BaseServerResponseException e)
      throws IOException {
    IBaseOperationOutcome oo = e.getOperationOutcome();
    if (oo == null) {
      oo = Outcomes.error(IssueType.PROCESSING, e.getMessage());
    }
    boolean xml = Negotiation.responseFormat(req) == Negotiation.Format.XML;
    String body = xml ? ctx.newXmlParser().encodeResourceToString(oo)
                      : ctx.newJsonParser().encodeResourceToString(oo);
    resp.resetBuffer();
    resp.setStatus(e.getStatusCode());
    resp.setContentType((xml ? "application/fhir+xml" : "application/fhir+json") + ";charset=utf-8");
    if (e.getResponseHeaders() != null) {
      e.getResponseHeaders().forEach((k, vs) -> vs.forEach(v -> resp.addHeader(k, v)));
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    resp.setContentLength(bytes.length);
    resp.getOutputStream().write(bytes);
  }

  void write(HttpServletRequest req, HttpServletResponse resp, int status, IssueType code, String message)
      throws IOException {
    write(req, resp, Outcomes.status(status, code, message));
  }
}
