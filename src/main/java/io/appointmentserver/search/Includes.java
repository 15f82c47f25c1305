package io.appointmentserver.search;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import io.appointmentserver.search.SearchParameters.Param;
import io.appointmentserver.store.StoredResource;
import io.appointmentserver.store.Version;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code _include} and {@code _revinclude} (<a href="https://hl7.org/fhir/STU3/search.html#include">DSTU3
 * search §2.1.1.5</a>), with {@code *} and {@code :iterate} ({@code :recurse}, its DSTU3 name, too):
 * the resources the page's matches refer to, or that refer to them, read through the index's
 * reference rows. Each included type is read with the user's context for that type as part of
 * the SQL, and only when the user may read or search that type, so nothing outside the context
 * comes along. At most {@code max} resources are included; the caller says when more were left out.
 */
final class Includes {
  static final String INCLUDE = "_include";
  static final String REVINCLUDE = "_revinclude";

  /**
   * One include: {@code source:param[:target]}; param null for every reference parameter ({@code *});
   * {@code only} the one type the parameter can point at, when there is one.
   */
  record Spec(boolean reverse, boolean iterate, String source, String param, String target, String only) {}

  /** The included resources, in the order found, and whether some were left out for the limit. */
  record Result(List<StoredResource> resources, boolean truncated) {}

  private Includes() {}

  /** {@code ignored} receives the values lenient handling ignored, per parameter. */
  static List<Spec> parse(Map<String, String[]> parameters, SearchParameters params, boolean lenient,
      Map<String, List<String>> ignored) {
    List<Spec> specs = new ArrayList<>();
    for (Map.Entry<String, String[]> e : parameters.entrySet()) {
      String key = e.getKey();
      int colon = key.indexOf(':');
      String name = colon < 0 ? key : key.substring(0, colon);
      if (!name.equals(INCLUDE) && !name.equals(REVINCLUDE)) {
        continue;
      }
      String modifier = colon < 0 ? null : key.substring(colon + 1);
      if (modifier != null && !modifier.equals("iterate") && !modifier.equals("recurse")) {
        throw new InvalidSearchException("The modifier :" + modifier + " is not supported on " + name
            + " (supported: :iterate, :recurse)");
      }
      for (String v : e.getValue()) {
        Spec s = spec(name.equals(REVINCLUDE), modifier != null, v, params);
        if (s != null) {
          specs.add(s);
        } else if (lenient) {
          ignored.computeIfAbsent(key, k -> new ArrayList<>()).add(v);
        } else {
          throw new InvalidSearchException(name + "=" + v + " names no reference parameter of a known type"
              + " (" + name + "=[type]:[parameter] or [type]:[parameter]:[target type]"
              + (name.equals(INCLUDE) ? ", or *)" : ")"));
        }
      }
    }
    return specs;
  }

  private static Spec spec(boolean reverse, boolean iterate, String v, SearchParameters params) {
    if (v.equals("*") && !reverse) {
      return new Spec(false, iterate, null, null, null, null);
    }
    String[] parts = v.split(":", -1);
    if (parts.length < 2 || parts.length > 3 || !params.types().contains(parts[0])) {
      return null;
    }
    String target = parts.length == 3 ? parts[2] : null;
    if (target != null && !params.types().contains(target)) {
      return null;
    }
    if (parts[1].equals("*") && !reverse) {
      return new Spec(false, iterate, parts[0], null, target, target);
    }
    Param p = params.get(parts[0], parts[1]);
    if (p == null || p.kind() != RestSearchParameterTypeEnum.REFERENCE
        || (target != null && !p.targets().isEmpty() && !p.targets().contains(target))) {
      return null;
    }
    String only = target != null ? target : p.targets().size() == 1 ? p.targets().iterator().next() : null;
    return new Spec(reverse, iterate, parts[0], p.name(), target, only);
  }

  /**
   * The resources the specs include for {@code matches}: first every spec over the matches, then
   * the iterating specs over what the previous round included, until nothing new comes or
   * {@code max} is reached.
   */
  static Result resolve(Connection c, List<StoredResource> matches, List<Spec> specs, Searcher.Scope scope, int max)
      throws SQLException {
    Set<String> seen = new LinkedHashSet<>();
    for (StoredResource m : matches) {
      seen.add(m.type() + "/" + m.id());
    }
    List<StoredResource> included = new ArrayList<>();
    List<StoredResource> from = matches;
    boolean first = true;
    while (!from.isEmpty()) {
      List<StoredResource> found = new ArrayList<>();
      for (Spec s : specs) {
        if (!first && !s.iterate()) {
          continue;
        }
        Map<String, List<String>> idsByType = new LinkedHashMap<>();
        for (StoredResource r : from) {
          // an include starts from its source type, a revinclude from what its parameter points at
          String start = s.reverse() ? s.target() : s.source();
          if (start == null || start.equals(r.type())) {
            idsByType.computeIfAbsent(r.type(), t -> new ArrayList<>()).add(r.id());
          }
        }
        for (Map.Entry<String, List<String>> e : idsByType.entrySet()) {
          int room = max - included.size() - found.size();
          List<StoredResource> got = s.reverse()
              ? referring(c, s, e.getKey(), e.getValue(), scope, room + 1)
              : referred(c, s, e.getKey(), e.getValue(), scope, room + 1);
          for (StoredResource r : got) {
            if (seen.add(r.type() + "/" + r.id())) {
              if (included.size() + found.size() == max) {
                included.addAll(found);
                return new Result(included, true);
              }
              found.add(r);
            }
          }
        }
      }
      included.addAll(found);
      from = found;
      first = false;
    }
    return new Result(included, false);
  }

  /** {@code _include}: the resources that the given resources of {@code type} refer to by the spec's parameter. */
  private static List<StoredResource> referred(Connection c, Spec s, String type, List<String> ids,
      Searcher.Scope scope, int limit) throws SQLException {
    if (s.only() != null && s.param() != null) {
      // one type to look in (Appointment:patient): one statement from the reference rows to the resources
      Sql f = scope.of(s.only(), false);
      if (f == null) {
        return List.of();
      }
      List<Object> binds = new ArrayList<>(List.of(s.only(), s.only().length() + 2, type,
          ids.toArray(String[]::new), s.param(), s.only() + "/%"));
      binds.addAll(f.params());
      binds.add(limit);
      return select(c, "r.res_type = ? AND r.res_id IN (SELECT substr(x.ref, ?) FROM search_reference x"
          + " WHERE x.res_type = ? AND x.res_id = ANY(?::text[]) AND x.param = ? AND x.ref LIKE ?) AND " + f.text(),
          binds);
    }
    Map<String, List<String>> byType = new LinkedHashMap<>();
    Set<String> types = scope.types();
    String sql = "SELECT DISTINCT x.ref FROM search_reference x WHERE x.res_type = ? AND x.res_id = ANY(?::text[])"
        + (s.param() == null ? "" : " AND x.param = ?") + " ORDER BY x.ref";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, type);
      ps.setObject(2, ids.toArray(String[]::new));
      if (s.param() != null) {
        ps.setString(3, s.param());
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String ref = rs.getString(1);
          String t = Extractor.localType(ref); // an absolute reference is another server's
          if (t != null && types.contains(t) && (s.target() == null || s.target().equals(t))) {
            byType.computeIfAbsent(t, k -> new ArrayList<>()).add(ref.substring(t.length() + 1));
          }
        }
      }
    }
    List<StoredResource> out = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : byType.entrySet()) {
      Sql f = scope.of(e.getKey(), false);
      if (f == null || out.size() >= limit) {
        continue; // a type the user may not read is left out
      }
      List<Object> binds = new ArrayList<>(List.of(e.getKey(), e.getValue().toArray(String[]::new)));
      binds.addAll(f.params());
      binds.add(limit - out.size());
      out.addAll(select(c, "r.res_type = ? AND r.res_id = ANY(?::text[]) AND " + f.text(), binds));
    }
    return out;
  }

  /** {@code _revinclude}: the resources of the spec's type that refer to the given resources of {@code type}. */
  private static List<StoredResource> referring(Connection c, Spec s, String type, List<String> ids,
      Searcher.Scope scope, int limit) throws SQLException {
    Sql f = scope.of(s.source(), false);
    if (f == null) {
      return List.of();
    }
    List<Object> binds = new ArrayList<>(List.of(s.source(), s.source(), s.param(),
        ids.stream().map(id -> type + "/" + id).toArray(String[]::new)));
    binds.addAll(f.params());
    binds.add(limit);
    return select(c, "r.res_type = ? AND r.res_id IN (SELECT x.res_id FROM search_reference x"
        + " WHERE x.res_type = ? AND x.param = ? AND x.ref = ANY(?::text[])) AND " + f.text(), binds);
  }

  private static List<StoredResource> select(Connection c, String where, List<Object> binds) throws SQLException {
    return rows(c, new Sql("SELECT r.res_type, r.res_id, r.version, r.last_updated, r.body, r.tags FROM resource r"
        + " WHERE NOT r.deleted AND " + where + " ORDER BY r.res_id LIMIT ?", binds));
  }

  /** The current versions a query selects as its first columns: res_type, res_id, version, last_updated, body, tags. */
  static List<StoredResource> rows(Connection c, Sql query) throws SQLException {
    List<StoredResource> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(query.text())) {
      Sql.bind(ps, query.params());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          java.sql.Array a = rs.getArray(6);
          out.add(new StoredResource(new Version(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getObject(4, OffsetDateTime.class).toInstant(), false),
              rs.getString(5), a == null ? new String[0] : (String[]) a.getArray()));
        }
      }
    }
    return out;
  }
}
