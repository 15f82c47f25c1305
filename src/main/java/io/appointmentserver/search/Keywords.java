package io.appointmentserver.search;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.parser.DataFormatException;
import io.appointmentserver.store.SqlErrors;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.commons.text.similarity.LevenshteinDistance;

/**
 * The words of {@code $suggest-keywords} (as HAPI's JPA server has it): the words of the full text
 * ({@link FullText}) of the resources in a patient's compartment that start with what the user
 * typed, or nearly do (one letter off, for four letters or more), scored by how much of the word
 * was typed. The compartment is found in SQL: the patient and the resources whose index rows of
 * a parameter that puts them in the Patient compartment (DSTU3's CompartmentDefinition, as HAPI
 * knows it) refer to the patient; the user's context for each type is part of the query.
 */
public final class Keywords {
  /** The most resources of a compartment whose words are looked at, and the most words suggested. */
  static final int MAX_RESOURCES = 1000;
  static final int MAX_WORDS = 10;
  private static final LevenshteinDistance ONE_OFF = new LevenshteinDistance(1);

  /** A suggested word (as written where first found) and its score in (0, 1]. */
  public record Keyword(String word, double score) {}

  private final DataSource ds;
  private final FhirContext ctx;
  /** (type, parameter) pairs that put a resource in the Patient compartment, as two columns. */
  private final List<String> memberTypes = new ArrayList<>();
  private final List<String> memberParams = new ArrayList<>();

  public Keywords(DataSource ds, FhirContext ctx) {
    this.ds = ds;
    this.ctx = ctx;
    for (String type : new java.util.TreeSet<>(ctx.getResourceTypes())) {
      for (RuntimeSearchParam p : ctx.getResourceDefinition(type).getSearchParamsForCompartmentName("Patient")) {
        memberTypes.add(type);
        memberParams.add(p.getName());
      }
    }
  }

  /**
   * Suggestions for {@code typed} from the words of {@code param} ({@code _content} or
   * {@code _text}) of Patient/{@code patientId}'s compartment, as far as {@code scope} lets the user see it.
   */
  public List<Keyword> suggest(String patientId, String param, String typed, Searcher.Scope scope) {
    String t = Strings.normalize(typed.strip());
    Map<String, Keyword> best = new LinkedHashMap<>();
    for (String json : compartment(patientId, scope)) {
      String text;
      try {
        text = FullText.of(ctx, ctx.newJsonParser().parseResource(json), param);
      } catch (DataFormatException e) {
        continue; // a resource that is not indexed is not suggested from either
      }
      for (String word : text.split("[^\\p{L}\\p{N}]+")) {
        double score = score(Strings.normalize(word), t);
        if (score > 0) {
          best.merge(Strings.normalize(word), new Keyword(word, score), (a, b) -> a);
        }
      }
    }
    return best.values().stream()
        .sorted(Comparator.comparingDouble(Keyword::score).reversed().thenComparing(Keyword::word))
        .limit(MAX_WORDS).toList();
  }

  /** How well the normalized word fits what was typed: the share typed of a word it starts with (half, one letter off). */
  static double score(String word, String typed) {
    if (word.length() < typed.length() || typed.isEmpty()) {
      return 0;
    }
    double share = (double) typed.length() / word.length();
    if (word.startsWith(typed)) {
      return share;
    }
    boolean nearly = typed.length() >= 4 && ONE_OFF.apply(word.substring(0, typed.length()), typed) >= 0;
    return nearly ? share / 2 : 0;
  }

  /** Every resource type the server knows. */
  public java.util.Set<String> types() {
    return ctx.getResourceTypes();
  }

  private List<String> compartment(String patientId, Searcher.Scope scope) {
    Sql.Builder visible = new Sql.Builder().add("(false");
    java.util.Set<String> types = new java.util.TreeSet<>(memberTypes);
    types.add("Patient");
    for (String type : types) {
      Sql context = scope.of(type, false);
      if (context != null) {
        visible.add(" OR (r.res_type = ? AND ", type).add(context).add(")");
      }
    }
    Sql sql = new Sql.Builder().add("""
        WITH m(t, i) AS (
          SELECT 'Patient', ?::text
          UNION
          SELECT x.res_type, x.res_id FROM search_reference x, unnest(?::text[], ?::text[]) AS p(t, n)
           WHERE x.res_type = p.t AND x.param = p.n AND x.ref = ?)
        SELECT r.body FROM m JOIN resource r ON r.res_type = m.t AND r.res_id = m.i
         WHERE NOT r.deleted AND """, patientId, memberTypes.toArray(String[]::new),
            memberParams.toArray(String[]::new), "Patient/" + patientId)
        .add(visible.add(")").build()).add(" LIMIT " + MAX_RESOURCES).build();
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql.text())) {
      int i = 1;
      for (Object p : sql.params()) {
        ps.setObject(i++, p);
      }
      List<String> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
      return out;
    } catch (SQLException e) {
      throw SqlErrors.translate(e);
    }
  }
}
