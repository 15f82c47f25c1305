package io.appointmentserver.api;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
import ca.uhn.fhir.rest.server.RestfulServerUtils.ResponseEncoding;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import io.appointmentserver.store.StoredResource;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.dstu3.model.Bundle.HTTPVerb;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What HAPI would otherwise serialize again:
 * <ul>
 * <li>the response of a create, update or patch is the version's JSON exactly as the store
 * keeps it (and a read serves it), sent as it is, when the client wants that resource as plain
 * JSON (no {@code _pretty}, {@code _summary}, {@code _elements}); anything else (XML, the
 * OperationOutcome or minimal of {@code Prefer}) HAPI answers as before;</li>
 * <li>history bundles say how each version was made: {@code entry.request.url} is the URL of
 * that request ({@code Type} for a POST, {@code Type/id} for a PUT or DELETE), not the
 * version's own URL.</li>
 * </ul>
 */
public final class StoredResponses {
  private static final Logger LOG = LoggerFactory.getLogger(StoredResponses.class);
  private static final String KEY = StoredResponses.class.getName();

  /** The version a write stored, and the model object HAPI would serialize for its response. */
  private record Written(IBaseResource resource, StoredResource stored) {}

  /** Called by a write: {@code resource} is what the response carries, {@code stored} its stored form. */
  static void written(RequestDetails request, IBaseResource resource, StoredResource stored) {
    request.getUserData().put(KEY, new Written(resource, stored));
  }

  @Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
  public boolean outgoing(RequestDetails request, ResponseDetails response) throws IOException {
    IBaseResource body = response.getResponseResource();
    if (body instanceof Bundle bundle && bundle.getType() == Bundle.BundleType.HISTORY) {
      bundle.getEntry().forEach(StoredResponses::requestUrl);
      return true;
    }
    if (!(request.getUserData().get(KEY) instanceof Written w) || body != w.resource()
        || !(request instanceof ServletRequestDetails servlet) || !plainJson(request)) {
      return true;
    }
    StoredResource s = w.stored();
    ResponseEncoding encoding = RestfulServerUtils.determineResponseEncodingWithDefault(request);
    HttpServletResponse resp = servlet.getServletResponse();
    // the headers HAPI sends with a resource
    resp.setStatus(response.getResponseCode());
    servlet.getServer().addHeadersToResponse(resp);
    if (request.getRequestId() != null) {
      resp.setHeader("X-Request-ID", request.getRequestId());
    }
    // and those added for HAPI to send (the validation warnings)
    request.getResponse().getHeaders().forEach((name, values) -> values.forEach(v -> resp.addHeader(name, v)));
    resp.setContentType(encoding.getResourceContentType() + ";charset=utf-8");
    resp.setHeader("ETag", "W/\"" + s.version() + "\"");
    resp.setDateHeader("Last-Modified", s.lastUpdated().toEpochMilli());
    String location = request.getFhirServerBase() + "/" + s.type() + "/" + s.id() + "/_history/" + s.version();
    resp.setHeader("Content-Location", location);
    if (request.getRestOperationType() == RestOperationTypeEnum.CREATE) {
      resp.setHeader("Location", location);
    }
    byte[] json = s.json().getBytes(StandardCharsets.UTF_8);
    try {
      if (request.isRespondGzip()) {
        resp.setHeader("Content-Encoding", "gzip");
        try (OutputStream out = new GZIPOutputStream(resp.getOutputStream())) {
          out.write(json);
        }
      } else {
        resp.setContentLength(json.length);
        try (OutputStream out = resp.getOutputStream()) {
          out.write(json);
        }
      }
    } catch (IOException e) {
      // the client went away: the write is committed all the same, and nobody is left to answer
      LOG.debug("{} {}: the client left before the response was sent ({})", request.getRequestType(),
          request.getCompleteUrl(), e.toString());
    }
    return false; // answered
  }

  /** JSON of the resource itself, as stored: nothing that changes what HAPI would write. */
  private static boolean plainJson(RequestDetails request) {
    if (request.getParameters().containsKey("_summary") || request.getParameters().containsKey("_elements")) {
      return false;
    }
    ResponseEncoding encoding = RestfulServerUtils.determineResponseEncodingWithDefault(request);
    return encoding != null && encoding.getEncoding() == EncodingEnum.JSON
        && !RestfulServerUtils.prettyPrintResponse(request.getServer(), request);
  }

  private static void requestUrl(BundleEntryComponent entry) {
    if (!entry.hasRequest() || !entry.getRequest().hasUrl()) {
      return;
    }
    String url = entry.getRequest().getUrl(); // Type/id/_history/n
    int slash = url.indexOf('/');
    if (slash < 0) {
      return;
    }
    int history = url.indexOf("/_history/");
    entry.getRequest().setUrl(entry.getRequest().getMethod() == HTTPVerb.POST
        ? url.substring(0, slash) : history > 0 ? url.substring(0, history) : url);
  }
}
