package io.appointmentserver.search;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.appointmentserver.search.SearchParameters.Param;
import io.appointmentserver.security.ContextRule;
import io.appointmentserver.store.AuditEvents;
import io.appointmentserver.store.SqlErrors;
import io.appointmentserver.store.StoreUnavailableException;
import io.appointmentserver.store.StoredResource;
import io.appointmentserver.store.Version;
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
 * Runs type searches: the conditions of {@link SearchQuery}, the user's context ({@link ContextSql},
 * a condition over {@code resource.tags}), the sort keys and the position after the previous page.
 *
 * <p>Pages are keyset pages: the {@code next} link carries the sort keys of the last resource of
 * the page ({@value #CURSOR}), and the next page is the resources after it in the same order,
 * whatever was written in between; any server process on the database can serve it. The
 * {@code previous} link carries the keys of the page's first resource: that page is the query in
 * the reverse order from there, its rows turned round; {@code last} is the reverse order from the end.
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
  private final Keywords keywords;

  public Searcher(DataSource ds, SearchParameters params, ZoneId zone, Clock clock, int maxIncludes) {
    this.ds = ds;
    this.params = params;
    this.zone = zone;
    this.clock = clock;
    this.maxIncludes = maxIncludes;
    this.keywords = new Keywords(ds, params.context());
  }

  /** The words of {@code $suggest-keywords}. */
  public Keywords keywords() {
    return keywords;
  }

  /** The tags, security labels and profiles in use on the types given, each narrowed by its context ({@link MetaInUse}). */
  public List<MetaInUse.Entry> metaInUse(Map<String, Sql> typesWithContext) {
    return new MetaInUse(ds).of(typesWithContext);
  }

  /**
   * What the user may see of each type that includes, chains and {@code _has} look into: the
   * context as an SQL condition over {@code tags} ({@link ContextSql}; {@code true} when not
   * limited); when the user may not see the type at all, null, or (where {@code required}, as for
   * a chain: the search cannot be answered without it) a 403.
   */
  public interface Scope {
    Sql of(String type, boolean required);

    /** Every type the server knows. */
    Set<String> types();
  }

  /**
   * A search: {@code parameters} as the request has them (name with modifier → the values of
   * each repeat), how they are read, which page is asked for and what the user may see.
   */
  public record Request(String type, Map<String, String[]> parameters, Reading reading, Paging paging,
      Viewer viewer) {}

  /**
   * How the parameters are read: {@code lenient} skips the unknown ones; {@code ownBases} are this
   * server's base URLs (without trailing slash), whose absolute references are searched as relative ones.
   */
  public record Reading(boolean lenient, List<String> ownBases) {}

  /** At most {@code count} resources, with the total when asked for ({@code estimate}: an estimate may do). */
  public record Paging(int count, boolean total, boolean estimate) {}

  /**
   * What the user may see: {@code context} demands of the searched type (null when the user is
   * not limited), {@code scope} of the types includes, chains and {@code _has} look into.
   */
  public record Viewer(ContextRule context, Scope scope) {}

  /** The pages of Patient compartments ({@code Patient/$everything}), on the same database. */
  public CompartmentSearch compartments() {
    return new CompartmentSearch(ds, maxIncludes);
  }

  /**
   * A page, the total (null when not asked for), the cursors of the next page (null on the last;
   * {@link #FROM_START} when it is the first page) and of the previous one (null on the first),
   * the resources included for it and whether the limit of included resources left some out.
   */
  public record Page(List<StoredResource> resources, Integer total, String next, String previous,
      List<StoredResource> included, boolean includesTruncated, Map<String, String[]> used) {}

  /** {@code parameters} without those lenient handling ignored: what the search's links repeat. */
  private static Map<String, String[]> used(Map<String, String[]> parameters, Set<String> ignored,
      Map<String, List<String>> ignoredValues) {
    if (ignored.isEmpty() && ignoredValues.isEmpty()) {
      return parameters;
    }
    Map<String, String[]> used = new java.util.LinkedHashMap<>();
    parameters.forEach((k, v) -> {
      List<String> drop = ignoredValues.getOrDefault(k, List.of());
      String[] kept = java.util.Arrays.stream(v).filter(x -> !drop.contains(x)).toArray(String[]::new);
      if (!ignored.contains(k) && kept.length > 0) {
        used.put(k, kept);
      }
    });
    return used;
  }

  /** The cursor of a page that starts at the first match: the search without a cursor. */
  public static final String FROM_START = "";
  /** The cursor of the last page: the reverse order from the end. */
  public static final String LAST = encode(JSON.getNodeFactory().textNode("last"));

  /**
   * Where a page starts: after {@code keys} (a {@code next} link), or ends before them (a
   * {@code previous} link; {@code keys} null for the last page).
   */
  private record Cursor(String[] keys, boolean backward) {}

  /** One key of the order: an SQL expression, descending or not. */
  private record SortKey(String expression, boolean descending, String cast) {}

  public Page search(Request req) {
    SearchQuery q = new SearchQuery(req.type(), new SearchQuery.Setting(params, zone, req.reading().ownBases(),
        clock.instant(), req.viewer().scope()));
    q.addAll(req.parameters(), req.reading().lenient());
    Sql where = Condition.where(q.conditions, new Condition.Row(req.type(), "r"));
    if (req.viewer().context() != null) {
      where = where.and(ContextSql.of(req.viewer().context()));
    }
    boolean audit = req.type().equals(AuditEvents.TYPE);
    // the audit trail is a table of its own, read as if it were resources
    Sql from = new Sql.Builder().add(" FROM " + (audit ? AuditEvents.AS_RESOURCES : "resource")
        + " r WHERE r.res_type = ? AND NOT r.deleted", req.type()).add(where).build();
    return page(req, from, sortKeys(req.type(), single(req.parameters(), "_sort")), q.ignored, q.textTypes);
  }

  /**
   * A search across {@code types} (system search, {@code [base]?_type=...}): the parameters must
   * be ones each type takes; each type's conditions and context (the {@link Scope}'s, which the
   * caller has checked the user may search) apply to its rows. Sorted by {@code _id} or
   * {@code _lastUpdated} only; the type breaks ties before the id.
   */
  public Page searchTypes(Request req, List<String> types) {
    Set<String> ignored = new java.util.LinkedHashSet<>();
    Set<String> textTypes = new java.util.TreeSet<>();
    List<Sql> perType = perType(req, types, req.parameters(), ignored, textTypes);
    if (!ignored.isEmpty()) {
      // lenient: what one type ignores, all do, so that every type is searched as the links show
      Map<String, String[]> kept = new java.util.LinkedHashMap<>(req.parameters());
      kept.keySet().removeAll(ignored);
      perType = perType(req, types, kept, new java.util.HashSet<>(), textTypes);
    }
    // one branch per type, each planned as that type's search is (an OR of the types' conditions
    // would leave PostgreSQL a scan of every resource)
    Sql from = perType.isEmpty() ? Sql.of(" FROM resource r WHERE false")
        : new Sql.Builder().add(" FROM (").join(" UNION ALL ", perType).add(") r WHERE true").build();
    List<SortKey> keys = sortKeys(null, single(req.parameters(), "_sort"));
    keys.add(new SortKey("r.res_type", false, "text"));
    return page(req, from, keys, ignored, textTypes);
  }

  /**
   * Each type's rows that {@code parameters} select, within its context; {@code ignored} receives
   * what lenient handling ignored, {@code textTypes} the types searched by full text.
   */
  private List<Sql> perType(Request req, List<String> types, Map<String, String[]> parameters, Set<String> ignored,
      Set<String> textTypes) {
    List<Sql> perType = new ArrayList<>();
    for (String type : types) {
      SearchQuery q = new SearchQuery(type, new SearchQuery.Setting(params, zone, req.reading().ownBases(),
          clock.instant(), req.viewer().scope()));
      q.addAll(parameters, req.reading().lenient());
      ignored.addAll(q.ignored);
      textTypes.addAll(q.textTypes);
      perType.add(new Sql.Builder().add("SELECT r.* FROM resource r WHERE r.res_type = ? AND NOT r.deleted", type)
          .add(Condition.where(q.conditions, new Condition.Row(type, "r"))).add(" AND ")
          .add(req.viewer().scope().of(type, true)).build());
    }
    return perType;
  }

  /** The page of the rows {@code from} selects, in the order of {@code keys} and then the id. */
  private Page page(Request req, Sql from, List<SortKey> keys, Set<String> ignored, Set<String> textTypes) {
    Map<String, List<String>> ignoredIncludes = new java.util.HashMap<>();
    List<Includes.Spec> includes = Includes.parse(req.parameters(), params, req.reading().lenient(), ignoredIncludes);
    Cursor cursor = cursor(single(req.parameters(), CURSOR), keys.size());
    boolean backward = cursor != null && cursor.backward();

    StringBuilder select = new StringBuilder("SELECT r.res_id, r.version, r.last_updated, r.body, r.tags");
    for (int i = 0; i < keys.size(); i++) {
      select.append(", ").append(keys.get(i).expression()).append("::text AS k").append(i);
    }
    select.append(", r.res_type");
    if (AuditEvents.TYPE.equals(req.type()) && includes.stream().anyMatch(i -> !i.reverse())) {
      throw new InvalidSearchException("_include is not supported for AuditEvent");
    }
    List<Object> pageBinds = new ArrayList<>(from.params());
    StringBuilder page = new StringBuilder(select).append(from.text());
    if (cursor != null && cursor.keys() != null) {
      page.append(" AND ").append(beyond(keys, cursor.keys(), backward, pageBinds));
    }
    // a previous page is read in the reverse order (nulls first) from its cursor, and turned round
    page.append(" ORDER BY ");
    for (int i = 0; i < keys.size(); i++) {
      SortKey k = keys.get(i);
      page.append(k.expression()).append(k.descending() != backward ? " DESC" : " ASC")
          .append(backward ? " NULLS FIRST, " : " NULLS LAST, ");
    }
    page.append(backward ? "r.res_id DESC LIMIT ?" : "r.res_id LIMIT ?");
    pageBinds.add(req.paging().count() + 1);

    try (Connection c = ds.getConnection()) {
      FullText.requireIndexed(c, textTypes);
      List<StoredResource> found = new ArrayList<>();
      List<String[]> rowKeys = new ArrayList<>();
      boolean more = false;
      try (PreparedStatement ps = c.prepareStatement(page.toString())) {
        Sql.bind(ps, pageBinds);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            if (found.size() == req.paging().count()) {
              more = true; // one more than the page: there is a next page (a previous one, going back)
              break;
            }
            found.add(new StoredResource(new Version(rs.getString(6 + keys.size()), rs.getString(1), rs.getLong(2), rs.getObject(3, OffsetDateTime.class).toInstant(), false),
                rs.getString(4), tags(rs)));
            String[] k = new String[keys.size() + 1];
            for (int i = 0; i < keys.size(); i++) {
              k[i] = rs.getString(6 + i);
            }
            k[keys.size()] = rs.getString(1);
            rowKeys.add(k);
          }
        }
      }
      String next;
      String previous;
      if (backward) {
        java.util.Collections.reverse(found);
        java.util.Collections.reverse(rowKeys);
        previous = more && !found.isEmpty()
            ? encode(JSON.createObjectNode().set("before", JSON.valueToTree(rowKeys.get(0)))) : null;
        // after the page come the rows from its cursor on; with nothing before that, the first page
        next = cursor.keys() == null ? null
            : found.isEmpty() ? FROM_START : encode(JSON.valueToTree(rowKeys.get(rowKeys.size() - 1)));
      } else {
        next = more && !found.isEmpty() ? encode(JSON.valueToTree(rowKeys.get(rowKeys.size() - 1))) : null;
        previous = cursor == null ? null
            : found.isEmpty() ? LAST : encode(JSON.createObjectNode().set("before", JSON.valueToTree(rowKeys.get(0))));
      }
      Integer total = null;
      if (req.paging().total()) {
        // a first page that holds every match is its own count: no second query
        total = (cursor == null || cursor.keys() == null) && !more ? found.size()
            : req.paging().estimate() ? Totals.estimate(c, from) : Totals.count(c, from);
      }
      Includes.Result inc = includes.isEmpty() || found.isEmpty() ? new Includes.Result(List.of(), false)
          : Includes.resolve(c, found, includes, req.viewer().scope(), maxIncludes);
      return new Page(found, total, next, previous, inc.resources(), inc.truncated(),
          used(req.parameters(), ignored, ignoredIncludes));
    } catch (SQLException e) {
      if (cursor != null && e.getSQLState() != null && e.getSQLState().startsWith("22")) {
        // a key of the cursor that is no value of its kind: a cursor someone else made
        throw new InvalidSearchException(CURSOR + " is not one this server made for this search");
      }
      RuntimeException r = SqlErrors.translate(e);
      throw r instanceof StoreUnavailableException ? r : new IllegalStateException("search failed: " + e.getMessage(), e);
    }
  }

  /**
   * Rows after the cursor in the order of the keys: for keys k1..kn and the id,
   * {@code k1 > c1 OR (k1 = c1 AND k2 > c2) OR ...} ({@code <} where descending). A key that
   * was null sorts last: after it come only rows with that key null too. {@code backward}: the
   * rows before the cursor, the same terms turned round; before a null come the values, before a
   * value no null.
   */
  private static String beyond(List<SortKey> keys, String[] cursor, boolean backward, List<Object> binds) {
    List<String> terms = new ArrayList<>();
    StringBuilder equalSoFar = new StringBuilder("true");
    List<Object> equalBinds = new ArrayList<>();
    for (int i = 0; i <= keys.size(); i++) {
      String expr = i < keys.size() ? keys.get(i).expression() : "r.res_id";
      String cast = i < keys.size() ? keys.get(i).cast() : "text";
      boolean desc = i < keys.size() && keys.get(i).descending();
      String c = cursor[i];
      if (c == null) {
        // the page ended (or starts) in the nulls of this key: after them only nulls, before them any value
        if (backward) {
          terms.add("(" + equalSoFar + " AND " + expr + " IS NOT NULL)");
          binds.addAll(equalBinds);
        }
        equalSoFar.append(" AND ").append(expr).append(" IS NULL");
        continue;
      }
      StringBuilder term = new StringBuilder("(").append(equalSoFar).append(" AND (").append(expr)
          .append(desc != backward ? " < " : " > ").append("?::").append(cast);
      List<Object> termBinds = new ArrayList<>(equalBinds);
      termBinds.add(c);
      if (i < keys.size() && !backward) {
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
      if (AuditEvents.TYPE.equals(type)) {
        // the audit trail's key is (recorded, id): in that order a page is read off the key
        keys.add(new SortKey("r.last_updated", false, "timestamptz"));
      }
      return keys;
    }
    for (String s : sort.split(",")) {
      boolean desc = s.startsWith("-");
      String name = desc ? s.substring(1) : s;
      boolean audit = AuditEvents.TYPE.equals(type);
      if (audit && name.equals("date")) {
        name = "_lastUpdated"; // an event's date is when it was recorded
      }
      switch (name) {
        case "_id" -> keys.add(new SortKey("r.res_id", desc, "text"));
        case "_lastUpdated" -> keys.add(new SortKey("r.last_updated", desc, "timestamptz"));
        default -> {
          if (audit || type == null) {
            throw new InvalidSearchException((audit ? "AuditEvent" : "A search across types")
                + " is sorted by " + (audit ? "date, " : "") + "_lastUpdated or _id, not " + name);
          }
          Param p = params.get(type, name);
          if (p == null) {
            throw new InvalidSearchException("Unknown search parameter " + name + " in _sort for " + type);
          }
          if (FullText.PARAMS.contains(name)) {
            throw new InvalidSearchException("Cannot sort by " + name + " (full text)");
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
          keys.add(new SortKey("(SELECT " + agg + "(x." + column + ") FROM " + Match.table(p.kind())
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

  private static String encode(com.fasterxml.jackson.databind.JsonNode cursor) {
    try {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(JSON.writeValueAsBytes(cursor));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A cursor as {@link #encode} made it: the keys of the row a next page starts after
   * ({@code [k1, …, id]}), those of the row a previous page ends before ({@code {"before": [...]}}),
   * or {@code "last"}.
   */
  private static Cursor cursor(String given, int keys) {
    if (given == null) {
      return null;
    }
    try {
      com.fasterxml.jackson.databind.JsonNode c = JSON.readTree(Base64.getUrlDecoder().decode(given));
      if (c != null && c.isTextual() && c.asText().equals("last")) {
        return new Cursor(null, true);
      }
      boolean backward = c != null && c.isObject() && c.size() == 1 && c.has("before");
      com.fasterxml.jackson.databind.JsonNode k = backward ? c.get("before") : c;
      if (k == null || !k.isArray() || k.size() != keys + 1 || !k.get(keys).isTextual()) {
        throw new IllegalArgumentException();
      }
      String[] out = new String[keys + 1];
      for (int i = 0; i <= keys; i++) {
        if (!k.get(i).isNull() && !k.get(i).isTextual()) {
          throw new IllegalArgumentException();
        }
        out[i] = k.get(i).isNull() ? null : k.get(i).asText();
      }
      return new Cursor(out, backward);
    } catch (IllegalArgumentException | java.io.IOException e) {
      throw new InvalidSearchException(CURSOR + " is not one this server made for this search");
    }
  }

  private static String[] tags(ResultSet rs) throws SQLException {
    java.sql.Array a = rs.getArray(5);
    return a == null ? new String[0] : (String[]) a.getArray();
  }
}
