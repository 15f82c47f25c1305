package io.appointmentserver.interaction;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import io.appointmentserver.search.CompartmentSearch;
import io.appointmentserver.search.DateRange;
import io.appointmentserver.search.Searcher;
import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.security.ContextRule;
import io.appointmentserver.security.ForbiddenException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.DateTimeType;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;

/**
 * <a href="https://hl7.org/fhir/STU3/patient-operations.html#everything">Patient/$everything</a>:
 * the patient, every resource in its
 * <a href="https://hl7.org/fhir/STU3/compartmentdefinition-patient.html">Patient compartment</a>
 * (the parameters HAPI's FhirContext knows for it), and, as HAPI's JPA server does, the resources
 * these refer to that are in no patient's compartment (Practitioner, Organization, Location, ...,
 * as {@code search.mode=include}). A searchset in keyset pages along (type, id); the user's context
 * of each type is part of the query. At the type level, every patient's compartment the user may see.
 */
public final class Everything {
  static final String NAME = "$everything";
  /** The operation's parameters, and those of the answer's form that HAPI takes. */
  private static final Set<String> PARAMETERS = Set.of("start", "end", "_since", "_count", "_type", Searcher.CURSOR,
      "_format", "_pretty", "_summary", "_elements");

  /** The operation's parameters as given (each null when absent). */
  public record Query(String start, String end, String since, String count, List<String> types) {}

  private final Searches searches;
  private final Searcher searcher;
  private final ResourceCodec codec;
  private final Read read;
  private final Access access;
  /** By type, the parameters that put its resources in the Patient compartment. */
  private final Map<String, Set<String>> compartment = new TreeMap<>();
  private final Set<String> types;

  Everything(Searches searches, Searcher searcher, Read read, Access access, ResourceCodec codec) {
    this.searches = searches;
    this.searcher = searcher;
    this.read = read;
    this.access = access;
    this.codec = codec;
    FhirContext ctx = codec.context();
    this.types = Set.copyOf(ctx.getResourceTypes());
    for (String type : types) {
      for (RuntimeSearchParam sp : ctx.getResourceDefinition(type).getSearchParamsForCompartmentName("Patient")) {
        compartment.computeIfAbsent(type, t -> new TreeSet<>()).add(sp.getName());
      }
    }
    compartment.computeIfAbsent("Patient", t -> new TreeSet<>());
  }

  /** {@code Patient/[id]/$everything}, or {@code Patient/$everything} for {@code id} null. */
  public Bundle everything(String id, Query query, RequestDetails request, boolean storedForm) {
    for (String name : request.getParameters().keySet()) {
      if (!PARAMETERS.contains(name)) {
        throw invalid("Unknown parameter " + name + " of $everything (known: start, end, _since, _count, _type)");
      }
    }
    String patient = null;
    if (id != null) {
      ContextRule rule = access.rule(request, "Patient");
      String asked = "Patient/" + Ids.check(id);
      if (rule != null && rule.onlyPatient() != null && !rule.onlyPatient().equals(asked)) {
        // another patient than the token's: refused before anything is read, whether it exists or not
        throw new ForbiddenException(AccessPolicy.NOT_MATCHING + ": the Patient is outside the token's context"
            + " (expected " + rule.describe() + ")");
      }
      patient = "Patient/" + read.current("Patient", id, request).id();
    }
    Set<String> asked = asked(query.types());
    Map<String, Set<String>> members = new LinkedHashMap<>(compartment);
    members.keySet().retainAll(asked);
    ZoneId zone = codec.zone();
    DateRange start = date("start", query.start(), zone);
    DateRange end = date("end", query.end(), zone);
    DateRange clinical = start == null && end == null ? null
        : new DateRange(start == null ? DateRange.MIN : start.lo(), end == null ? DateRange.MAX : end.hi());
    int count = searches.count(query.count() == null ? null : new String[] {query.count()});
    String[] cursor = request.getParameters().get(Searcher.CURSOR);
    Searcher.Page page = searcher.compartments().page(new CompartmentSearch.Request(patient, members,
        new CompartmentSearch.Filter(since(query.since()), clinical, asked), count, cursor == null ? null : cursor[0]),
        access.scope(request, types));

    // the links repeat the parameters as given
    Map<String, String[]> used = new LinkedHashMap<>();
    putIf(used, "start", query.start());
    putIf(used, "end", query.end());
    putIf(used, "_since", query.since());
    putIf(used, "_count", query.count());
    if (query.types() != null && !query.types().isEmpty()) {
      used.put("_type", new String[] {String.join(",", new TreeSet<>(asked))});
    }
    page = new Searcher.Page(page.resources(), null, page.next(), null, page.included(), page.includesTruncated(),
        used);
    Set<String> tags = new TreeSet<>();
    Bundle bundle = searches.searchset(request, new Searches.Answer(
        (patient == null ? "Patient" : patient) + "/" + NAME, page, count, storedForm, false), tags);
    // one event per patient shown, as a search has
    access.auditedOperation(request, NAME, "Patient", patient, tags.toArray(String[]::new));
    return bundle;
  }

  /** {@code _type}: the types asked for, each a known one; all when none is given. */
  private Set<String> asked(List<String> given) {
    if (given == null || given.isEmpty()) {
      return types;
    }
    Set<String> out = new TreeSet<>();
    for (String value : given) {
      for (String t : value.split(",")) {
        if (!types.contains(t.trim())) {
          throw invalid("_type names no resource type: " + t);
        }
        out.add(t.trim());
      }
    }
    return out;
  }

  private static DateRange date(String name, String value, ZoneId zone) {
    if (value == null) {
      return null;
    }
    DateRange r = DateRange.parse(value, zone);
    if (r == null) {
      throw invalid(name + " must be a date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime), not " + value);
    }
    return r;
  }

  private static Instant since(String value) {
    if (value == null) {
      return null;
    }
    try {
      DateTimeType t = new DateTimeType(value);
      if (t.getValue() != null) {
        return t.getValue().toInstant();
      }
    } catch (RuntimeException e) {
      // below
    }
    throw invalid("_since must be an instant, not " + value);
  }

  private static void putIf(Map<String, String[]> used, String name, String value) {
    if (value != null) {
      used.put(name, new String[] {value});
    }
  }

  private static InvalidRequestException invalid(String msg) {
    return new InvalidRequestException(msg, Outcomes.error(IssueType.VALUE, msg));
  }
}
