package io.appointmentserver.http;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import io.appointmentserver.interaction.Outcomes;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import org.eclipse.jetty.io.Content;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.instance.model.api.IBaseOperationOutcome;

/** Writes an error as an OperationOutcome from code outside HAPI (filters, handlers). */
final class ErrorWriter {
  private final FhirContext ctx;
  private final long maxBody;

  ErrorWriter(FhirContext ctx, long maxBody) {
    this.ctx = ctx;
    this.maxBody = maxBody;
  }

  void write(HttpServletRequest req, HttpServletResponse resp, BaseServerResponseException e)
      throws IOException {
    discardRest(req);
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

  /**
   * Reads and drops what is left of the body, up to twice the body limit, before an error: a
   * client still sending would otherwise have its connection reset under it and never read the
   * answer (Jetty closes a connection whose request body was not read). A body declared larger
   * than twice the limit is not read at all (the connection closes).
   */
  private void discardRest(HttpServletRequest req) {
    if (req.getContentLengthLong() > 2 * maxBody) {
      return;
    }
    try {
      InputStream in = req.getInputStream();
      byte[] buf = new byte[65536];
      long left = 2 * maxBody;
      for (int n; left > 0 && (n = in.read(buf)) > 0; ) {
        left -= n;
      }
    } catch (IOException | RuntimeException e) {
      // the client went away or broke off (or the body was taken as a reader): the answer goes out regardless
    }
  }

  /**
   * The errors Jetty answers itself, before any filter or servlet sees the request (an empty path
   * segment, a malformed request line, headers too large): an OperationOutcome too, not Jetty's
   * HTML page. This one for the servlet context, {@link #connectionErrors} for the server.
   */
  org.eclipse.jetty.ee10.servlet.ErrorHandler contextErrors() {
    return new org.eclipse.jetty.ee10.servlet.ErrorHandler() {
      @Override
      public boolean errorPageForMethod(String method) {
        return true; // Jetty's default leaves PUT, DELETE, ... errors without a body
      }

      @Override
      protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
          Callback callback) throws IOException {
        // the servlet context's handler completes the callback itself once this returns: written here, blocking
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON);
        try (OutputStream out = Content.Sink.asOutputStream(response)) {
          out.write(json(code, message));
        }
      }

      @Override
      public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, JSON);
        return ByteBuffer.wrap(json(status, reason));
      }
    };
  }

  org.eclipse.jetty.server.handler.ErrorHandler connectionErrors() {
    return new org.eclipse.jetty.server.handler.ErrorHandler() {
      @Override
      public boolean errorPageForMethod(String method) {
        return true;
      }

      @Override
      protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
          Callback callback) {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, JSON);
        response.write(true, ByteBuffer.wrap(json(code, message)), callback);
      }

      @Override
      public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
        fields.put(HttpHeader.CONTENT_TYPE, JSON);
        return ByteBuffer.wrap(json(status, reason));
      }
    };
  }

  private static final String JSON = "application/fhir+json;charset=utf-8";

  private byte[] json(int code, String message) {
    String text = message == null || message.isBlank() ? HttpStatus.getMessage(code) : message;
    IssueType type = code >= 500 ? IssueType.EXCEPTION : code == 404 ? IssueType.NOTFOUND
        : code == 431 || code == 414 || code == 413 ? IssueType.TOOCOSTLY : IssueType.INVALID;
    return ctx.newJsonParser().encodeResourceToString(Outcomes.error(type, text)).getBytes(StandardCharsets.UTF_8);
  }

  void write(HttpServletRequest req, HttpServletResponse resp, int status, IssueType code, String message)
      throws IOException {
    write(req, resp, Outcomes.status(status, code, message));
  }
}
