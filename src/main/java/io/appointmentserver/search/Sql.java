package io.appointmentserver.search;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A piece of SQL and the values of its {@code ?}, in the order they stand in the text. The text is
 * made of fixed fragments and known names only; every value a client sent is a parameter.
 */
public record Sql(String text, List<Object> params) {
  /** The condition that holds for every row. */
  public static final Sql TRUE = new Sql("true", List.of());
  /** The condition that holds for no row. */
  public static final Sql FALSE = new Sql("false", List.of());

  public Sql {
    params = Collections.unmodifiableList(new ArrayList<>(params));
  }

  /**
   * Text with its parameters. An array is one parameter ({@code ?::text[]}): pass it through
   * {@link #array}, since a lone array here would be taken for the parameters themselves.
   */
  public static Sql of(String text, Object... params) {
    return new Sql(text, Arrays.asList(params));
  }

  /** Text with one parameter, {@code values} as an SQL array. */
  public static Sql array(String text, List<String> values) {
    return new Sql(text, Collections.singletonList(values.toArray(String[]::new)));
  }

  /** The condition, its parameters after those of this one. */
  public Sql and(Sql condition) {
    return new Builder().add(this).add(" AND ").add(condition).build();
  }

  /** The alternatives, in parentheses when there are several. */
  public static Sql or(List<Sql> alternatives) {
    if (alternatives.size() == 1) {
      return alternatives.get(0);
    }
    return new Builder().add("(").join(" OR ", alternatives).add(")").build();
  }

  /** Sets the parameters of a statement made of this kind of SQL, in order. */
  public static void bind(java.sql.PreparedStatement ps, List<Object> params) throws java.sql.SQLException {
    int i = 1;
    for (Object p : params) {
      ps.setObject(i++, p);
    }
  }

  /** Text and parameters put together in order, as a {@link StringBuilder} puts text. */
  public static final class Builder {
    private final StringBuilder text = new StringBuilder();
    private final List<Object> params = new ArrayList<>();

    /** Fixed text and the parameters of its {@code ?} (an array through {@link Sql#array}). */
    public Builder add(String fixed, Object... values) {
      text.append(fixed);
      params.addAll(Arrays.asList(values));
      return this;
    }

    public Builder add(Sql sql) {
      text.append(sql.text());
      params.addAll(sql.params());
      return this;
    }

    /** The pieces with {@code separator} between them. */
    public Builder join(String separator, List<Sql> pieces) {
      String sep = "";
      for (Sql s : pieces) {
        text.append(sep);
        add(s);
        sep = separator;
      }
      return this;
    }

    public Sql build() {
      return new Sql(text.toString(), params);
    }
  }
}
