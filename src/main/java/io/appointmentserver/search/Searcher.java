package io.appointmentserver.search;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.appointmentserver.search.SearchParameters.Param;
import io.appointmentserver.store.AuditEvents;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoreUnavailableException;
import io.appointmentserver.store.StoredResource;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Runs type searches: the conditions of {@link SearchQuery}, the user's context (an SQL
 * condition over {@code resource.tags}), the sort keys and the position after the previous page.
 *
 * <p>Pages are keyset pages: the {@code next} link carries the sort keys of the last resource of
 * the page ({@value #CURSOR}), and the next page is the resources after it in the same order,
 * whatever was written in between; any server process on the database can serve it.
 */
public final class Searcher {
  /** The parameter of the paging links that says where the next page starts. */
  public static final String CURSOR = "_cursor";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final DataSource ds;
  private final SearchParameters params;
  private final ZoneId zone;
  private final Clock clock;
  private final int maxIncludes;

  public Searcher(DataSource ds, SearchParameters params, ZoneId zone, Clock clock, int maxIncludes) {
    this.ds = ds;
    this.params = params;
    this.zone = zone;
    this.clock = clock;
    this.maxIncludes = maxIncludes;
  }

  /** An SQL condition over the column {@code tags} with its bind values; {@code true} when not limited. */
  public record Filter(String condition, List<Object> params) {
    public static final Filter ALL = new Filter("true", List.of());
  }

  /**
   * What the user may see of each type that includes, chains and {@code _has} look into: the
   * context as a {@link Filter}; when the user may not see the type at all, null, or (where
   * {@code required}, as for a chain: the search cannot be answered without it) a 403.
   */
  public interface Scope {
    Filter of(String type, boolean required);

    /** Every type the server knows. */
    Set<String> types();
  }

  /**
   * A search: {@code parameters} as the request has them (name with modifier → the values of
   * each repeat); {@code filter}/{@code filterParams} the context condition or null.
   */
  public record Request(String type, Map<String, String[]> parameters, boolean lenient, List<String> ownBases,
      int count, boolean total, boolean estimate, String filter, List<Object> filterParams, Scope scope) {}

  /** {@code _total=estimate} counts exactly up to this many matches, and estimates beyond. */
  static final int EXACT_ESTIMATE_UP_TO = 1000;

  /**
   * A page, the total (null when not asked for), the cursor of the next page (null on the last),
   * the resources included for it and whether the limit of included resources left some out.
   */
  public record Page(List<StoredResource> resources, Integer total, String next, List<StoredResource> included,
      boolean includesTruncated) {}

  /** One key of the order: an SQL expression, descending or not. */
  private record SortKey(String expression, boolean descending, String cast) {}

  public Page search(Request req) {
    SearchQuery q = new SearchQuery(req.type(), params, zone, req.ownBases(), clock.instant(), req.scope());
    q.addAll(req.parameters(), req.lenient());
    List<Includes.Spec> includes = Includes.parse(req.parameters(), params, req.lenient());
    if (req.filter() != null) {
      q.and(req.filter());
      q.binds.addAll(req.filterParams());
    }
    List<SortKey> keys = sortKeys(req.type(), single(req.parameters(), "_sort"));
    String[] cursor = cursor(single(req.parameters(), CURSOR), keys.size());

    StringBuilder select = new StringBuilder("SELECT r.res_id, r.version, r.last_updated, r.body, r.tags");
    for (int i = 0; i < keys.size(); i++) {
      select.append(", ").append(keys.get(i).expression()).append("::text AS k").append(i);
    }
    boolean audit = req.type().equals(AuditEvents.TYPE);
    if (audit && includes.stream().anyMatch(i -> !i.reverse())) {
      throw new InvalidSearchException("_include is not supported for AuditEvent");
    }
    // the audit trail is a table of its own, read as if it were resources
    String from = " FROM " + (audit ? AuditEvents.AS_RESOURCES : "resource") + " r WHERE r.res_type = ? AND NOT r.deleted"
        + q.where;
    List<Object> pageBinds = new ArrayList<>();
    pageBinds.add(req.type());
    pageBinds.addAll(q.binds);
    StringBuilder page = new StringBuilder(select).append(from);
    if (cursor != null) {
      page.append(" AND ").append(after(keys, cursor, pageBinds));
    }
    page.append(" ORDER BY ");
    for (int i = 0; i < keys.size(); i++) {
      SortKey k = keys.get(i);
      page.append(k.expression()).append(k.descending() ? " DESC NULLS LAST, " : " ASC NULLS LAST, ");
    }
    page.append("r.res_id LIMIT ?");
    pageBinds.add(req.count() + 1);

    try (Connection c = ds.getConnection()) {
      List<StoredResource> found = new ArrayList<>();
      String[] lastKeys = null;
      boolean more = false;
      try (PreparedStatement ps = c.prepareStatement(page.toString())) {
        bind(ps, pageBinds);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            if (found.size() == req.count()) {
              more = true; // one more than the page: there is a next page
              break;
            }
            found.add(new StoredResource(req.type(), rs.getString(1), rs.getLong(2),
                rs.getObject(3, OffsetDateTime.class).toInstant(), false, rs.getString(4), tags(rs)));
            lastKeys = new String[keys.size() + 1];
            for (int i = 0; i < keys.size(); i++) {
              lastKeys[i] = rs.getString(6 + i);
            }
            lastKeys[keys.size()] = rs.getString(1);
          }
          Integer total = null;
          if (req.total()) {
            // a first page that holds every match is its own count: no second query
            total = cursor == null && !more ? found.size()
                : req.estimate() ? estimate(c, from, req.type(), q.binds) : count(c, from, req.type(), q.binds);
          }
          Includes.Result inc = includes.isEmpty() || found.isEmpty() ? new Includes.Result(List.of(), false)
              : Includes.resolve(c, found, includes, req.scope(), maxIncludes);
          return new Page(found, total, more ? encode(lastKeys) : null, inc.resources(), inc.truncated());
        }
      }
    } catch (SQLException e) {
      RuntimeException r = ResourceStore.translate(e);
      throw r instanceof StoreUnavailableException ? r : new IllegalStateException("search failed: " + e.getMessage(), e);
    }
  }

  private static int count(Connection c, String from, String type, List<Object> binds) throws SQLException {
    List<Object> all = new ArrayList<>();
    all.add(type);
    all.addAll(binds);
    try (PreparedStatement ps = c.prepareStatement("SELECT count(*)" + from)) {
      bind(ps, all);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  /**
   * {@code _total=estimate}: the count when it is at most {@value #EXACT_ESTIMATE_UP_TO} (what the
   * count reads stops there), else PostgreSQL's estimate of the rows the query returns (from its
   * statistics, no rows read), but never less than that.
   */
  private static int estimate(Connection c, String from, String type, List<Object> binds) throws SQLException {
    List<Object> all = new ArrayList<>();
    all.add(type);
    all.addAll(binds);
    all.add(EXACT_ESTIMATE_UP_TO + 1);
    try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM (SELECT 1" + from + " LIMIT ?) m")) {
      bind(ps, all);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (rs.getInt(1) <= EXACT_ESTIMATE_UP_TO) {
          return rs.getInt(1);
        }
      }
    }
    all.remove(all.size() - 1);
    try (PreparedStatement ps = c.prepareStatement("EXPLAIN (FORMAT JSON) SELECT 1" + from)) {
      bind(ps, all);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        double rows = JSON.readTree(rs.getString(1)).get(0).get("Plan").get("Plan Rows").asDouble();
        return (int) Math.max(EXACT_ESTIMATE_UP_TO + 1, Math.min(rows, Integer.MAX_VALUE));
      }
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("PostgreSQL's plan is not the JSON expected", e);
    }
  }

  /**
   * Rows after the cursor in the order of the keys: for keys k1..kn and the id,
   * {@code k1 > c1 OR (k1 = c1 AND k2 > c2) OR ...} ({@code <} where descending). A key that
   * was null sorts last: after it come only rows with that key null too.
   */
  private static String after(List<SortKey> keys, String[] cursor, List<Object> binds) {
    List<String> terms = new ArrayList<>();
    StringBuilder equalSoFar = new StringBuilder("true");
    List<Object> equalBinds = new ArrayList<>();
    for (int i = 0; i <= keys.size(); i++) {
      String expr = i < keys.size() ? keys.get(i).expression() : "r.res_id";
      String cast = i < keys.size() ? keys.get(i).cast() : "text";
      boolean desc = i < keys.size() && keys.get(i).descending();
      String c = cursor[i];
      if (c == null) {
        // the last page ended in the nulls of this key: only nulls follow, then the later keys decide
        equalSoFar.append(" AND ").append(expr).append(" IS NULL");
        continue;
      }
      StringBuilder term = new StringBuilder("(").append(equalSoFar).append(" AND (").append(expr)
          .append(desc ? " < " : " > ").append("?::").append(cast);
      List<Object> termBinds = new ArrayList<>(equalBinds);
      termBinds.add(c);
      if (i < keys.size()) {
        term.append(" OR ").append(expr).append(" IS NULL");
      }
      term.append("))");
      terms.add(term.toString());
      binds.addAll(termBinds);
      equalSoFar.append(" AND ").append(expr).append(" = ?::").append(cast);
      equalBinds.add(c);
    }
    return "(" + String.join(" OR ", terms) + ")";
  }

  /**
   * {@code _sort}: {@code _id}, {@code _lastUpdated}, and date, string, token, number and uri
   * parameters; a parameter with several values sorts by its least (by its greatest, descending).
   */
  private List<SortKey> sortKeys(String type, String sort) {
    List<SortKey> keys = new ArrayList<>();
    if (sort == null || sort.isBlank()) {
      if (type.equals(AuditEvents.TYPE)) {
        // the audit trail's key is (recorded, id): in that order a page is read off the key
        keys.add(new SortKey("r.last_updated", false, "timestamptz"));
      }
      return keys;
    }
    for (String s : sort.split(",")) {
      boolean desc = s.startsWith("-");
      String name = desc ? s.substring(1) : s;
      boolean audit = type.equals(AuditEvents.TYPE);
      if (audit && name.equals("date")) {
        name = "_lastUpdated"; // an event's date is when it was recorded
      }
      switch (name) {
        case "_id" -> keys.add(new SortKey("r.res_id", desc, "text"));
        case "_lastUpdated" -> keys.add(new SortKey("r.last_updated", desc, "timestamptz"));
        default -> {
          if (audit) {
            throw new InvalidSearchException("AuditEvent is sorted by date, _lastUpdated or _id, not " + name);
          }
          Param p = params.get(type, name);
          if (p == null) {
            throw new InvalidSearchException("Unknown search parameter " + name + " in _sort for " + type);
          }
          String agg = desc ? "max" : "min";
          String column = switch (p.kind()) {
            case DATE -> desc ? "hi" : "lo";
            case STRING -> "norm";
            case TOKEN -> "code";
            case NUMBER, QUANTITY -> "value";
            case URI -> "uri";
            case REFERENCE -> "ref";
            default -> throw new InvalidSearchException("Cannot sort by " + name + " (" + p.kind().getCode() + ")");
          };
          String cast = p.kind() == RestSearchParameterTypeEnum.DATE ? "timestamptz"
              : p.kind() == RestSearchParameterTypeEnum.NUMBER || p.kind() == RestSearchParameterTypeEnum.QUANTITY
                  ? "numeric" : "text";
          // the parameter's name is a known one, safe in the text
          keys.add(new SortKey("(SELECT " + agg + "(x." + column + ") FROM " + SearchQuery.table(p.kind())
              + " x WHERE x.res_type = r.res_type AND x.res_id = r.res_id AND x.param = '" + p.name().replace("'", "''")
              + "')", desc, cast));
        }
      }
    }
    return keys;
  }

  private static String single(Map<String, String[]> parameters, String name) {
    String[] v = parameters.get(name);
    if (v == null || v.length == 0) {
      return null;
    }
    if (v.length > 1) {
      throw new InvalidSearchException(name + " may be given once");
    }
    return v[0];
  }

  private static String encode(String[] keys) {
    try {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(JSON.writeValueAsBytes(keys));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String[] cursor(String given, int keys) {
    if (given == null) {
      return null;
    }
    try {
      String[] c = JSON.readValue(new String(Base64.getUrlDecoder().decode(given), StandardCharsets.UTF_8), String[].class);
      if (c.length != keys + 1 || c[keys] == null) {
        throw new IllegalArgumentException();
      }
      return c;
    } catch (IllegalArgumentException | java.io.IOException e) {
      throw new InvalidSearchException(CURSOR + " is not one this server made for this search");
    }
  }

  private static void bind(PreparedStatement ps, List<Object> binds) throws SQLException {
    int i = 1;
    for (Object b : binds) {
      ps.setObject(i++, b);
    }
  }

  private static String[] tags(ResultSet rs) throws SQLException {
    java.sql.Array a = rs.getArray(5);
    return a == null ? new String[0] : (String[]) a.getArray();
  }
}
