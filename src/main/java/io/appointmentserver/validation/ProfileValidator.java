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
import java.io.IOException;
import io.appointmentserver.store.ResourceStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.dstu3.model.OperationOutcome.OperationOutcomeIssueComponent;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r5.model.StructureDefinition;
import org.hl7.fhir.utilities.validation.ValidationMessage;
import org.hl7.fhir.validation.instance.InstanceValidator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Profile validation on write (<a href="https://hl7.org/fhir/STU3/validation.html#profile">DSTU3
 * validation against profiles</a>): a resource that claims profiles in {@code meta.profile} is
 * checked by HAPI's instance validator against the DSTU3 base definitions and every profile it
 * claims. Errors refuse the write ({@link ProfileValidationException}, a 422); warnings and
 * information are returned to go with the response. Which resources: see {@link Mode} (by default
 * those that claim a profile; one that claims none is only parsed and costs nothing here).
 *
 * <p>What the validator knows: the DSTU3 definitions shipped with HAPI, then the conformance
 * resources of the IG (built in, {@code FHIR_IG_PATH}) overlaid by those stored through the API (so a
 * profile written with PUT replaces the IG's one of the same URL), terminology from the loaded
 * CodeSystems and ValueSets only (no remote terminology server). The DSTU3 definitions come first
 * in the chain: a stored resource cannot redefine the base specification. The stored ones are
 * read from the database at start-up, and again when their fingerprint there changed (another
 * process on the same database wrote one): looked at every ten seconds at most, and at once (once
 * a second at most) when a resource claims a profile not known here.
 *
 * <p>Cheap by reuse. Everything the validator looks things up in is one {@link Generation}: a
 * {@link ValidationSupportChain} (which caches since HAPI 8, that deprecated
 * {@code CachingValidationSupport}), the worker context that converts DSTU3 definitions for the
 * validator and keeps the generated snapshots, and a pool of validators. After conformance writes
 * the next validation makes a new generation (new module of known resources, new caches) and
 * swaps it in; requests already validating finish on the old one. The DSTU3 base definitions,
 * parsed and converted once (HAPI keeps them per JVM), are shared by all generations. Resources
 * whose URL the DSTU3 definitions already have (the specification's own, as in its examples)
 * are skipped: they could never be used, the base coming first.
 *
 * <p>Why not {@code FhirInstanceValidator}: it builds a new {@link InstanceValidator} for every
 * resource, and that constructor parses a 1.5 MB OID registry (about 20 ms, far more than the
 * validation itself). This class does what HAPI's {@code ValidatorWrapper} does with the same
 * settings, but keeps one {@code InstanceValidator} (and its element-model parser, whose
 * constructor costs more than the seed's validation too) per thread in use. And a generation
 * remembers the outcome for the contents it validated last ({@link RememberedOutcomes#RECENT_BYTES} bytes): the same
 * appointment sent again costs a lookup, its key the JSON the write stores without the server's
 * fields (a Jackson tree of it only when free text or an assigned identifier is masked, about
 * 15 us for the seed, against about 0.5 ms or more to validate it). Free text ({@link Generation#freeText}: an Appointment's
 * {@code comment} and {@code description}) is left out of that key and validated on its own, so
 * an update that changes only the comment reuses the outcome of the rest.
 */
public final class ProfileValidator {
  private static final Logger log = LoggerFactory.getLogger(ProfileValidator.class);

  /** The resource types the validator learns from, whether loaded from the IG or written through the API. */
  public static final Set<String> CONFORMANCE_TYPES =
      Set.of("StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter");

  /** Characters of profile URLs (they come from the content) remembered as unknown, per generation. */
  static final long UNKNOWN_CHARS = 1_000_000;

  /**
   * Which writes go through the instance validator ({@code FHIR_VALIDATION}). Every resource is
   * parsed strictly first whatever the mode (unknown elements and malformed primitives are refused
   * by the parser), and the eHealth rules hold in every mode.
   */
  public enum Mode {
    /** Every resource: against its type's base definition, and the profiles it claims. */
    FULL,
    /** Only resources that claim a profile (base definition and the profiles); others are only parsed. */
    PROFILES,
    /** None: claimed profiles are neither checked nor need to be known. */
    OFF;

    /** The setting's value: {@code full}, {@code profiles} or {@code off}. */
    public static Mode parse(String value) {
      return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
        case "full" -> FULL;
        case "profiles", "" -> PROFILES;
        case "off" -> OFF;
        default -> throw new IllegalArgumentException("FHIR_VALIDATION must be full, profiles or off, not " + value);
      };
    }
  }

  private final FhirContext ctx;
  private final Mode mode;
  private final ContentMask mask;
  private final boolean allowUnknownProfiles;
  // the chain's fixed modules, shared by all generations
  private final IValidationSupport base;
  private final IValidationSupport commonCodes;
  private final IValidationSupport inMemoryTerminology;
  /** From the IG, by type and URL; never changes. */
  /** For /metrics: outcomes found among the remembered ones, and contents validated anew. */
  private final RememberedOutcomes.Counts outcomeCounts = new RememberedOutcomes.Counts();
  private final Map<String, IBaseResource> fromIg = new LinkedHashMap<>();
  /** Written through the API, by type/id; guarded by this. */
  private final Map<String, IBaseResource> stored = new LinkedHashMap<>();
  private volatile Generation current;
  /** Conformance resources changed since the current generation was made. */
  private volatile boolean stale;
  private static final JsonFactory JSON = new JsonFactory();

  /**
   * Where the conformance resources written through the API are kept (the database), which
   * other server processes on the same database write to as well.
   */
  public interface StoredConformance {
    /** Changes whenever one of them is written or deleted, by any process. */
    String fingerprint();

    /** Those whose current version (a deletion included) was written after {@code since}. */
    List<ResourceStore.Current> changedSince(Instant since);
  }

  /**
   * Versions are stamped with the clock of the process that wrote them: a refresh reads again
   * what changed this long before the newest version it saw, for processes whose clocks differ.
   */
  static final Duration CLOCK_MARGIN = Duration.ofSeconds(5);

  /** How often the validator looks whether other processes changed conformance resources. */
  static final long REFRESH_NANOS = 10_000_000_000L;
  /** At most this often when a resource claims a profile not known here. */
  static final long UNKNOWN_REFRESH_NANOS = 1_000_000_000L;
  private final StoredConformance source;
  private final Object refreshLock = new Object();
  private String fingerprint;
  /** The newest version read from the source; guarded by this. */
  private Instant seenUpTo = Instant.EPOCH;
  /** When the fingerprint was last looked at; never, at first (nanoTime can be negative). */
  private volatile long checkedAt = System.nanoTime() - REFRESH_NANOS;

  /**
   * What the validator validates, and how strictly.
   *
   * @param mode                 which resources are validated
   * @param assignedIdentifierSystems identifier systems whose values the server assigns (random
   *                             UUIDs, as the eHealth identifier on create): validated as one fixed
   *                             UUID, so that the same content created twice is validated once
   * @param allowUnknownProfiles a claimed profile the server does not know is a warning, not an error
   */
  public record Settings(Mode mode, Set<String> assignedIdentifierSystems, boolean allowUnknownProfiles) {}

  /**
   * @param ig                   the IG's conformance resources (empty when no IG is configured)
   * @param settings             which resources are validated, and how
   * @param source               the conformance resources stored through the API, read now and
   *                             again when another process changed them; null for none
   */
  public ProfileValidator(FhirContext ctx, List<IBaseResource> ig, Settings settings, StoredConformance source) {
    this.ctx = ctx;
    this.mode = settings.mode();
    this.mask = new ContentMask(settings.assignedIdentifierSystems());
    this.allowUnknownProfiles = settings.allowUnknownProfiles();
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

  /** The free text elements ({@link Generation#freeText}) of resources of this type claiming these profiles. */
  Set<String> freeText(String type, List<String> profileUrls) {
    return generation().freeText(type, profileUrls);
  }

  /** The remembered outcomes' hits and misses, as {@code cache_gets_total{cache="validation"}}. */
  public void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
    outcomeCounts.register(registry);
  }

  /** How many conformance resources written through the API the validator uses. */
  public synchronized int storedCount() {
    return stored.size();
  }

  /**
   * Prepares the validator in the background (the DSTU3 definitions, the IG's snapshots: seconds),
   * so that the first resource that claims a profile does not wait for it.
   */
  public void warmUpInBackground() {
    if (mode == Mode.OFF) {
      return;
    }
    Thread t = new Thread(() -> {
      long t0 = System.nanoTime();
      try {
        generation().warmUp();
        log.info("profile validation ready ({} ms)", (System.nanoTime() - t0) / 1_000_000);
      } catch (RuntimeException e) {
        log.warn("profile validation warm-up failed", e);
      }
    }, "validation-warm-up");
    t.setDaemon(true);
    t.setPriority(Thread.MIN_PRIORITY);
    t.start();
  }

  /**
   * Validates {@code resource} against the profiles it claims; returns the issues that do not
   * block (warnings, information), throws {@link ProfileValidationException} when there are errors.
   */
  public List<OperationOutcomeIssueComponent> validate(IBaseResource resource) {
    return validate(resource, null, true);
  }

  /**
   * As {@link #validate(IBaseResource)}, given the resource's content as JSON without what the
   * server sets (the resource's id, {@code meta.versionId} and {@code meta.lastUpdated}): a write
   * encodes its resource once, for the store and for this. Asked for only when validating.
   */
  public List<OperationOutcomeIssueComponent> validate(IBaseResource resource, java.util.function.Supplier<String> content) {
    return validate(resource, content, true);
  }

  /** As {@link #validate(IBaseResource)}; without {@code freeTextAlone} the whole content is validated at once (tests compare the two). */
  List<OperationOutcomeIssueComponent> validate(IBaseResource resource, boolean freeTextAlone) {
    return validate(resource, null, freeTextAlone);
  }

  private List<OperationOutcomeIssueComponent> validate(IBaseResource resource, java.util.function.Supplier<String> content,
      boolean freeTextAlone) {
    if (!(resource instanceof Resource r) || mode == Mode.OFF || (mode == Mode.PROFILES && !r.getMeta().hasProfile())) {
      return List.of();
    }
    refreshIfChanged(REFRESH_NANOS);
    if (!generation().knowsAll(profileUrls(r))) {
      // perhaps written a moment ago through another process on the same database
      refreshIfChanged(UNKNOWN_REFRESH_NANOS);
    }
    List<ValidationMessage> messages;
    try {
      Generation g = generation();
      List<String> profiles = profileUrls(r);
      Map<String, String> freeText = new LinkedHashMap<>(2);
      Set<String> names = freeTextAlone ? g.freeText(r.getResourceType().name(), profiles) : Set.of();
      String json = content != null ? content.get() : withoutServerFields(ctx, r);
      messages = g.validate(mask.masked(json, names, freeText), r.getResourceType().name(), freeText, profiles, () -> json);
    } catch (RuntimeException e) {
      // a profile that cannot be used (a broken snapshot, an unknown base): the claim cannot be checked
      log.warn("validating {} against {} failed", r.getResourceType(), profileUrls(r), e);
      throw OutcomeIssues.notValidated(profileUrls(r), e);
    }
    return OutcomeIssues.nonBlocking(messages);
  }

  /**
   * The content validation reads: HAPI's JSON of {@code r} without what the server sets, its id,
   * {@code meta.versionId} and {@code meta.lastUpdated}.
   */
  public static String withoutServerFields(FhirContext ctx, Resource r) {
    Resource c = r.copy();
    c.setIdElement(null); // HAPI writes an id's version as meta.versionId
    c.getMeta().setVersionIdElement(null).setLastUpdatedElement(null);
    return ctx.newJsonParser().setOmitResourceId(true).encodeResourceToString(c);
  }

  /** A conformance resource was written (its write committed): the validator uses it from now on. */
  public void stored(String type, String id, String json) {
    if (!CONFORMANCE_TYPES.contains(type)) {
      return;
    }
    IBaseResource r = definedByTheBase(type, urlOf(json)) ? null : parse(json, type + "/" + id);
    synchronized (this) {
      IBaseResource old = r == null || key(r) == null ? stored.remove(type + "/" + id) : stored.put(type + "/" + id, r);
      changed(type, old != null || r != null);
    }
  }

  /** A conformance resource was deleted: the validator forgets it (an IG resource of its URL shows again). */
  public synchronized void deleted(String type, String id) {
    if (CONFORMANCE_TYPES.contains(type)) {
      changed(type, stored.remove(type + "/" + id) != null);
    }
  }

  /**
   * Reads the stored conformance resources again when their fingerprint changed (another process
   * wrote or deleted one), looking at most once per {@code interval}; one thread looks, the others
   * go on with what is known.
   */
  private void refreshIfChanged(long interval) {
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
  private synchronized void apply(List<ResourceStore.Current> rows) {
    for (ResourceStore.Current row : rows) {
      String key = row.type() + "/" + row.id();
      if (row.lastUpdated().isAfter(seenUpTo)) {
        seenUpTo = row.lastUpdated();
      }
      // in a database that holds the specification's examples most of them are the
      // specification's own: skipped before parsing, which is what costs
      IBaseResource r = row.deleted() || definedByTheBase(row.type(), urlOf(row.json())) ? null
          : parse(row.json(), key);
      IBaseResource old = r == null || key(r) == null ? stored.remove(key) : stored.put(key, r);
      changed(row.type(), old != null || r != null);
    }
  }

  /**
   * Marks the generation out of date; the next validation makes a new one, so that a burst of
   * conformance writes costs one. SearchParameters are kept but play no part in validation.
   */
  private void changed(String type, boolean anything) {
    if (anything && !type.equals("SearchParameter")) {
      stale = true;
    }
  }

  /** The current generation, made anew first when conformance resources changed since. */
  private Generation generation() {
    if (stale) {
      synchronized (this) {
        if (stale) {
          rebuild();
        }
      }
    }
    return current;
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
      // a copy: the worker context caches converted definitions and snapshots in a resource's user
      // data, and a snapshot made before may rest on a base that has just been replaced
      known.addResource(ctx.newTerser().clone(r));
    }
    current = new Generation(known);
  }

  private static List<String> profileUrls(Resource r) {
    return r.getMeta().getProfile().stream().map(p -> p.getValue()).toList();
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

  /** What one set of known conformance resources validates with; never changes once made. */
  private final class Generation {
    final PrePopulatedValidationSupport known;
    final ValidationSupportChain chain;
    final RememberingWorkerContext worker;
    final ValidatorPool pool;
    /** Recent outcomes by the JSON validated, bounded by bytes (Caffeine drops the least likely reused). */
    final RememberedOutcomes recent = new RememberedOutcomes(RememberedOutcomes.RECENT_BYTES);

    /** Recent outcomes of free text alone ({@link #freeTextOutcome}), by the JSON validated. */
    final RememberedOutcomes recentFreeText = new RememberedOutcomes(RememberedOutcomes.RECENT_FREE_TEXT_BYTES);
    /** Which elements are free text, for these definitions. */
    final FreeText freeTextElements;

    /** Whether every definition was converted and its snapshot generated ({@link #ready}). */
    private volatile boolean prepared;
    /** Profiles looked up in vain in this generation, up to {@link #UNKNOWN_CHARS}. */
    final Set<String> unknown = ConcurrentHashMap.newKeySet();
    final AtomicLong unknownChars = new AtomicLong();
    Generation(PrePopulatedValidationSupport known) {
      this.known = known;
      this.chain = new ValidationSupportChain(base, known, commonCodes, inMemoryTerminology);
      this.worker = new RememberingWorkerContext(chain);
      this.pool = new ValidatorPool(worker, allowUnknownProfiles, () -> current == this && !stale);
      this.freeTextElements = new FreeText(chain, worker, this::profile);
    }

    /**
     * The outcome for {@code json}: remembered when this content was validated before (validation
     * resolves no references, so the same content against the same definitions gives the same
     * outcome, and a client that sends the same appointment again pays nothing), else validated.
     */
    List<ValidationMessage> outcome(String json, List<String> profileUrls) {
      List<ValidationMessage> known = recent.get(json);
      if (known != null) {
        outcomeCounts.hits.increment();
        return known;
      }
      outcomeCounts.misses.increment();
      List<ValidationMessage> messages = validateNow(json, profileUrls);
      recent.put(json, messages);
      return messages;
    }

    /**
     * The outcome for content whose free text ({@link #freeText}) was masked: the outcome of the
     * masked content (remembered like any other) and, for the free text itself, the issues of a
     * small resource that holds only that text, the same profiles claimed. Nothing else reads such
     * an element's value, so the two together are what validating the content unmasked finds, and
     * an update that changes a comment pays for validating the comment alone. Should the
     * placeholder show in the masked outcome (a profile that fixes the element, say) or the small
     * resource fail to validate, the unmasked content is validated as a whole.
     */
    List<ValidationMessage> validate(String json, String type, Map<String, String> freeText, List<String> profileUrls,
        java.util.function.Supplier<String> unmasked) {
      List<ValidationMessage> rest = outcome(json, profileUrls);
      if (freeText.isEmpty()) {
        return rest;
      }
      for (ValidationMessage m : rest) {
        if (FreeText.at(m, type, freeText.keySet()) || (m.getMessage() != null && m.getMessage().contains(FreeText.PLACEHOLDER))) {
          return outcome(unmasked.get(), profileUrls);
        }
      }
      List<ValidationMessage> own = freeTextOutcome(type, freeText, profileUrls);
      if (own == null) {
        return outcome(unmasked.get(), profileUrls);
      }
      if (own.isEmpty()) {
        return rest;
      }
      List<ValidationMessage> all = new ArrayList<>(rest);
      all.addAll(own);
      return all;
    }

    /** The issues located at the free text elements of a resource holding only them; null if it could not be validated. */
    private List<ValidationMessage> freeTextOutcome(String type, Map<String, String> freeText, List<String> profileUrls) {
      String json = FreeText.resource(type, freeText, profileUrls);
      List<ValidationMessage> known = recentFreeText.get(json);
      if (known != null) {
        return known;
      }
      List<ValidationMessage> own = new ArrayList<>();
      try {
        for (ValidationMessage m : validateNow(json, profileUrls)) {
          // the rest (the elements it lacks) is not about the free text
          if (FreeText.at(m, type, freeText.keySet())) {
            own.add(m);
          }
        }
      } catch (RuntimeException e) {
        return null;
      }
      own = List.copyOf(own);
      recentFreeText.put(json, own);
      return own;
    }

    /** The free text elements ({@link FreeText#names}) of resources of this type claiming these profiles. */
    Set<String> freeText(String type, List<String> profileUrls) {
      ready();
      return freeTextElements.names(type, profileUrls);
    }

    List<ValidationMessage> validateNow(String json, List<String> profileUrls) {
      ready();
      List<StructureDefinition> profiles = new ArrayList<>();
      for (String url : profileUrls) {
        StructureDefinition sd = profile(url);
        if (sd != null) {
          profiles.add(sd);
        }
        // an unknown one is reported by the validator itself, from meta.profile
      }
      return pool.validate(json, profiles);
    }

    /** A claimed profile's definition; null when this generation does not know it. */
    private StructureDefinition profile(String url) {
      return unknown.contains(url) ? null : worker.fetchResource(StructureDefinition.class, url);
    }

    /**
     * Whether every one of these profiles is known. A generation never learns a profile (a new one
     * comes with the next generation), so the ones it does not know are remembered: looking one up
     * in vain walks the whole support chain, at every write of a resource claiming it.
     */
    boolean knowsAll(List<String> profileUrls) {
      ready();
      for (String url : profileUrls) {
        if (unknown.contains(url)) {
          return false;
        }
        if (worker.fetchResource(StructureDefinition.class, url) == null) {
          if (unknownChars.addAndGet(url.length()) <= UNKNOWN_CHARS) {
            unknown.add(url);
          }
          return false;
        }
      }
      return true;
    }

    /** Prepares the generation ({@link #ready}) ahead of the first request that needs it. */
    void warmUp() {
      ready();
    }

    /**
     * Waits until the generation is prepared: every definition converted for the validator and
     * every snapshot generated, once, by one thread (the warm-up's or the first request's), and the
     * first validator made. HAPI's worker context locks a definition while it converts it and
     * generates its snapshot, and generating a snapshot locks the definitions it looks up (its base,
     * the profiles its types name, which may name it in turn): two threads preparing definitions in
     * different orders held each other's locks for ever. Once prepared, a lookup finds the
     * converted definition and locks nothing else; what is left to generate (a definition whose
     * snapshot failed, tried again at each lookup) is generated under the worker's one lock
     * ({@link RememberingWorkerContext#fetchResource}). Lock order: generation, worker, definitions.
     */
    void ready() {
      if (!prepared) {
        prepare();
      }
    }

    private synchronized void prepare() {
      if (prepared) {
        return;
      }
      worker.prepareAll();
      pool.addFirst();
      prepared = true;
    }
  }
}
