package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.RequestTypeEnum;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import io.appointmentserver.store.StoredResource;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.dstu3.model.Bundle.BundleEntryRequestComponent;
import org.hl7.fhir.dstu3.model.Bundle.HTTPVerb;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;

/** One entry of a batch or transaction Bundle: what it asks, parsed from its request. */
final class BundleEntry {
  final int index;
  final BundleEntryComponent source;
  HTTPVerb method;
  final String type;
  String id;
  final String version;
  final Map<String, String[]> params;
  final String operation; // $name, or _history
  String assigned; // a create's id, known before the entry runs
  StoredResource matched; // a conditional create's match: nothing to write
  boolean conditionalMatch; // a conditional update found its resource: the body gets its id
  BundleEntryComponent response;

  /** What an entry's URL names: its type, id, version, parameters, and an operation ({@code $name} or {@code _history}). */
  private record Url(String type, String id, String version, Map<String, String[]> params, String operation) {}

  private BundleEntry(int index, BundleEntryComponent source, HTTPVerb method, Url url) {
    this.index = index;
    this.source = source;
    this.method = method;
    this.type = url.type();
    this.id = url.id();
    this.version = url.version();
    this.params = url.params();
    this.operation = url.operation();
  }

  String describe() {
    BundleEntryRequestComponent r = source.getRequest();
    return "Bundle entry " + index + " (" + r.getMethod().toCode() + " " + r.getUrl() + ")";
  }

  /**
   * The entry's request, checked: {@code types} are the resource types, {@code operations} the
   * instance operations ({@code Type/$name}) an entry may call.
   */
  static BundleEntry parse(int index, BundleEntryComponent source, boolean hasResource, Set<String> types,
      Set<String> operations) {
    BundleEntryRequestComponent r = source.getRequest();
    if (r.getMethod() == null || r.getUrl() == null || r.getUrl().isBlank()) {
      throw BundleEntries.invalid("Bundle entry " + index + " needs request.method and request.url");
    }
    String url = r.getUrl().trim();
    int question = url.indexOf('?');
    String path = question < 0 ? url : url.substring(0, question);
    Map<String, String[]> params = question < 0 ? null : ConditionalWrites.query(url.substring(question + 1));
    List<String> segments = new ArrayList<>(List.of(path.split("/")));
    segments.removeIf(String::isEmpty);
    // an absolute URL names the resource by its last segments, as a relative one does
    String type = null;
    String id = null;
    String version = null;
    String operation = null;
    int n = segments.size();
    String last = n == 0 ? "" : segments.get(n - 1);
    if (n >= 4 && segments.get(n - 2).equals("_history") && types.contains(segments.get(n - 4))) {
      type = segments.get(n - 4);
      id = segments.get(n - 3);
      version = segments.get(n - 1);
    } else if (last.equals("_history") || last.startsWith("$")) {
      // [type]/[id]/_history, [type]/_history, [type]/[id]/$op
      operation = last;
      if (n >= 3 && types.contains(segments.get(n - 3))) {
        type = segments.get(n - 3);
        id = segments.get(n - 2);
      } else if (n >= 2 && last.equals("_history") && types.contains(segments.get(n - 2))) {
        type = segments.get(n - 2);
      }
      if (type != null && last.startsWith("$") && !operations.contains(type + "/" + last)) {
        type = null;
      }
    } else if (n >= 2 && types.contains(segments.get(n - 2)) && !last.startsWith("_")) {
      type = segments.get(n - 2);
      id = last;
    } else if (n >= 1 && types.contains(last)) {
      type = last;
    }
    if (type == null) {
      String msg = "Bundle entry " + index + ": " + r.getMethod().toCode() + " " + url
          + " is not supported in a Bundle (a resource type, [type]/[id], [type]/[id]/_history/[vid],"
          + " [type]?params, the history of a type or resource, or " + String.join(", ", operations) + ")";
      throw Outcomes.status(400, IssueType.NOTSUPPORTED, msg);
    }
    if (id != null) {
      Ids.check(id);
    }
    HTTPVerb method = r.getMethod();
    boolean needsBody = method == HTTPVerb.POST || method == HTTPVerb.PUT;
    if (needsBody && !hasResource) {
      throw BundleEntries.invalid("Bundle entry " + index + " (" + method.toCode() + ") has no resource");
    }
    boolean byId = id != null && version == null;
    boolean ok = operation != null ? method == HTTPVerb.GET : switch (method) {
      case GET -> true;
      case POST -> id == null && version == null;
      case PUT, DELETE -> byId || (id == null && version == null && params != null);
      default -> false;
    };
    if (!ok) {
      throw BundleEntries.invalid("Bundle entry " + index + ": " + method.toCode() + " " + url + " is not a valid request");
    }
    return new BundleEntry(index, source, method, new Url(type, id, version, params, operation));
  }

  /** The interaction the entry asks for, whose privilege it needs. */
  RestOperationTypeEnum operation() {
    BundleEntry e = this;
    if (e.operation != null) {
      return e.operation.startsWith("$") ? RestOperationTypeEnum.EXTENDED_OPERATION_INSTANCE
          : e.id != null ? RestOperationTypeEnum.HISTORY_INSTANCE : RestOperationTypeEnum.HISTORY_TYPE;
    }
    return switch (e.method) {
      case GET -> e.id == null ? RestOperationTypeEnum.SEARCH_TYPE
          : e.version != null ? RestOperationTypeEnum.VREAD : RestOperationTypeEnum.READ;
      case POST -> RestOperationTypeEnum.CREATE;
      case PUT -> RestOperationTypeEnum.UPDATE;
      case DELETE -> RestOperationTypeEnum.DELETE;
      default -> throw BundleEntries.invalid(e.describe() + ": " + e.method.toCode() + " is not supported in a Bundle");
    };
  }

  /**
   * The entry as a request of its own, for its interaction: its method, URL, parameters and
   * conditional headers; the user, the base URL and the audit details of the Bundle's request.
   * Response headers the methods add (ETag, warnings) do not reach the Bundle's response.
   */
  ServletRequestDetails sub(RequestDetails outer) {
    BundleEntry e = this;
    BundleEntryRequestComponent r = e.source.getRequest();
    Map<String, String> headers = new HashMap<>();
    if (r.hasIfMatch()) headers.put("if-match", r.getIfMatch());
    if (r.hasIfNoneExist() && e.method == HTTPVerb.POST) headers.put("if-none-exist", r.getIfNoneExist());
    if (outer.getHeader("Prefer") != null) headers.put("prefer", outer.getHeader("Prefer"));
    ServletRequestDetails o = (ServletRequestDetails) outer;
    ServletRequestDetails sub = new ServletRequestDetails(o.getInterceptorBroadcaster()) {
      @Override
      public String getHeader(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
      }

      @Override
      public List<String> getHeaders(String name) {
        String v = getHeader(name);
        return v == null ? List.of() : List.of(v);
      }
    };
    sub.setServer(o.getServer());
    sub.setServletRequest(o.getServletRequest());
    sub.setServletResponse(new HttpServletResponseWrapper(o.getServletResponse()) {
      @Override
      public void setHeader(String name, String value) {}

      @Override
      public void addHeader(String name, String value) {}
    });
    sub.setFhirServerBase(outer.getFhirServerBase());
    sub.setResourceName(e.type);
    sub.setId(e.id == null ? null : new IdType(e.type, e.id, e.version));
    sub.setParameters(e.params == null ? new HashMap<>() : e.params);
    sub.setRequestType(RequestTypeEnum.valueOf(e.method.toCode()));
    // HAPI's request paths have no leading slash (it asserts so); an entry's url may ("/Patient/1")
    sub.setRequestPath(r.getUrl() == null ? e.type : r.getUrl().split("\\?", 2)[0].replaceFirst("^/+", ""));
    if (e.operation != null && e.operation.startsWith("$")) {
      sub.setOperation(e.operation);
    }
    sub.setSubRequest(true);
    return sub;
  }

  boolean hasIfNoneExist() {
    String ifNoneExist = source.getRequest().getIfNoneExist();
    return ifNoneExist != null && !ifNoneExist.isBlank();
  }

  /** The specification's order: deletes, creates, updates, reads. */
  int rank() {
    return switch (method) {
      case DELETE -> 0;
      case POST -> 1;
      case PUT -> 2;
      default -> 3;
    };
  }

}
