package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import io.appointmentserver.search.Sql;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.HistoryQuery;
import io.appointmentserver.store.StoredResource;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.hl7.fhir.dstu3.model.InstantType;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IPrimitiveType;

/**
 * History (<a href="https://hl7.org/fhir/STU3/http.html#history">DSTU3 history</a>) of a
 * resource, a type or the whole server, newest first. HAPI pages history by {@code _offset}
 * links; each page is one SQL query with OFFSET/LIMIT, so any server process on the same
 * database can serve any page.
 */
public final class HistoryQueries {
  static final int DEFAULT_PAGE_SIZE = 20;
  static final int MAX_PAGE_SIZE = 1000;
  /** The paging links' parameter that pins a history listing to the moment of its first page. */
  static final String SNAPSHOT = "_snapshot";

  private final ResourceStore store;
  private final ResourceCodec codec;

  public HistoryQueries(ResourceStore store, ResourceCodec codec) {
    this.store = store;
    this.codec = codec;
  }

  /**
   * Whose history: a resource ({@code type} and {@code id}), a type ({@code type}), or the
   * server's, limited to some types when {@code types} is set.
   */
  public record Target(String type, String id, String[] types) {
    static Target resource(String type, String id) {
      return new Target(type, id, null);
    }

    static Target type(String type) {
      return new Target(type, null, null);
    }

    static Target system(String[] types) {
      return new Target(null, null, types);
    }
  }

  /**
   * {@code filter} is the user's context as SQL (null when unlimited), applied in the query so
   * totals and pages hold only what they may see.
   */
  public IBundleProvider of(RequestDetails request, Target target, History.Paging paging, Sql filter,
      Consumer<String[]> onPage) {
    Integer count = paging.count();
    Integer offset = paging.offset();
    if ((count != null && count < 0) || (offset != null && offset < 0)) {
      String msg = "_count and _offset must not be negative";
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.VALUE, msg));
    }
    InstantType since = paging.since();
    Instant sinceInstant = since == null || since.getValue() == null ? null : since.getValue().toInstant();
    HistoryQuery q = new HistoryQuery(target.type(), target.id(), target.types(),
        new HistoryQuery.Window(sinceInstant, snapshot(request)),
        filter == null ? null : new HistoryQuery.Filter(filter.text(), filter.params()));
    int pageSize = count == null ? DEFAULT_PAGE_SIZE : Math.min(count, MAX_PAGE_SIZE);
    return new Results(q, pageSize, offset == null ? 0 : offset, onPage);
  }

  /**
   * The moment the first page was served. HAPI copies the request's parameters into the
   * {@code next} and {@code previous} links, so the snapshot is added to them here: later pages
   * then list the same versions even while the resource keeps changing, on any server process.
   */
  private static Instant snapshot(RequestDetails request) {
    String[] given = request.getParameters().get(SNAPSHOT);
    if (given != null && given.length == 1) {
      try {
        return Instant.ofEpochMilli(Long.parseLong(given[0]));
      } catch (NumberFormatException e) {
        String msg = SNAPSHOT + " must be a number of milliseconds, as in the links this server makes";
        throw new InvalidRequestException(msg, Outcomes.error(IssueType.VALUE, msg));
      }
    }
    Instant now = Instant.now().plusMillis(1);
    // a copy: HAPI's own map may be unmodifiable (a GET that declares a Content-Encoding)
    Map<String, String[]> parameters = new java.util.LinkedHashMap<>(request.getParameters());
    parameters.put(SNAPSHOT, new String[] {Long.toString(now.toEpochMilli())});
    request.setParameters(parameters);
    return now;
  }

  /** One page of one history query; HAPI asks it for the total and the page's versions. */
  private final class Results implements IBundleProvider {
    private final HistoryQuery query;
    private final int pageSize;
    private final int offset;
    private final Consumer<String[]> onPage;
    private Integer size;

    Results(HistoryQuery query, int pageSize, int offset, Consumer<String[]> onPage) {
      this.query = query;
      this.pageSize = pageSize;
      this.offset = offset;
      this.onPage = onPage;
    }

    @Override
    public IPrimitiveType<Date> getPublished() {
      return codec.lastUpdated(query.window().until()); // in FHIR_TIMEZONE, as the versions it lists
    }

    /** Positions are relative to this page's offset. */
    @Override
    public List<IBaseResource> getResources(int from, int to) {
      List<IBaseResource> out = new ArrayList<>();
      int limit = Math.min(to, pageSize) - from;
      if (limit <= 0) {
        return out;
      }
      Set<String> tags = new TreeSet<>();
      for (StoredResource s : store.history().page(query, offset + from, limit)) {
        out.add(codec.decode(s));
        if (s.tags() != null) {
          tags.addAll(List.of(s.tags()));
        }
      }
      // the page's patients are the ones this request involved
      onPage.accept(tags.toArray(String[]::new));
      return out;
    }

    @Override
    public Integer getCurrentPageOffset() {
      return offset;
    }

    @Override
    public Integer getCurrentPageSize() {
      return pageSize;
    }

    @Override
    public String getUuid() {
      return null;
    }

    @Override
    public Integer preferredPageSize() {
      return pageSize;
    }

    @Override
    public Integer size() {
      if (size == null) {
        size = store.history().count(query);
      }
      return size;
    }
  }
}
