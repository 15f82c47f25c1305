package io.appointmentserver.search;

import io.appointmentserver.security.AccessTags;
import io.appointmentserver.store.SqlErrors;
import io.appointmentserver.store.StoreUnavailableException;
import io.appointmentserver.store.StoredResource;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The pages of {@code Patient/$everything}: the resources of a patient's compartment (or of
 * every patient's, at the type level), with what they refer to. One statement per page: the
 * members come from the reference index rows that point at the patient through a parameter that
 * puts its type in the Patient compartment, the user's context of each type is part of the SQL,
 * and pages are keyset pages over (type, id).
 */
public final class CompartmentSearch {
  private static final Pattern CURSOR = Pattern.compile("[A-Za-z]{1,64}/[A-Za-z0-9\\-.]{1,64}");

  private final DataSource ds;
  private final int maxIncludes;

  CompartmentSearch(DataSource ds, int maxIncludes) {
    this.ds = ds;
    this.maxIncludes = maxIncludes;
  }

  /**
   * One page: {@code patient} ({@code Patient/id}; null for every patient's compartment),
   * {@code members} the types asked for with the parameters that put each in the Patient
   * compartment (the Patient type, when asked for, also brings the patient itself),
   * {@code filter} the dates, {@code count} and the {@code cursor} of a {@code next} link.
   */
  public record Request(String patient, Map<String, Set<String>> members, Filter filter, int count, String cursor) {}

  /**
   * {@code since}: last updated at or after it; {@code clinical}: resources with a {@code date}
   * (the clinical date of the types that have that parameter) must have one within it; either may
   * be null; {@code types}: the types that may come along as referred to.
   */
  public record Filter(Instant since, DateRange clinical, Set<String> types) {}

  public Searcher.Page page(Request req, Searcher.Scope scope) {
    Sql.Builder sql = new Sql.Builder().add("SELECT r.res_type, r.res_id, r.version, r.last_updated, r.body, r.tags FROM ");
    List<String> memberTypes = new ArrayList<>(req.members().keySet());
    String[] after = cursor(req.cursor());
    if (req.patient() != null) {
      List<String> types = new ArrayList<>();
      List<String> params = new ArrayList<>();
      req.members().forEach((type, ps) -> ps.forEach(p -> {
        types.add(type);
        params.add(p);
      }));
      // from the reference rows to the patient: an index probe per (type, parameter), whatever the
      // table's size (OFFSET 0 keeps PostgreSQL from merging the probe into a scan of the whole index)
      sql.add("(SELECT x.res_type, x.res_id FROM unnest(?::text[], ?::text[]) AS p(t, prm) CROSS JOIN LATERAL"
          + " (SELECT x.res_type, x.res_id FROM search_reference x WHERE x.res_type = p.t AND x.param = p.prm"
          + " AND x.ref = ?", types.toArray(String[]::new), params.toArray(String[]::new), req.patient());
      if (after != null) {
        // a later page reads only the resources after the cursor
        sql.add(" AND (x.res_type, x.res_id) > (?, ?)", after[0], after[1]);
      }
      sql.add(" OFFSET 0) x");
      if (req.members().containsKey("Patient")) {
        sql.add(" UNION SELECT 'Patient', ?", req.patient().substring("Patient/".length()));
      }
      // and from there to each resource by its key (not a scan of the table, as a hash join would be)
      sql.add(") m CROSS JOIN LATERAL (SELECT * FROM resource r WHERE r.res_type = m.res_type AND r.res_id = m.res_id"
          + " OFFSET 0) r WHERE NOT r.deleted");
    } else {
      // every patient's: what carries a patient's access tag (a scan, read in pages along the key)
      sql.add("resource r WHERE NOT r.deleted AND r.res_type = ANY(?::text[])"
          + " AND EXISTS (SELECT 1 FROM unnest(r.tags) t WHERE t LIKE 'patient:%')", (Object) memberTypes.toArray(String[]::new));
    }
    sql.add(" AND ").add(visible(memberTypes, scope));
    if (req.filter().since() != null) {
      sql.add(" AND r.last_updated >= ?", OffsetDateTime.ofInstant(req.filter().since(), ZoneOffset.UTC));
    }
    DateRange clinical = req.filter().clinical();
    if (clinical != null) {
      String dates = " FROM search_date d WHERE d.res_type = r.res_type AND d.res_id = r.res_id AND d.param = 'date'";
      sql.add(" AND (NOT EXISTS (SELECT 1" + dates + ") OR EXISTS (SELECT 1" + dates + " AND d.hi > ? AND d.lo < ?))",
          OffsetDateTime.ofInstant(clinical.lo(), ZoneOffset.UTC), OffsetDateTime.ofInstant(clinical.hi(), ZoneOffset.UTC));
    }
    if (after != null) {
      sql.add(" AND (r.res_type, r.res_id) > (?, ?)", after[0], after[1]);
    }
    Sql page = sql.add(" ORDER BY r.res_type, r.res_id LIMIT ?", req.count() + 1).build();

    try (Connection c = ds.getConnection()) {
      List<StoredResource> found = Includes.rows(c, page);
      String next = null;
      if (found.size() > req.count()) {
        // one more than the page: there is a next one (none for _count=0, which only counts)
        found = new ArrayList<>(found.subList(0, req.count()));
        if (!found.isEmpty()) {
          StoredResource last = found.get(found.size() - 1);
          next = Base64.getUrlEncoder().withoutPadding()
              .encodeToString((last.type() + "/" + last.id()).getBytes(StandardCharsets.UTF_8));
        }
      }
      Includes.Result inc = included(c, found, req, scope);
      return new Searcher.Page(found, null, next, null, inc.resources(), inc.truncated(), Map.of());
    } catch (SQLException e) {
      RuntimeException r = SqlErrors.translate(e);
      throw r instanceof StoreUnavailableException ? r : new IllegalStateException("$everything failed: " + e.getMessage(), e);
    }
  }

  /**
   * What the page's resources refer to ({@code _include=*}, within the user's privileges and
   * context, of the types asked for), but for what is in a patient's compartment: this patient's
   * resources come as matches on their own page, other patients' are not this patient's record.
   */
  private Includes.Result included(Connection c, List<StoredResource> found, Request req, Searcher.Scope scope)
      throws SQLException {
    if (found.isEmpty()) {
      return new Includes.Result(List.of(), false);
    }
    Searcher.Scope asked = new Searcher.Scope() {
      @Override
      public Sql of(String type, boolean required) {
        return scope.of(type, required);
      }

      @Override
      public Set<String> types() {
        return req.filter().types();
      }
    };
    Includes.Result inc = Includes.resolve(c, found, List.of(new Includes.Spec(false, false, null, null, null, null)),
        asked, maxIncludes);
    return new Includes.Result(inc.resources().stream()
        .filter(r -> r.tags() == null || Arrays.stream(r.tags()).noneMatch(t -> t.startsWith(AccessTags.PATIENT)))
        .toList(), inc.truncated());
  }

  /**
   * The user's context of each type, as SQL: the types with the same rule share one term; a type
   * the user may neither read nor search is left out.
   */
  private static Sql visible(List<String> types, Searcher.Scope scope) {
    Map<String, List<String>> byRule = new LinkedHashMap<>();
    Map<String, Sql> rules = new LinkedHashMap<>();
    for (String type : types) {
      Sql rule = scope.of(type, false);
      if (rule != null) {
        String key = rule.text() + Arrays.deepToString(rule.params().toArray());
        rules.putIfAbsent(key, rule);
        byRule.computeIfAbsent(key, k -> new ArrayList<>()).add(type);
      }
    }
    List<Sql> terms = new ArrayList<>();
    byRule.forEach((key, ts) -> terms.add(new Sql.Builder().add("(r.res_type = ANY(?::text[]) AND ",
        (Object) ts.toArray(String[]::new)).add(rules.get(key)).add(")").build()));
    return terms.isEmpty() ? Sql.FALSE : Sql.or(terms);
  }

  /** The type and id a {@code next} link carries; 400 for one this server did not make. */
  private static String[] cursor(String given) {
    if (given == null) {
      return null;
    }
    try {
      String s = new String(Base64.getUrlDecoder().decode(given), StandardCharsets.UTF_8);
      if (CURSOR.matcher(s).matches()) {
        return s.split("/");
      }
    } catch (IllegalArgumentException e) {
      // below
    }
    throw new InvalidSearchException(Searcher.CURSOR + " is not one this server made for this $everything");
  }
}
