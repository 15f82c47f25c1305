package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import io.appointmentserver.search.Searcher;
import io.appointmentserver.security.AuditLog;
import io.appointmentserver.security.Cpr;
import io.appointmentserver.security.Principal;
import io.appointmentserver.security.Privileges;
import io.appointmentserver.security.Privileges.Op;
import io.appointmentserver.store.AuditEvents;
import io.appointmentserver.store.StoredResource;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.Bundle.BundleType;
import org.hl7.fhir.dstu3.model.Bundle.SearchEntryMode;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Resource;

/**
 * Type search (<a href="https://hl7.org/fhir/STU3/http.html#search">DSTU3 search</a>), GET
 * {@code [type]?params} and POST {@code [type]/_search}: the parameters go to the
 * {@link Searcher} with the user's context as part of the query; the answer is a searchset
 * Bundle whose {@code next} link continues after the page's last resource, {@code previous}
 * before its first, with {@code first} and {@code last} beside them.
 */
public final class Searches {
  static final int DEFAULT_COUNT = 20;
  /** The parameters that shape a search's answer but select nothing. */
  private static final Set<String> CONTROL = Set.of("_format", "_pretty", "_summary", "_elements", "_count", "_total",
      "_sort", "_include", "_revinclude", Searcher.CURSOR);

  private final Searcher searcher;
  private final ResourceCodec codec;
  private final Access access;
  private final String defaultBase;
  private final int maxCount;
  private final Set<String> types;

  public Searches(Searcher searcher, ResourceCodec codec, Access access, String defaultBase, int maxCount) {
    this.searcher = searcher;
    this.codec = codec;
    this.access = access;
    this.defaultBase = defaultBase;
    this.maxCount = maxCount;
    this.types = Set.copyOf(codec.context().getResourceTypes());
  }

  /**
   * The page of {@code type} that {@code parameters} select, within what the user may see: the
   * context of {@code type} in the query, and of every type includes, chains and {@code _has}
   * look into.
   */
  Searcher.Page find(RequestDetails request, String type, Map<String, String[]> parameters, Searcher.Reading reading,
      Searcher.Paging paging) {
    return searcher.search(new Searcher.Request(type, parameters, reading, paging,
        new Searcher.Viewer(access.rule(request, type), access.scope(request, types))));
  }

  /**
   * {@code storedForm}: the client wants plain JSON, so the entries are carried as their stored
   * bytes ({@link StoredForm}) rather than decoded into the Bundle.
   */
  public Bundle search(String type, RequestDetails request, boolean storedForm) {
    Map<String, String[]> parameters = new LinkedHashMap<>(request.getParameters());
    int count = count(parameters.get("_count"));
    List<String> ownBases = ownBases(request, defaultBase);
    SearchContext.check(codec.context(), type, parameters, ownBases,
        new SearchContext.Limits(access.rule(request, type), access.teamSearchParameters(type)));
    Searcher.Page page = find(request, type, parameters, reading(request, ownBases), paging(parameters, count));
    Set<String> tags = new TreeSet<>();
    Bundle bundle = searchset(request, new Answer(type, page, count, storedForm, true), tags);
    // one event per search (and per patient it showed), the query in it
    access.audited(request, "search-type", type, null, tags.toArray(String[]::new));
    return bundle;
  }

  /**
   * System search, GET {@code [base]?params} and POST {@code [base]/_search}: across the types of
   * {@code _type} (each needs its search privilege), or every type the user may search (but the
   * audit trail's) when there is none; a parameter must be one every searched type takes.
   */
  public Bundle searchSystem(RequestDetails request, boolean storedForm) {
    Map<String, String[]> parameters = new LinkedHashMap<>(request.getParameters());
    int count = count(parameters.get("_count"));
    List<String> ownBases = ownBases(request, defaultBase);
    Principal p = Access.principal(request);
    List<String> searched = new ArrayList<>();
    String[] listed = parameters.remove("_type");
    if (listed == null && parameters.keySet().stream().allMatch(CONTROL::contains)) {
      // GET [base] alone stays what it was, a 400, rather than a listing of the whole server
      throw invalid("A search across types needs _type or a search parameter (GET [base]?_type=Patient,Appointment&...)");
    }
    if (listed != null) {
      for (String type : new TreeSet<>(List.of(String.join(",", listed).trim().split("\\s*,\\s*")))) {
        if (!types.contains(type) || type.equals(AuditEvents.TYPE)) {
          throw invalid("_type names no resource type a search across types takes: " + type
              + (type.equals(AuditEvents.TYPE) ? " (search the audit trail with GET AuditEvent?...)" : ""));
        }
        Privileges.require(p, type, Op.SEARCH);
        searched.add(type);
      }
    } else {
      new TreeSet<>(types).stream().filter(t -> !t.equals(AuditEvents.TYPE) && Privileges.allows(p.roles(), t, Op.SEARCH))
          .forEach(searched::add);
    }
    for (String type : searched) {
      Cpr.requireSearchPrivilege(p, type, parameters);
      SearchContext.check(codec.context(), type, parameters, ownBases,
          new SearchContext.Limits(access.rule(request, type), access.teamSearchParameters(type)));
    }
    Searcher.Page page = searcher.searchTypes(new Searcher.Request(null, parameters, reading(request, ownBases),
        paging(parameters, count), new Searcher.Viewer(null, access.scope(request, types))), searched);
    if (listed != null) {
      // the links repeat the types searched
      Map<String, String[]> used = new LinkedHashMap<>();
      used.put("_type", new String[] {String.join(",", searched)});
      used.putAll(page.used());
      page = new Searcher.Page(page.resources(), page.total(), page.next(), page.previous(), page.included(),
          page.includesTruncated(), used);
    }
    Set<String> tags = new TreeSet<>();
    Bundle bundle = searchset(request, new Answer("", page, count, storedForm, true), tags);
    // the event names the types searched (an event needs one)
    access.audited(request, "search-system", String.join(",", searched), null, tags.toArray(String[]::new));
    return bundle;
  }

  private Searcher.Reading reading(RequestDetails request, List<String> ownBases) {
    return new Searcher.Reading(lenient(request), ownBases);
  }

  /** {@code Prefer: handling=lenient}: unknown search parameters are ignored rather than refused. */
  static boolean lenient(RequestDetails request) {
    String prefer = request.getHeader("Prefer");
    return prefer != null && prefer.replace(" ", "").contains("handling=lenient");
  }

  private static Searcher.Paging paging(Map<String, String[]> parameters, int count) {
    String totalMode = parameters.containsKey("_total") ? parameters.get("_total")[0] : "accurate";
    if (!Set.of("none", "estimate", "accurate").contains(totalMode)) {
      throw invalid("_total must be none, estimate or accurate, not " + totalMode);
    }
    return new Searcher.Paging(count, !totalMode.equals("none"), totalMode.equals("estimate"));
  }

  /**
   * A page as a searchset Bundle: {@code path} is what the links address below the base ({@code type},
   * empty for the system, {@code Patient/1/$everything}); {@code storedForm}: the client wants plain
   * JSON; {@code backwards}: the search has {@code first}, {@code previous} and {@code last} pages.
   */
  record Answer(String path, Searcher.Page page, int count, boolean storedForm, boolean backwards) {}

  /** The searchset Bundle of {@code answer}; {@code tags} receives the access tags of what it shows, for the audit. */
  Bundle searchset(RequestDetails request, Answer answer, Set<String> tags) {
    Searcher.Page page = answer.page();
    int count = answer.count();
    String path = answer.path();
    String base = base(request);
    // the links show the search as it was done: without the parameters lenient handling ignored
    Map<String, String[]> parameters = page.used();
    Bundle bundle = new Bundle();
    bundle.setId(java.util.UUID.randomUUID().toString());
    bundle.setType(BundleType.SEARCHSET);
    // in FHIR_TIMEZONE like every meta.lastUpdated the server writes (HAPI would use the JVM's zone)
    bundle.getMeta().setLastUpdatedElement(codec.lastUpdated(java.time.Instant.now()));
    if (page.total() != null) {
      bundle.setTotal(page.total());
    }
    bundle.addLink().setRelation("self").setUrl(link(base, path, parameters, null));
    // the links keep the search's parameters; the context is applied again when one is followed
    if (count > 0 && answer.backwards() && (page.previous() != null || parameters.containsKey(Searcher.CURSOR))) {
      bundle.addLink().setRelation("first").setUrl(link(base, path, parameters, Searcher.FROM_START));
    }
    if (page.previous() != null && count > 0) {
      bundle.addLink().setRelation("previous").setUrl(link(base, path, parameters, page.previous()));
    }
    if (page.next() != null && count > 0) {
      bundle.addLink().setRelation("next").setUrl(link(base, path, parameters, page.next()));
      if (answer.backwards()) {
        bundle.addLink().setRelation("last").setUrl(link(base, path, parameters, Searcher.LAST));
      }
    }
    // plain JSON: the entries are the stored bytes, written around this envelope (rest.StoredResponses);
    // HAPI answers _count=0 as _summary=count
    boolean stored = count > 0 && !request.isSubRequest() && answer.storedForm();
    List<StoredForm.Entry> entries = stored ? new ArrayList<>() : null;
    for (List<StoredResource> found : List.of(page.resources(), page.included())) {
      SearchEntryMode mode = found == page.resources() ? SearchEntryMode.MATCH : SearchEntryMode.INCLUDE;
      for (StoredResource s : found) {
        String fullUrl = base + "/" + s.type() + "/" + s.id();
        if (stored) {
          entries.add(new StoredForm.Entry(fullUrl, s.json(), mode));
        } else {
          bundle.addEntry().setFullUrl(fullUrl).setResource((Resource) codec.decode(s)).getSearch().setMode(mode);
        }
        if (s.tags() != null) {
          tags.addAll(List.of(s.tags()));
        }
      }
    }
    if (page.includesTruncated()) {
      Resource outcome = Outcomes.issue(IssueSeverity.WARNING, IssueType.TOOCOSTLY,
          "More resources are included than this server includes in one page (" + page.included().size()
              + "); the rest are left out");
      if (stored) {
        entries.add(new StoredForm.Entry(null, codec.context().newJsonParser().encodeResourceToString(outcome),
            SearchEntryMode.OUTCOME));
      } else {
        bundle.addEntry().setResource(outcome).getSearch().setMode(SearchEntryMode.OUTCOME);
      }
    }
    if (stored) {
      StoredForm.attachEntries(bundle, entries);
    }
    return bundle;
  }

  int count(String[] given) {
    if (given == null) {
      return DEFAULT_COUNT;
    }
    try {
      int n = Integer.parseInt(given[0]);
      if (n < 0) {
        throw invalid("_count must not be negative");
      }
      return Math.min(n, maxCount);
    } catch (NumberFormatException e) {
      throw invalid("_count must be a number, not " + given[0]);
    }
  }

  /** The base URLs that address this server: the request's and the configured default. */
  static List<String> ownBases(RequestDetails request, String defaultBase) {
    String base = base(request);
    List<String> ownBases = new ArrayList<>();
    ownBases.add(base);
    if (defaultBase != null && !defaultBase.equals(base)) {
      ownBases.add(defaultBase);
    }
    return ownBases;
  }

  static String base(RequestDetails request) {
    String b = request.getFhirServerBase();
    return b.endsWith("/") ? b.substring(0, b.length() - 1) : b;
  }

  /**
   * The search as a GET URL, with the given cursor instead of the request's (none for
   * {@link Searcher#FROM_START}; the request's for null).
   */
  private static String link(String base, String path, Map<String, String[]> parameters, String cursor) {
    StringBuilder sb = new StringBuilder(base).append(path.isEmpty() ? "" : "/").append(path);
    char sep = '?';
    for (Map.Entry<String, String[]> e : parameters.entrySet()) {
      if (cursor != null && e.getKey().equals(Searcher.CURSOR)) {
        continue;
      }
      // a CPR number is an identifier of a person: not in a URL the server makes (a client that
      // pages a search by one repeats its own request with the link's cursor)
      boolean identifier = e.getKey().contains("identifier");
      for (String v : e.getValue()) {
        sb.append(sep).append(encode(e.getKey())).append('=').append(encode(identifier ? AuditLog.maskCpr(v) : v));
        sep = '&';
      }
    }
    if (cursor != null && !cursor.isEmpty()) {
      sb.append(sep).append(Searcher.CURSOR).append('=').append(cursor);
    }
    return sb.toString();
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("%3A", ":").replace("%2C", ",");
  }

  private static InvalidRequestException invalid(String msg) {
    return new InvalidRequestException(msg, Outcomes.error(IssueType.VALUE, msg));
  }
}
