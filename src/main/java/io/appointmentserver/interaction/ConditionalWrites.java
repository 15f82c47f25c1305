package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.search.Searcher;
import io.appointmentserver.store.StoredResource;
import io.appointmentserver.store.TransactionScope;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;

/**
 * What the conditional interactions share (<a href="https://hl7.org/fhir/STU3/http.html#ccreate">DSTU3
 * conditional create</a>, <a href="https://hl7.org/fhir/STU3/http.html#cond-update">update</a>,
 * <a href="https://hl7.org/fhir/STU3/http.html#2.21.0.13.1">delete</a>): the criteria are a type
 * search with the user's context in it, so a match outside the context is neither revealed nor
 * touched; the search and the write run in one transaction that first takes an advisory lock on
 * the type and the normalized criteria, so that two conditional writes with the same criteria,
 * in any server processes on the database, take turns and the second sees what the first wrote.
 */
public final class ConditionalWrites {
  /** Search controls that do not select resources: not part of the criteria. */
  private static final Set<String> NOT_CRITERIA = Set.of("_count", "_sort", Searcher.CURSOR, "_total", "_format",
      "_pretty", "_summary", "_elements");

  private final TransactionScope transactions;
  private final Searches searches;
  private final String defaultBase;
  private final boolean deleteMultiple;

  public ConditionalWrites(TransactionScope transactions, Searches searches, String defaultBase,
      boolean deleteMultiple) {
    this.transactions = transactions;
    this.searches = searches;
    this.defaultBase = defaultBase;
    this.deleteMultiple = deleteMultiple;
  }

  /** Whether a conditional delete may delete several resources (else several matches are a 412). */
  boolean deleteMultiple() {
    return deleteMultiple;
  }

  TransactionScope transactions() {
    return transactions;
  }

  /**
   * The criteria of {@code If-None-Exist} or of a conditional reference: a query string,
   * optionally after {@code [type]?}, its names and values URL-decoded.
   */
  static Map<String, String[]> parse(String query) {
    String q = query.trim();
    int question = q.indexOf('?');
    return criteria(query(question >= 0 ? q.substring(question + 1) : q));
  }

  /** A query string's parameters, names and values URL-decoded, in their order. */
  static Map<String, String[]> query(String q) {
    Map<String, List<String>> values = new LinkedHashMap<>();
    for (String pair : q.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      values.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
    }
    Map<String, String[]> out = new LinkedHashMap<>();
    values.forEach((k, v) -> out.put(k, v.toArray(String[]::new)));
    return out;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw Outcomes.status(400, IssueType.INVALID, "Invalid URL encoding in the search criteria: " + s);
    }
  }

  /** The parameters that select resources; none is a 400 (a condition that matches everything is no condition). */
  static Map<String, String[]> criteria(Map<String, String[]> parameters) {
    Map<String, String[]> out = new LinkedHashMap<>();
    parameters.forEach((k, v) -> {
      if (!NOT_CRITERIA.contains(k)) {
        out.put(k, v);
      }
    });
    if (out.isEmpty()) {
      throw Outcomes.status(400, IssueType.REQUIRED, "A conditional interaction needs search criteria");
    }
    return out;
  }

  /**
   * Runs {@code work} on the first {@code limit} resources of {@code type} that match
   * {@code criteria} within the user's context, in one transaction holding the criteria's lock;
   * what {@code work} writes is part of that transaction.
   */
  <T> T underLock(RequestDetails request, String type, Map<String, String[]> criteria, int limit,
      Function<List<StoredResource>, T> work) {
    return transactions.run(() -> {
      transactions.lock(key(type, criteria));
      return work.apply(matches(request, type, criteria, limit));
    });
  }

  /**
   * Takes the locks of several conditional writes at once, in one order (the transaction's own
   * order could deadlock with another transaction taking the same locks in another order);
   * {@link #underLock} then takes them again, which PostgreSQL allows.
   */
  void lockAll(List<String> keys) {
    keys.stream().sorted().distinct().forEach(transactions::lock);
  }

  /** The first {@code limit} matches of {@code criteria} within the user's context. */
  List<StoredResource> matches(RequestDetails request, String type, Map<String, String[]> criteria, int limit) {
    // chained criteria see only what the user may see of the other types, as in a search
    Searcher.Page page = searches.find(request, type, criteria,
        new Searcher.Reading(false, Searches.ownBases(request, defaultBase)), new Searcher.Paging(limit, false, false));
    return page.resources();
  }

  /** The same criteria however their parameters and values are ordered. */
  static String key(String type, Map<String, String[]> criteria) {
    StringBuilder b = new StringBuilder("conditional:").append(type).append('?');
    new TreeMap<>(criteria).forEach((k, v) -> {
      String[] sorted = v.clone();
      Arrays.sort(sorted);
      for (String value : sorted) {
        b.append(k).append('=').append(value).append('&');
      }
    });
    return b.toString();
  }
}
