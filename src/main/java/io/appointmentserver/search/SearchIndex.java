package io.appointmentserver.search;

import ca.uhn.fhir.parser.DataFormatException;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoredResource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the index rows of a resource in the transaction that writes the resource
 * ({@link ResourceStore.Indexer}), and indexes the resources stored before their type's
 * parameters were what they are now (the reindex job: at start-up, in the background).
 */
public final class SearchIndex implements ResourceStore.Indexer {
  private static final Logger log = LoggerFactory.getLogger(SearchIndex.class);

  private final Extractor extractor;

  public SearchIndex(Extractor extractor) {
    this.extractor = extractor;
  }

  private static final String KEY = "WITH k AS (SELECT ?::text AS t, ?::text AS i),\n";

  private static final String DELETES = """
      d1 AS (DELETE FROM search_string x USING k WHERE x.res_type = k.t AND x.res_id = k.i),
      d2 AS (DELETE FROM search_token x USING k WHERE x.res_type = k.t AND x.res_id = k.i),
      d3 AS (DELETE FROM search_reference x USING k WHERE x.res_type = k.t AND x.res_id = k.i),
      d4 AS (DELETE FROM search_date x USING k WHERE x.res_type = k.t AND x.res_id = k.i),
      d5 AS (DELETE FROM search_number x USING k WHERE x.res_type = k.t AND x.res_id = k.i),
      d6 AS (DELETE FROM search_quantity x USING k WHERE x.res_type = k.t AND x.res_id = k.i),
      d7 AS (DELETE FROM search_uri x USING k WHERE x.res_type = k.t AND x.res_id = k.i),
      """;

  private static final String INSERTS = """
      i1 AS (INSERT INTO search_string (res_type, res_id, param, norm, exact)
             SELECT k.t, k.i, p, n, e FROM k, unnest(?::text[], ?::text[], ?::text[]) AS x(p, n, e)),
      i2 AS (INSERT INTO search_token (res_type, res_id, param, system, code)
             SELECT k.t, k.i, p, s, c FROM k, unnest(?::text[], ?::text[], ?::text[]) AS x(p, s, c)),
      i3 AS (INSERT INTO search_reference (res_type, res_id, param, ref)
             SELECT k.t, k.i, p, r FROM k, unnest(?::text[], ?::text[]) AS x(p, r)),
      i4 AS (INSERT INTO search_date (res_type, res_id, param, lo, hi)
             SELECT k.t, k.i, p, l::timestamptz, h::timestamptz FROM k, unnest(?::text[], ?::text[], ?::text[]) AS x(p, l, h)),
      i5 AS (INSERT INTO search_number (res_type, res_id, param, value)
             SELECT k.t, k.i, p, v FROM k, unnest(?::text[], ?::numeric[]) AS x(p, v)),
      i6 AS (INSERT INTO search_quantity (res_type, res_id, param, value, system, code)
             SELECT k.t, k.i, p, v, s, c FROM k, unnest(?::text[], ?::numeric[], ?::text[], ?::text[]) AS x(p, v, s, c)),
      i7 AS (INSERT INTO search_uri (res_type, res_id, param, uri)
             SELECT k.t, k.i, p, u FROM k, unnest(?::text[], ?::text[]) AS x(p, u))
      INSERT INTO search_indexed (res_type, res_id, fingerprint) SELECT k.t, k.i, ? FROM k
      ON CONFLICT (res_type, res_id) DO UPDATE SET fingerprint = excluded.fingerprint""";

  /**
   * One statement replaces every row of a resource: all its parts see the same snapshot, so the
   * deletes remove the old rows and never the new ones.
   */
  private static final String REPLACE = KEY + DELETES + INSERTS;
  /** A first version has no rows yet: nothing to delete. */
  private static final String FIRST = KEY + INSERTS;

  @Override
  public void index(Connection c, StoredResource written) throws SQLException {
    IndexRows rows = written.deleted() || written.json() == null ? IndexRows.none() : extract(written);
    write(c, written.type(), written.id(), rows, written.version() == 1 && !written.deleted());
  }

  private IndexRows extract(StoredResource written) {
    IBaseResource resource;
    try {
      resource = extractor.context().newJsonParser().parseResource(written.json());
    } catch (DataFormatException e) {
      log.warn("{}/{} not indexed: {}", written.type(), written.id(), e.getMessage());
      return IndexRows.none();
    }
    return extractor.extract(written.type(), resource);
  }

  void write(Connection c, String type, String id, IndexRows r, boolean first) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(first ? FIRST : REPLACE)) {
      int i = 1;
      i = bind(ps, i, type, id);
      i = texts(c, ps, i, r.stringParam, r.stringNorm, r.stringExact);
      i = texts(c, ps, i, r.tokenParam, r.tokenSystem, r.tokenCode);
      i = texts(c, ps, i, r.refParam, r.ref);
      i = texts(c, ps, i, r.dateParam, r.dateLo, r.dateHi);
      i = texts(c, ps, i, r.numberParam);
      ps.setArray(i++, c.createArrayOf("numeric", r.number.toArray()));
      i = texts(c, ps, i, r.quantityParam);
      ps.setArray(i++, c.createArrayOf("numeric", r.quantity.toArray()));
      i = texts(c, ps, i, r.quantitySystem, r.quantityCode);
      i = texts(c, ps, i, r.uriParam, r.uri);
      ps.setString(i, extractor.parameters().fingerprint(type));
      ps.executeUpdate();
    }
  }

  private static int bind(PreparedStatement ps, int i, String type, String id) throws SQLException {
    ps.setString(i++, type);
    ps.setString(i++, id);
    return i;
  }

  @SafeVarargs
  private static int texts(Connection c, PreparedStatement ps, int i, List<String>... columns) throws SQLException {
    for (List<String> col : columns) {
      ps.setArray(i++, c.createArrayOf("text", col.toArray()));
    }
    return i;
  }

  // ---------------------------------------------------------------- reindex

  /**
   * The resources never indexed. Those indexed under other parameter definitions (another
   * fingerprint) are left alone: servers configured with different IGs on one database would
   * otherwise take turns re-indexing each other's resources; re-indexing after a parameter change
   * is a job to start on purpose (not built yet).
   */
  private static final String STALE = """
      SELECT r.res_type, r.res_id, r.version, r.last_updated, r.body FROM resource r
       WHERE NOT r.deleted AND r.res_type = ?
         AND NOT EXISTS (SELECT 1 FROM search_indexed s WHERE s.res_type = r.res_type AND s.res_id = r.res_id)
       LIMIT 100
       FOR UPDATE OF r SKIP LOCKED""";

  /**
   * Indexes the resources stored before the index existed, in batches, each batch one
   * transaction holding its resources' rows locked so that a concurrent write of one of them
   * waits (and then indexes its own new version). Stops early when {@code stop} says so.
   * Returns how many it indexed.
   */
  public long reindex(DataSource ds, java.util.function.BooleanSupplier stop) {
    long done = 0;
    for (String type : extractor.parameters().types()) {
      while (!stop.getAsBoolean()) {
        int n = batch(ds, type);
        done += n;
        if (n == 0) {
          break;
        }
      }
    }
    return done;
  }

  private int batch(DataSource ds, String type) {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try {
        List<StoredResource> stale = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(STALE)) {
          ps.setString(1, type);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              stale.add(new StoredResource(rs.getString(1), rs.getString(2), rs.getLong(3),
                  rs.getObject(4, java.time.OffsetDateTime.class).toInstant(), false, rs.getString(5), null));
            }
          }
        }
        for (StoredResource s : stale) {
          index(c, s);
        }
        c.commit();
        return stale.size();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw ResourceStore.translate(e);
    }
  }
}
