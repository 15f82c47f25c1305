package io.appointmentserver.search;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/** The index rows of one resource, by kind, as parallel columns ready to be sent as arrays. */
public final class IndexRows {
  final List<String> stringParam = new ArrayList<>();
  final List<String> stringNorm = new ArrayList<>();
  final List<String> stringExact = new ArrayList<>();
  final List<String> tokenParam = new ArrayList<>();
  final List<String> tokenSystem = new ArrayList<>();
  final List<String> tokenCode = new ArrayList<>();
  final List<String> refParam = new ArrayList<>();
  final List<String> ref = new ArrayList<>();
  final List<String> dateParam = new ArrayList<>();
  final List<String> dateLo = new ArrayList<>();
  final List<String> dateHi = new ArrayList<>();
  final List<String> numberParam = new ArrayList<>();
  final List<BigDecimal> number = new ArrayList<>();
  final List<String> quantityParam = new ArrayList<>();
  final List<BigDecimal> quantity = new ArrayList<>();
  final List<String> quantitySystem = new ArrayList<>();
  final List<String> quantityCode = new ArrayList<>();
  final List<String> uriParam = new ArrayList<>();
  final List<String> uri = new ArrayList<>();
  /** The resource's text for full-text search ({@link FullText}), normalized; empty when it has none. */
  String content = "";
  String narrative = "";

  /** No rows: what a deleted resource has. */
  public static IndexRows none() {
    return new IndexRows();
  }

  void string(String param, String value) {
    if (value != null && !value.isBlank()) {
      stringParam.add(param);
      stringNorm.add(Strings.clip(Strings.normalize(value)));
      stringExact.add(value);
    }
  }

  void token(String param, String system, String code) {
    if (code != null && !code.isEmpty()) {
      tokenParam.add(param);
      tokenSystem.add(system == null || system.isEmpty() ? null : system);
      tokenCode.add(Strings.clip(code));
    }
  }

  void reference(String param, String value) {
    refParam.add(param);
    ref.add(value);
  }

  void date(String param, DateRange r) {
    dateParam.add(param);
    dateLo.add(sql(r.lo()));
    dateHi.add(sql(r.hi()));
  }

  void number(String param, BigDecimal v) {
    numberParam.add(param);
    number.add(v);
  }

  void quantity(String param, BigDecimal v, String system, String code) {
    quantityParam.add(param);
    quantity.add(v);
    quantitySystem.add(system);
    quantityCode.add(code);
  }

  void uri(String param, String value) {
    if (value != null && !value.isEmpty()) {
      uriParam.add(param);
      uri.add(value);
    }
  }

  void text(String content, String narrative) {
    this.content = content;
    this.narrative = narrative;
  }

  /** A date as PostgreSQL reads it, open ends as its infinities. */
  static String sql(java.time.Instant i) {
    if (!i.isAfter(DateRange.MIN)) {
      return "-infinity";
    }
    if (!i.isBefore(DateRange.MAX)) {
      return "infinity";
    }
    return i.toString();
  }

  /** A bit for each kind that has rows: string 1, token 2, reference 4, date 8, number 16, quantity 32, uri 64. */
  int kinds() {
    int k = 0;
    List<?>[] firsts = {stringParam, tokenParam, refParam, dateParam, numberParam, quantityParam, uriParam};
    for (int b = 0; b < firsts.length; b++) {
      if (!firsts[b].isEmpty()) {
        k |= 1 << b;
      }
    }
    return k;
  }

  /** The length of each half of {@link #digest}. */
  static final int HALF = 32;

  /**
   * A digest of every row and of {@code fingerprint} (the definitions they were made under),
   * then one of the text: equal digests, equal rows and text. Two halves, so that a write that
   * changes only the text (a comment) can leave the rows alone ({@link #sameRows}).
   */
  byte[] digest(String fingerprint) {
    MessageDigest md = sha256();
    add(md, fingerprint);
    List<?>[] columns = {stringParam, stringNorm, stringExact, tokenParam, tokenSystem, tokenCode, refParam, ref,
        dateParam, dateLo, dateHi, numberParam, number, quantityParam, quantity, quantitySystem, quantityCode,
        uriParam, uri};
    for (List<?> column : columns) {
      md.update((byte) 0x1e); // a column ends, so that rows cannot move from one column to the next
      for (Object v : column) {
        add(md, v == null ? null : v.toString());
      }
    }
    MessageDigest text = sha256();
    add(text, content);
    add(text, narrative);
    byte[] out = java.util.Arrays.copyOf(md.digest(), 2 * HALF);
    System.arraycopy(text.digest(), 0, out, HALF, HALF);
    return out;
  }

  /** Whether two {@link #digest}s are of the same rows (their text may differ); false for older, shorter ones. */
  static boolean sameRows(byte[] a, byte[] b) {
    return a != null && b != null && a.length == 2 * HALF && b.length == 2 * HALF
        && java.util.Arrays.equals(a, 0, HALF, b, 0, HALF);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A value as its length and UTF-8 bytes (-1 for null): no two lists of values give the same input. */
  private static void add(MessageDigest md, String v) {
    if (v == null) {
      md.update(new byte[] {-1, -1, -1, -1});
      return;
    }
    byte[] b = v.getBytes(StandardCharsets.UTF_8);
    md.update(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8), (byte) b.length});
    md.update(b);
  }

  public int size() {
    return stringParam.size() + tokenParam.size() + refParam.size() + dateParam.size() + numberParam.size()
        + quantityParam.size() + uriParam.size();
  }
}
