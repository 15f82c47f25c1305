package io.appointmentserver.rest;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
import ca.uhn.fhir.rest.server.RestfulServerUtils.ResponseEncoding;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import io.appointmentserver.interaction.Ids;
import io.appointmentserver.interaction.StoredForm;
import io.appointmentserver.store.StoredResource;
import jakarta.servlet.http.HttpServletResponse;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;
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
 * <li>a searchset wanted as plain JSON is written from the stored JSON of its resources: the
 * envelope {@link Searches} made (id, meta, type, total, links) and an entry per resource
 * whose {@code resource} is the stored bytes as they are, with no model object in between
 * (as {@code http.FastRead} does for reads); what HAPI would write, parsed, is the same.</li>
 * </ul>
 */
public final class StoredResponses {
  private static final Logger LOG = LoggerFactory.getLogger(StoredResponses.class);

  private static final JsonFactory JSON = new JsonFactory();

  @Hook(Pointcut.SERVER_OUTGOING_RESPONSE)
  public boolean outgoing(RequestDetails request, ResponseDetails response) throws IOException {
    IBaseResource body = response.getResponseResource();
    if (body instanceof Bundle bundle && bundle.getType() == Bundle.BundleType.HISTORY) {
      bundle.getEntry().forEach(StoredResponses::requestUrl);
      return true;
    }
    List<StoredForm.Entry> entries = StoredForm.entries(body);
    if (entries != null && request instanceof ServletRequestDetails servlet) {
      Bundle envelope = (Bundle) body;
      send(servlet, response, envelope.getMeta().getLastUpdated(), searchset(envelope, entries));
      return false;
    }
    StoredResource s = StoredForm.of(body);
    if (s == null || !(request instanceof ServletRequestDetails servlet) || !plainJson(request)) {
      return true;
    }
    String location = request.getFhirServerBase() + "/" + Ids.versioned(s.type(), s.id(), s.version());
    servlet.getServletResponse().setHeader("ETag", Ids.etag(s.version()));
    servlet.getServletResponse().setHeader("Content-Location", location);
    if (request.getRestOperationType() == RestOperationTypeEnum.CREATE) {
      servlet.getServletResponse().setHeader("Location", location);
    }
    send(servlet, response, Date.from(s.lastUpdated()), s.json().getBytes(StandardCharsets.UTF_8));
    return false; // answered
  }

  /** Sends {@code json} with the headers HAPI sends with a resource, gzipped when the client asks. */
  private static void send(ServletRequestDetails request, ResponseDetails response, Date lastModified,
      byte[] json) {
    ResponseEncoding encoding = encoding(request);
    HttpServletResponse resp = request.getServletResponse();
    resp.setStatus(response.getResponseCode());
    request.getServer().addHeadersToResponse(resp);
    if (request.getRequestId() != null) {
      resp.setHeader("X-Request-ID", request.getRequestId());
    }
    // and those added for HAPI to send (the validation warnings); HAPI keeps its request id there too
    request.getResponse().getHeaders().forEach((name, values) -> {
      if (!name.equalsIgnoreCase("X-Request-ID")) {
        values.forEach(v -> resp.addHeader(name, v));
      }
    });
    resp.setContentType(encoding.getResourceContentType() + ";charset=utf-8");
    if (lastModified != null) {
      resp.setDateHeader("Last-Modified", lastModified.getTime());
    }
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
      // the client went away: a write is committed all the same, and nobody is left to answer
      LOG.debug("{} {}: the client left before the response was sent ({})", request.getRequestType(),
          request.getCompleteUrl(), e.toString());
    }
  }

  /** The searchset as HAPI writes a Bundle (the same members in the same order), entries as stored. */
  private static byte[] searchset(Bundle b, List<StoredForm.Entry> entries) {
    int size = 256;
    for (StoredForm.Entry e : entries) {
      size += e.json().length() + 128;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(size);
    try (JsonGenerator g = JSON.createGenerator(bytes)) {
      g.writeStartObject();
      g.writeStringField("resourceType", "Bundle");
      if (b.hasId()) {
        g.writeStringField("id", b.getIdElement().getIdPart());
      }
      g.writeObjectFieldStart("meta");
      g.writeStringField("lastUpdated", b.getMeta().getLastUpdatedElement().getValueAsString());
      g.writeEndObject();
      g.writeStringField("type", b.getType().toCode());
      if (b.hasTotal()) {
        g.writeNumberField("total", b.getTotal());
      }
      g.writeArrayFieldStart("link");
      for (Bundle.BundleLinkComponent l : b.getLink()) {
        g.writeStartObject();
        g.writeStringField("relation", l.getRelation());
        g.writeStringField("url", l.getUrl());
        g.writeEndObject();
      }
      g.writeEndArray();
      if (!entries.isEmpty()) {
        g.writeArrayFieldStart("entry");
        for (StoredForm.Entry e : entries) {
          g.writeStartObject();
          if (e.fullUrl() != null) {
            g.writeStringField("fullUrl", e.fullUrl());
          }
          g.writeFieldName("resource");
          g.writeRawValue(e.json());
          g.writeObjectFieldStart("search");
          g.writeStringField("mode", e.mode().toCode());
          g.writeEndObject();
          g.writeEndObject();
        }
        g.writeEndArray();
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new IllegalStateException(e); // in memory
    }
    return bytes.toByteArray();
  }

  /** The response's encoding, worked out once per request (from Accept and _format: not cheap). */
  private static ResponseEncoding encoding(RequestDetails request) {
    return (ResponseEncoding) request.getUserData().computeIfAbsent(ENCODING,
        k -> RestfulServerUtils.determineResponseEncodingWithDefault(request));
  }

  private static final String ENCODING = StoredResponses.class.getName() + ".encoding";

  /** JSON of the resource itself, as stored: nothing that changes what HAPI would write. */
  public static boolean plainJson(RequestDetails request) {
    if (request.getParameters().containsKey("_summary") || request.getParameters().containsKey("_elements")) {
      return false;
    }
    if (request instanceof ServletRequestDetails servlet && BrowserPages.wanted(servlet.getServletRequest())) {
      return false; // an HTML page: HAPI's renderer needs the model
    }
    ResponseEncoding encoding = encoding(request);
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
