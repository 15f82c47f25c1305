package io.appointmentserver.search;

import ca.uhn.fhir.context.FhirContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Set;
import org.hl7.fhir.dstu3.model.DomainResource;
import org.hl7.fhir.dstu3.model.StringType;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.utilities.xhtml.NodeType;
import org.hl7.fhir.utilities.xhtml.XhtmlNode;

/**
 * Full-text search (<a href="https://hl7.org/fhir/STU3/search.html#content">_content</a>,
 * <a href="https://hl7.org/fhir/STU3/search.html#text">_text</a>): the text of a resource as it
 * is indexed, and the columns and SQL of the search. The words go into a {@code tsvector} of
 * {@code search_indexed} (V95: Danish and English stemming together), normalized first as string
 * parameters are ({@link Strings}: lower case, accents removed), since PostgreSQL's
 * {@code unaccent} is an extension not every database has, and it would take the {@code ø} from
 * {@code Søren} that the string search keeps.
 */
public final class FullText {
  public static final String CONTENT = "_content";
  public static final String TEXT = "_text";
  /** The full-text parameters every type has. */
  public static final Set<String> PARAMS = Set.of(CONTENT, TEXT);
  /**
   * The most characters of a resource's text indexed: a {@code tsvector} holds at most 1 MB, and
   * the words of a longer text are rarely what anyone searches by.
   */
  static final int MAX_CHARS = 200_000;
  /** The most characters of a search's text: longer ones are a 400, not a slow query. */
  static final int MAX_QUERY_CHARS = 1_000;

  private FullText() {}

  /** The column of {@code search_indexed} a parameter searches. */
  static String column(String param) {
    return param.equals(TEXT) ? "narrative" : "content";
  }

  /**
   * The whole text of a resource as written: every string (with its subtypes, such as markdown:
   * names, descriptions, comments, displays; not codes, ids or URIs, which the token and reference
   * parameters search), and the narrative ({@code narrative}, as {@link #narrative} made it), one
   * line each, up to {@link #MAX_CHARS}.
   */
  static String content(FhirContext ctx, IBaseResource resource, String narrative) {
    StringBuilder sb = new StringBuilder(narrative);
    for (StringType s : ctx.newTerser().getAllPopulatedChildElementsOfType(resource, StringType.class)) {
      if (sb.length() >= MAX_CHARS) {
        break;
      }
      if (s.getValue() != null) {
        sb.append('\n').append(s.getValue());
      }
    }
    return sb.toString();
  }

  /** The narrative's text as written ({@code text.div} without its markup); empty when none. */
  static String narrative(IBaseResource resource) {
    if (!(resource instanceof DomainResource d) || !d.hasText() || d.getText().getDiv() == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    words(d.getText().getDiv(), sb);
    return sb.toString();
  }

  /** The text of {@code param} ({@code _content} or {@code _text}) of a resource, as written. */
  static String of(FhirContext ctx, IBaseResource resource, String param) {
    String narrative = narrative(resource);
    return param.equals(TEXT) ? narrative : content(ctx, resource, narrative);
  }

  /** The text of the nodes, each element's apart from the next ({@code <td>a</td><td>b</td>} is two words). */
  private static void words(XhtmlNode node, StringBuilder sb) {
    if (node.getNodeType() == NodeType.Text && node.getContent() != null) {
      sb.append(node.getContent());
    }
    if (node.hasChildren()) {
      for (XhtmlNode child : node.getChildNodes()) {
        if (sb.length() >= MAX_CHARS) {
          return;
        }
        words(child, sb);
      }
      sb.append(' ');
    }
  }

  private static final String UNINDEXED = """
      SELECT s.res_type FROM search_indexed s JOIN resource r ON r.res_type = s.res_type AND r.res_id = s.res_id
       WHERE s.res_type = ANY(?::text[]) AND s.content IS NULL AND NOT r.deleted LIMIT 1""";

  /**
   * Refuses a search of the words of {@code types} while one of them has a stored resource whose
   * words are not indexed yet (the reindex pass after V95 is under way): a page would miss it. One
   * probe of a partial index that is empty once the pass is done.
   */
  static void requireIndexed(Connection c, Set<String> types) throws SQLException {
    if (types.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(UNINDEXED)) {
      ps.setArray(1, c.createArrayOf("text", types.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          throw new TextNotIndexedException(types);
        }
      }
    }
  }

  static String normalize(String text) {
    String n = Strings.normalize(text);
    return n.length() <= MAX_CHARS ? n : n.substring(0, MAX_CHARS);
  }
}
