package io.appointmentserver.validation;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.appointmentserver.store.ResourceHistory;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The conformance resources the validator knows, and the {@link Generation} made of them: the
 * IG's, overlaid by those stored through the API, which are read from the database at start-up
 * and again when their fingerprint there changed (another process on the same database wrote
 * one). Its lock guards the stored resources and the making of a generation: a write waits while
 * one is made, and a generation is made of one state of them.
 */
final class ConformanceResources {
  // the validator's log lines keep the one logger name they have always had
  private static final Logger log = LoggerFactory.getLogger(ProfileValidator.class);
  private static final JsonFactory JSON = new JsonFactory();

  /**
   * Versions are stamped with the clock of the process that wrote them: a refresh reads again
   * what changed this long before the newest version it saw, for processes whose clocks differ.
   */
  static final Duration CLOCK_MARGIN = Duration.ofSeconds(5);

  /** How often the validator looks whether other processes changed conformance resources. */
  static final long REFRESH_NANOS = 10_000_000_000L;
  /** At most this often when a resource claims a profile not known here. */
  static final long UNKNOWN_REFRESH_NANOS = 1_000_000_000L;
  private final ProfileValidator.StoredConformance source;
  private final Object refreshLock = new Object();
  private String fingerprint;
  /** The newest version read from the source; guarded by this. */
  private Instant seenUpTo = Instant.EPOCH;
  /** When the fingerprint was last looked at; never, at first (nanoTime can be negative). */
  private volatile long checkedAt = System.nanoTime() - REFRESH_NANOS;

  private final FhirContext ctx;
  private final boolean allowUnknownProfiles;
  /** For /metrics: outcomes found among the remembered ones, and contents validated anew. */
  private final RememberedOutcomes.Counts outcomeCounts;
  // the chain's fixed modules, shared by all generations
  private final IValidationSupport base;
  private final IValidationSupport commonCodes;
  private final IValidationSupport inMemoryTerminology;
  /** From the IG, by type and URL; never changes. */
  private final Map<String, IBaseResource> fromIg = new LinkedHashMap<>();
  /** Written through the API, by type/id; guarded by this. */
  private final Map<String, IBaseResource> stored = new LinkedHashMap<>();
  /** The ConceptMaps in use (the IG's overlaid by the stored ones), made again after a change of one; guarded by this. */
  private List<org.hl7.fhir.dstu3.model.ConceptMap> conceptMaps;
  private volatile Generation current;
  /** Conformance resources changed since the current generation was made. */
  private volatile boolean stale;

  /**
   * @param ig                   the IG's conformance resources (empty when no IG is configured)
   * @param source               the conformance resources stored through the API, read now and
   *                             again when another process changed them; null for none
   * @param allowUnknownProfiles a claimed profile the server does not know is a warning, not an error
   * @param outcomeCounts        the remembered outcomes' hits and misses, of all generations
   */
  ConformanceResources(FhirContext ctx, List<IBaseResource> ig, ProfileValidator.StoredConformance source,
      boolean allowUnknownProfiles, RememberedOutcomes.Counts outcomeCounts) {
    this.ctx = ctx;
    this.allowUnknownProfiles = allowUnknownProfiles;
    this.outcomeCounts = outcomeCounts;
    this.source = source;
    this.base = new DefaultProfileValidationSupport(ctx);
    this.commonCodes = new CommonCodeSystemsTerminologyService(ctx);
    this.inMemoryTerminology = new InMemoryTerminologyServerValidationSupport(ctx);
    for (IBaseResource r : ig) {
      String key = key(r);
      if (key != null) {
        fromIg.put(key, r);
      }
    }
    if (source != null) {
      fingerprint = source.fingerprint();
      apply(source.changedSince(seenUpTo));
    }
    rebuild();
  }

  /** A conformance resource of {@code type} was written (its write committed). */
  void stored(String type, String id, String json) {
    IBaseResource r = definedByTheBase(type, urlOf(json)) ? null : parse(json, type + "/" + id);
    synchronized (this) {
      put(type, type + "/" + id, r);
    }
  }

  /** A conformance resource of {@code type} was deleted. */
  synchronized void deleted(String type, String id) {
    changed(type, stored.remove(type + "/" + id) != null);
  }

  /** How many conformance resources written through the API are known. */
  synchronized int storedCount() {
    return stored.size();
  }

  /**
   * Reads the stored conformance resources again when their fingerprint changed (another process
   * wrote or deleted one), looking at most once per {@code interval}; one thread looks, the others
   * go on with what is known.
   */
  void refreshIfChanged(long interval) {
    if (source == null || System.nanoTime() - checkedAt < interval) {
      return;
    }
    synchronized (refreshLock) {
      if (System.nanoTime() - checkedAt < interval) {
        return;
      }
      checkedAt = System.nanoTime();
      try {
        String now = source.fingerprint();
        if (!now.equals(fingerprint)) {
          // what changed since the last look (and a little before), not everything again
          apply(source.changedSince(seenUpTo.minus(CLOCK_MARGIN)));
          fingerprint = now;
        }
      } catch (RuntimeException e) {
        // the database is away: validate with what is known; the write will meet the database itself
        log.warn("conformance resources not refreshed: {}", e.toString());
      }
    }
  }

  /** Takes in conformance resources read from the database: written, or deleted. */
  private synchronized void apply(List<ResourceHistory.Current> rows) {
    for (ResourceHistory.Current row : rows) {
      String key = row.type() + "/" + row.id();
      if (row.lastUpdated().isAfter(seenUpTo)) {
        seenUpTo = row.lastUpdated();
      }
      // in a database that holds the specification's examples most of them are the
      // specification's own: skipped before parsing, which is what costs
      IBaseResource r = row.deleted() || definedByTheBase(row.type(), urlOf(row.json())) ? null
          : parse(row.json(), key);
      put(row.type(), key, r);
    }
  }

  /** Keeps {@code r} as the stored resource {@code key}, or forgets that one when null (or without a URL); guarded by this. */
  private void put(String type, String key, IBaseResource r) {
    IBaseResource old = r == null || key(r) == null ? stored.remove(key) : stored.put(key, r);
    changed(type, old != null || r != null);
  }

  /**
   * Marks the generation out of date; the next validation makes a new one, so that a burst of
   * conformance writes costs one. SearchParameters are kept but play no part in validation.
   */
  private void changed(String type, boolean anything) {
    if (anything && type.equals(CONCEPT_MAP)) {
      // the terminology reads them as they are now: no new generation, whose validators would be prepared anew
      conceptMaps = null;
    } else if (anything && !type.equals("SearchParameter")) {
      stale = true;
    }
  }

  private static final String CONCEPT_MAP = "ConceptMap";

  /** The ConceptMaps in use: the IG's, overlaid by those stored through the API (by URL). */
  synchronized List<org.hl7.fhir.dstu3.model.ConceptMap> conceptMaps() {
    if (conceptMaps == null) {
      Map<String, org.hl7.fhir.dstu3.model.ConceptMap> byUrl = new LinkedHashMap<>();
      for (Map<String, IBaseResource> m : List.of(fromIg, stored)) {
        for (IBaseResource r : m.values()) {
          if (r instanceof org.hl7.fhir.dstu3.model.ConceptMap cm) {
            byUrl.put(cm.getUrl(), cm);
          }
        }
      }
      conceptMaps = List.copyOf(byUrl.values());
    }
    return conceptMaps;
  }

  /** The current generation, made anew first when conformance resources changed since. */
  Generation generation() {
    if (stale) {
      synchronized (this) {
        if (stale) {
          rebuild();
        }
      }
    }
    return current;
  }

  /** Whether {@code g} is the generation in use and no change has made it out of date since. */
  private boolean inUse(Generation g) {
    return current == g && !stale;
  }

  /**
   * Whether the DSTU3 definitions already have this URL: those come first in the chain, so a
   * stored resource with such a URL could never be used. The specification's own namespace only.
   */
  private boolean definedByTheBase(String type, String url) {
    if (url == null || !url.startsWith("http://hl7.org/fhir/")) {
      return false;
    }
    return switch (type) {
      case "StructureDefinition" -> base.fetchStructureDefinition(url) != null;
      case "ValueSet" -> base.fetchValueSet(url) != null;
      case "CodeSystem" -> base.fetchCodeSystem(url) != null;
      case "SearchParameter" -> url.startsWith("http://hl7.org/fhir/SearchParameter/");
      default -> false;
    };
  }

  /** The top-level {@code url} of a resource's JSON, read without parsing the resource. */
  private static String urlOf(String json) {
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (name.equals("url") && value == JsonToken.VALUE_STRING) {
          return p.getText();
        }
        p.skipChildren();
      }
      return null;
    } catch (IOException e) {
      return null;
    }
  }

  /** A new generation: the IG overlaid by the stored resources, new caches, new validators. */
  private synchronized void rebuild() {
    stale = false; // a change from now on makes another one
    Map<String, IBaseResource> effective = new LinkedHashMap<>(fromIg);
    for (IBaseResource r : stored.values()) {
      effective.put(key(r), r);
    }
    PrePopulatedValidationSupport known = new PrePopulatedValidationSupport(ctx);
    for (IBaseResource r : effective.values()) {
      if (ctx.getResourceType(r).equals(CONCEPT_MAP)) {
        continue; // the terminology's alone (conceptMaps)
      }
      // a copy: the worker context caches converted definitions and snapshots in a resource's user
      // data, and a snapshot made before may rest on a base that has just been replaced
      known.addResource(ctx.newTerser().clone(r));
    }
    current = new Generation(new ValidationSupportChain(base, known, commonCodes, inMemoryTerminology),
        allowUnknownProfiles, outcomeCounts, this::inUse, this::conceptMaps);
  }

  private IBaseResource parse(String json, String what) {
    IParser parser = ctx.newJsonParser();
    parser.setParserErrorHandler(new LenientErrorHandler(false));
    try {
      return parser.parseResource(json);
    } catch (DataFormatException e) {
      log.warn("{} is not used for validation: {}", what, e.getMessage());
      return null;
    }
  }

  /** {@code type|url}, or null (and a log line) for a resource without a URL. */
  private String key(IBaseResource r) {
    String type = ctx.getResourceType(r);
    String url = ctx.newTerser().getSinglePrimitiveValueOrNull(r, "url");
    if (url == null || url.isBlank()) {
      log.warn("{}/{} has no url and is not used for validation", type, r.getIdElement().getIdPart());
      return null;
    }
    return type + "|" + url;
  }
}
