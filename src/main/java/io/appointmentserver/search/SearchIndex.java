package io.appointmentserver.search;

import ca.uhn.fhir.parser.DataFormatException;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoredResource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the index rows of a resource in the transaction that writes the resource
 * ({@link ResourceStore.Indexer}); {@link Reindexer} uses it to index stored resources again.
 */
public final class SearchIndex implements ResourceStore.Indexer {
  private static final Logger log = LoggerFactory.getLogger(SearchIndex.class);

  private final Extractor extractor;
  private volatile Watcher watcher = Watcher.NONE;

  public SearchIndex(Extractor extractor) {
    this.extractor = extractor;
  }

  /**
   * Told of every version written (not of a reindex), with its index rows, inside the write's
   * transaction: what must happen with the write or not at all (a Subscription's outbox rows).
   */
  @FunctionalInterface
  public interface Watcher {
    Watcher NONE = (c, written, rows) -> {};

    void written(Connection c, StoredResource written, IndexRows rows) throws SQLException;
  }

  /** Sets the one {@link Watcher} (the wiring's, before anything is written). */
  public void watch(Watcher w) {
    this.watcher = w;
  }

  /** The index tables, in the order of the bits of {@code search_indexed.kinds}. */
  private static final String[] TABLES = {"search_string", "search_token", "search_reference", "search_date",
      "search_number", "search_quantity", "search_uri"};
  private static final int ALL_KINDS = (1 << TABLES.length) - 1;

  /** The rows of each kind, as columns of arrays. */
  private static final String[] INSERTS = {
      """
      INSERT INTO search_string (res_type, res_id, param, norm, exact)
             SELECT k.t, k.i, p, n, e FROM k, unnest(?::text[], ?::text[], ?::text[]) AS x(p, n, e)""",
      """
      INSERT INTO search_token (res_type, res_id, param, system, code)
             SELECT k.t, k.i, p, s, c FROM k, unnest(?::text[], ?::text[], ?::text[]) AS x(p, s, c)""",
      """
      INSERT INTO search_reference (res_type, res_id, param, ref)
             SELECT k.t, k.i, p, r FROM k, unnest(?::text[], ?::text[]) AS x(p, r)""",
      """
      INSERT INTO search_date (res_type, res_id, param, lo, hi)
             SELECT k.t, k.i, p, l::timestamptz, h::timestamptz FROM k, unnest(?::text[], ?::text[], ?::text[]) AS x(p, l, h)""",
      """
      INSERT INTO search_number (res_type, res_id, param, value)
             SELECT k.t, k.i, p, v FROM k, unnest(?::text[], ?::numeric[]) AS x(p, v)""",
      """
      INSERT INTO search_quantity (res_type, res_id, param, value, system, code)
             SELECT k.t, k.i, p, v, s, c FROM k, unnest(?::text[], ?::numeric[], ?::text[], ?::text[]) AS x(p, v, s, c)""",
      """
      INSERT INTO search_uri (res_type, res_id, param, uri)
             SELECT k.t, k.i, p, u FROM k, unnest(?::text[], ?::text[]) AS x(p, u)"""};

  /**
   * The statement that replaces the rows of a resource, for the kinds it has now ({@code kinds})
   * and whether it may have old rows ({@code replace}). One statement: all its parts see the same
   * snapshot, so the deletes remove the old rows and never the new ones. The deletes touch only
   * the tables the old version had rows in ({@code search_indexed.kinds}; all when unknown): the
   * condition on {@code k.old} is checked before the table is looked at. A first version has no
   * old rows. Only the kinds with rows are sent.
   */
  private static String statement(int kinds, boolean replace) {
    StringBuilder sql = new StringBuilder("WITH k AS (SELECT ?::text AS t, ?::text AS i");
    if (replace) {
      sql.append(",\n  coalesce((SELECT s.kinds FROM search_indexed s WHERE s.res_type = ? AND s.res_id = ?), ")
          .append(ALL_KINDS).append(") AS old)");
      for (int b = 0; b < TABLES.length; b++) {
        sql.append(",\n  d").append(b).append(" AS (DELETE FROM ").append(TABLES[b])
            .append(" x USING k WHERE k.old & ").append(1 << b)
            .append(" <> 0 AND x.res_type = k.t AND x.res_id = k.i)");
      }
    } else {
      sql.append(')');
    }
    for (int b = 0; b < TABLES.length; b++) {
      if ((kinds & (1 << b)) != 0) {
        sql.append(",\n  i").append(b).append(" AS (").append(INSERTS[b]).append(')');
      }
    }
    // the words (FullText) beside the rows; a deleted resource has none, but is no longer waiting for them
    return sql.append("\nINSERT INTO search_indexed (res_type, res_id, fingerprint, kinds, rows_digest, content, narrative)")
        .append(" SELECT k.t, k.i, ?, ?, ?, fhir_text_vector(?), fhir_text_vector(?) FROM k")
        .append("\nON CONFLICT (res_type, res_id) DO UPDATE SET fingerprint = excluded.fingerprint, kinds = excluded.kinds,")
        .append(" rows_digest = excluded.rows_digest, content = excluded.content, narrative = excluded.narrative")
        .toString();
  }

  /** {@link #statement} for each kinds and replace, made when first needed. */
  private final String[] statements = new String[2 << TABLES.length];

  private String cached(int kinds, boolean replace) {
    int key = kinds << 1 | (replace ? 1 : 0);
    String s = statements[key];
    if (s == null) {
      s = statement(kinds, replace);
      statements[key] = s;
    }
    return s;
  }

  /**
   * Leaves the rows alone when {@code indexedDigest} (the {@code rows_digest} the resource's
   * rows have, read with its row locked) is the digest of the new rows: an update that changes
   * no searchable value, such as the seed PUT, writes no index row; one that changes only the
   * text (a comment) writes only the words.
   */
  @Override
  public void index(Connection c, StoredResource written, Object model, byte[] indexedDigest) throws SQLException {
    watched(c, written, index(c, written, model, written.version() > 1 || written.deleted(), indexedDigest));
  }

  private void watched(Connection c, StoredResource written, IndexRows rows) throws SQLException {
    watcher.written(c, written, rows);
  }

  @Override
  public void reindex(Connection c, StoredResource written, byte[] indexedDigest) throws SQLException {
    index(c, written, null, true, indexedDigest);
  }

  @Override
  public void remove(Connection c, String[] types, String[] ids) throws SQLException {
    for (String table : TABLES) {
      removeRows(c, table, types, ids);
    }
    removeRows(c, "search_indexed", types, ids);
  }

  private static void removeRows(Connection c, String table, String[] types, String[] ids) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table
        + " x USING unnest(?::text[], ?::text[]) AS k(t, i) WHERE x.res_type = k.t AND x.res_id = k.i")) {
      ps.setArray(1, c.createArrayOf("text", types));
      ps.setArray(2, c.createArrayOf("text", ids));
      ps.executeUpdate();
    }
  }

  /** {@code replace}: the resource may have rows already (any version but a first, and any reindex). Returns the rows. */
  IndexRows index(Connection c, StoredResource written, Object model, boolean replace, byte[] indexedDigest)
      throws SQLException {
    Pending p = pending(written, model);
    if (java.util.Arrays.equals(p.digest(), indexedDigest)) {
      return p.rows();
    }
    if (replace && IndexRows.sameRows(p.digest(), indexedDigest)) {
      try (PreparedStatement ps = c.prepareStatement(WORDS)) {
        ps.setString(1, p.rows().content);
        ps.setString(2, p.rows().narrative);
        ps.setBytes(3, p.digest());
        ps.setString(4, written.type());
        ps.setString(5, written.id());
        ps.executeUpdate();
      }
      return p.rows();
    }
    write(c, written.type(), written.id(), p.rows(), p.fingerprint(), p.digest(), replace);
    return p.rows();
  }

  /** The words alone, for a write whose rows are those indexed already. */
  private static final String WORDS = """
      UPDATE search_indexed SET content = fhir_text_vector(?), narrative = fhir_text_vector(?), rows_digest = ?
       WHERE res_type = ? AND res_id = ?""";

  private IndexRows extract(SearchParameters.Definitions defs, StoredResource written, Object model) {
    IBaseResource resource;
    if (model instanceof IBaseResource parsed) {
      resource = parsed; // the write's own parsed resource: the JSON was serialized from it
    } else {
      try {
        resource = extractor.context().newJsonParser().parseResource(written.json());
      } catch (DataFormatException e) {
        log.warn("{}/{} not indexed: {}", written.type(), written.id(), e.getMessage());
        return IndexRows.none();
      }
    }
    IndexRows rows = extractor.extract(defs, written.type(), resource);
    String narrative = FullText.narrative(resource);
    rows.text(FullText.normalize(FullText.content(extractor.context(), resource, narrative)),
        FullText.normalize(narrative));
    return rows;
  }

  /** A version's rows under the current parameters, their fingerprint, and the rows' digest. */
  private record Pending(IndexRows rows, String fingerprint, byte[] digest) {}

  private Pending pending(StoredResource written, Object model) {
    SearchParameters.Definitions defs = extractor.parameters().current();
    IndexRows rows = written.deleted() || written.json() == null ? IndexRows.none() : extract(defs, written, model);
    String fingerprint = defs.fingerprint(written.type());
    return new Pending(rows, fingerprint, rows.digest(fingerprint));
  }

  /** A first version's rows, extracted while its model is at hand, for {@link #writeAll}. */
  @Override
  public Object rows(StoredResource written, Object model) {
    return pending(written, model);
  }

  /** First versions (nothing to replace), the statements of one shape sent as one JDBC batch. */
  @Override
  public void writeAll(Connection c, List<StoredResource> written, List<Object> rows) throws SQLException {
    java.util.Map<Integer, List<Integer>> byKinds = new java.util.TreeMap<>();
    for (int i = 0; i < written.size(); i++) {
      byKinds.computeIfAbsent(((Pending) rows.get(i)).rows().kinds(), k -> new java.util.ArrayList<>()).add(i);
    }
    for (var shape : byKinds.entrySet()) {
      try (PreparedStatement ps = c.prepareStatement(cached(shape.getKey(), false))) {
        for (int i : shape.getValue()) {
          Pending p = (Pending) rows.get(i);
          bind(c, ps, written.get(i).type(), written.get(i).id(), p.rows(), p.fingerprint(), p.digest(), false);
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }
    for (int i = 0; i < written.size(); i++) {
      watched(c, written.get(i), ((Pending) rows.get(i)).rows());
    }
  }

  private void write(Connection c, String type, String id, IndexRows r, String fingerprint, byte[] digest,
      boolean replace) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(cached(r.kinds(), replace))) {
      bind(c, ps, type, id, r, fingerprint, digest, replace);
      ps.executeUpdate();
    }
  }

  private static void bind(Connection c, PreparedStatement ps, String type, String id, IndexRows r, String fingerprint,
      byte[] digest, boolean replace) throws SQLException {
    int kinds = r.kinds();
    int i = 1;
    ps.setString(i++, type);
    ps.setString(i++, id);
    if (replace) {
      ps.setString(i++, type);
      ps.setString(i++, id);
    }
    if ((kinds & 1) != 0) {
      i = texts(c, ps, i, r.stringParam, r.stringNorm, r.stringExact);
    }
    if ((kinds & 2) != 0) {
      i = texts(c, ps, i, r.tokenParam, r.tokenSystem, r.tokenCode);
    }
    if ((kinds & 4) != 0) {
      i = texts(c, ps, i, r.refParam, r.ref);
    }
    if ((kinds & 8) != 0) {
      i = texts(c, ps, i, r.dateParam, r.dateLo, r.dateHi);
    }
    if ((kinds & 16) != 0) {
      i = texts(c, ps, i, r.numberParam);
      ps.setArray(i++, c.createArrayOf("numeric", r.number.toArray()));
    }
    if ((kinds & 32) != 0) {
      i = texts(c, ps, i, r.quantityParam);
      ps.setArray(i++, c.createArrayOf("numeric", r.quantity.toArray()));
      i = texts(c, ps, i, r.quantitySystem, r.quantityCode);
    }
    if ((kinds & 64) != 0) {
      i = texts(c, ps, i, r.uriParam, r.uri);
    }
    ps.setString(i++, fingerprint);
    ps.setShort(i++, (short) kinds);
    ps.setBytes(i++, digest);
    ps.setString(i++, r.content);
    ps.setString(i, r.narrative);
  }

  @SafeVarargs
  private static int texts(Connection c, PreparedStatement ps, int i, List<String>... columns) throws SQLException {
    for (List<String> col : columns) {
      ps.setArray(i++, c.createArrayOf("text", col.toArray()));
    }
    return i;
  }
}
