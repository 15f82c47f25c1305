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
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import io.appointmentserver.store.ResourceHistory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirDefaultPolicyAdvisor;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.common.hapi.validation.validator.WorkerContextValidationSupportAdapter;
import org.hl7.fhir.dstu3.model.OperationOutcome;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.OperationOutcome.OperationOutcomeIssueComponent;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r5.elementmodel.ParserBase;
import org.hl7.fhir.r5.elementmodel.ValidatedFragment;
import org.hl7.fhir.r5.model.StructureDefinition;
import org.hl7.fhir.r5.utils.validation.ValidatorSession;
import org.hl7.fhir.r5.utils.validation.constants.IdStatus;
import org.hl7.fhir.r5.utils.xver.XVerExtensionManagerOld;
import org.hl7.fhir.utilities.i18n.I18nConstants;
import org.hl7.fhir.utilities.validation.ValidationMessage;
import org.hl7.fhir.validation.ValidatorSettings;
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
 * remembers the outcome for the contents it validated last ({@link #RECENT_BYTES} bytes): the same
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

  /**
   * What an InstanceValidator keeps of the resources it validated, each validation adding to it:
   * the resource's element tree as the key of {@code resourceTracker} (and each Element keeps the
   * invariants run on it and its JSON locations in its user data: tens of kilobytes for the seed
   * appointment), resources fetched, narrative XHTML by element, canonical lookups by URL, and
   * messages and texts tracked while validating, and every coding seen (with the path of Elements
   * to it) in its {@code codingObserver}. HAPI makes a validator per resource, so these
   * start empty there; a pooled validator has them emptied after each use (and its session's
   * objects). Kept, they ran a 1 GB heap out of memory in two minutes of new-content writes.
   */
  static final List<Field> PER_VALIDATION = fields(
      List.of(InstanceValidator.class, org.hl7.fhir.validation.BaseValidator.class),
      "resourceTracker", "fetchCache", "xhtmlElementMap", "crLookups", "textsToCheck", "textsToCheckKeys",
      "trackedMessages", "messagesToRemove", "statusWarnings");
  private static final Field CODING_OBSERVER = fields(List.of(InstanceValidator.class), "codingObserver").stream()
      .findFirst().orElse(null);
  private static final Field CODINGS_SEEN = fields(List.of(org.hl7.fhir.validation.codesystem.CodingsObserver.class), "list")
      .stream().findFirst().orElse(null);
  /** The fields that hold Elements; should a HAPI version lack one, validators are renewed far sooner. */
  private static final boolean ALL_ELEMENT_HOLDERS_KNOWN = CODING_OBSERVER != null && CODINGS_SEEN != null
      && PER_VALIDATION.stream().map(Field::getName).toList()
      .containsAll(List.of("resourceTracker", "fetchCache", "xhtmlElementMap"));
  /**
   * JSON characters a pooled validator validates before it is dropped for a new one (about 20 ms
   * to make), so that whatever else it keeps per content stays bounded too: about 650 seed
   * appointments; 30 if an Element-holding field was not found to clear.
   */
  static final long CHARS_PER_VALIDATOR = ALL_ELEMENT_HOLDERS_KNOWN ? 2_000_000 : 100_000;
  /**
   * Bytes (estimated: two per character, plus the messages) of the outcomes a generation
   * remembers, of whole contents and of free text, and the largest resource (JSON characters)
   * it remembers one for.
   */
  static final long RECENT_BYTES = 12L << 20;
  static final long RECENT_FREE_TEXT_BYTES = 4L << 20;
  static final int RECENT_MAX_LENGTH = 100_000;
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

  /** What an assigned identifier's value is validated as: the shape the server makes them in. */
  static final String ASSIGNED_PLACEHOLDER = "00000000-0000-4000-8000-000000000000";
  private static final java.util.regex.Pattern ASSIGNED_SHAPE =
      java.util.regex.Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

  private final FhirContext ctx;
  private final Mode mode;
  private final Set<String> assignedIdentifierSystems;
  private final boolean allowUnknownProfiles;
  // the chain's fixed modules, shared by all generations
  private final IValidationSupport base;
  private final IValidationSupport commonCodes;
  private final IValidationSupport inMemoryTerminology;
  /** From the IG, by type and URL; never changes. */
  /** For /metrics: outcomes found among the remembered ones, and contents validated anew. */
  private final java.util.concurrent.atomic.LongAdder outcomeHits = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder outcomeMisses = new java.util.concurrent.atomic.LongAdder();
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
    List<ResourceHistory.Current> changedSince(Instant since);
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
   * @param ig                   the IG's conformance resources (empty when no IG is configured)
   * @param mode                 which resources are validated
   * @param assignedIdentifierSystems identifier systems whose values the server assigns (random
   *                             UUIDs, as the eHealth identifier on create): validated as one fixed
   *                             UUID, so that the same content created twice is validated once
   * @param allowUnknownProfiles a claimed profile the server does not know is a warning, not an error
   * @param source               the conformance resources stored through the API, read now and
   *                             again when another process changed them; null for none
   */
  public ProfileValidator(FhirContext ctx, List<IBaseResource> ig, Mode mode, Set<String> assignedIdentifierSystems,
      boolean allowUnknownProfiles, StoredConformance source) {
    this.ctx = ctx;
    this.mode = mode;
    this.assignedIdentifierSystems = Set.copyOf(assignedIdentifierSystems);
    this.allowUnknownProfiles = allowUnknownProfiles;
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
    io.micrometer.core.instrument.FunctionCounter.builder("cache.gets", outcomeHits, java.util.concurrent.atomic.LongAdder::sum)
        .tags("cache", "validation", "result", "hit")
        .register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder("cache.gets", outcomeMisses, java.util.concurrent.atomic.LongAdder::sum)
        .tags("cache", "validation", "result", "miss")
        .register(registry);
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
      messages = g.validate(masked(json, names, freeText), r.getResourceType().name(), freeText, profiles, () -> json);
    } catch (RuntimeException e) {
      // a profile that cannot be used (a broken snapshot, an unknown base): the claim cannot be checked
      log.warn("validating {} against {} failed", r.getResourceType(), profileUrls(r), e);
      OperationOutcome oo = new OperationOutcome();
      oo.addIssue().setSeverity(IssueSeverity.ERROR).setCode(IssueType.PROCESSING)
          .setDiagnostics("The resource could not be validated against " + profileUrls(r) + ": " + e.getMessage());
      throw new ProfileValidationException(oo);
    }
    OperationOutcome oo = new OperationOutcome();
    boolean errors = false;
    for (ValidationMessage m : messages) {
      ValidationMessage.IssueSeverity level = m.getLevel();
      errors |= level == ValidationMessage.IssueSeverity.ERROR || level == ValidationMessage.IssueSeverity.FATAL;
      oo.addIssue(issue(m));
    }
    if (errors) {
      // errors first, so that the first issue tells why the write was refused
      oo.getIssue().sort((a, b) -> Integer.compare(a.getSeverity().ordinal(), b.getSeverity().ordinal()));
      throw new ProfileValidationException(oo);
    }
    return oo.getIssue();
  }

  /**
   * Reads JSON into trees that write back as read: decimals keep their digits (1.50 stays 1.50,
   * which precision checks see), objects their order.
   */
  private static final com.fasterxml.jackson.databind.ObjectMapper TREES =
      com.fasterxml.jackson.databind.json.JsonMapper.builder()
          .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .disable(com.fasterxml.jackson.databind.cfg.JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
          .enable(com.fasterxml.jackson.core.StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
          .build();

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

  /**
   * The content validated, which is also the key of the remembered outcomes: {@code json} (the
   * resource without what the server sets) with the values of assigned identifiers (random UUIDs)
   * replaced by one fixed UUID, which passes and fails the same checks, so that two creates of the
   * same appointment, each with its own new identifier, are validated once; and the free text named
   * in {@code freeTextNames} replaced by a placeholder, its values put in {@code freeText}.
   */
  private String masked(String json, Set<String> freeTextNames, Map<String, String> freeText) {
    boolean any = !assignedIdentifierSystems.isEmpty() && json.contains("\"identifier\":");
    for (String name : freeTextNames) {
      any |= json.contains("\"" + name + "\":");
    }
    if (!any) {
      return json; // nothing to mask: no tree
    }
    ObjectNode root;
    try {
      root = (ObjectNode) TREES.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (String name : freeTextNames) {
      // a plain value only: with an id or extensions (in "_name") the element has more than its value to check
      if (root.get(name) instanceof TextNode text && !root.has("_" + name)) {
        freeText.put(name, text.textValue());
        root.put(name, FREE_TEXT_PLACEHOLDER);
      }
    }
    JsonNode identifiers = assignedIdentifierSystems.isEmpty() ? null : root.get("identifier");
    Iterable<JsonNode> each = identifiers == null ? List.of() : identifiers.isArray() ? identifiers : List.of(identifiers);
    for (JsonNode id : each) {
      if (id instanceof ObjectNode o && o.get("system") instanceof TextNode system
          && assignedIdentifierSystems.contains(system.textValue()) && o.get("value") instanceof TextNode value
          && ASSIGNED_SHAPE.matcher(value.textValue()).matches()) {
        o.put("value", ASSIGNED_PLACEHOLDER);
      }
    }
    try {
      return TREES.writeValueAsString(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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

  /** One validator message as an OperationOutcome issue: severity, type, FHIRPath location, message. */
  private static OperationOutcomeIssueComponent issue(ValidationMessage m) {
    OperationOutcomeIssueComponent issue = new OperationOutcomeIssueComponent();
    issue.setSeverity(switch (m.getLevel()) {
      case FATAL -> IssueSeverity.FATAL;
      case ERROR -> IssueSeverity.ERROR;
      case WARNING -> IssueSeverity.WARNING;
      default -> IssueSeverity.INFORMATION;
    });
    IssueType code = IssueType.PROCESSING;
    if (m.getType() != null) {
      try {
        code = IssueType.fromCode(m.getType().toCode());
      } catch (Exception e) {
        // a code newer than DSTU3: stays "processing"
      }
    }
    issue.setCode(code);
    String text = m.getMessage();
    if (m.hasSliceInfo()) {
      List<String> slices = new ArrayList<>();
      m.getSliceInfo().forEach(s -> slices.add(s.getMessage()));
      text += " (" + String.join("; ", slices) + ")";
    }
    issue.setDiagnostics(text);
    if (m.getLocation() != null) {
      // the validator's location is a FHIRPath expression such as Appointment.participant[0]
      issue.addLocation(m.getLocation());
      issue.addExpression(m.getLocation());
    }
    return issue;
  }

  /** What one set of known conformance resources validates with; never changes once made. */
  private final class Generation {
    final PrePopulatedValidationSupport known;
    final ValidationSupportChain chain;
    final RememberingWorkerContext worker;
    /** Validators not in use; one is taken per validation, so at most one per thread validating. */
    final ConcurrentLinkedDeque<Pooled> idle = new ConcurrentLinkedDeque<>();
    /** Recent outcomes by the JSON validated, bounded by bytes (Caffeine drops the least likely reused). */
    final Cache<String, List<ValidationMessage>> recent = outcomes(RECENT_BYTES);

    /** Recent outcomes of free text alone ({@link #freeTextOutcome}), by the JSON validated. */
    final Cache<String, List<ValidationMessage>> recentFreeText = outcomes(RECENT_FREE_TEXT_BYTES);
    /** {@link #freeText} by resource type and claimed profiles (known ones only). */
    final Map<String, Set<String>> freeTextByClaim = new ConcurrentHashMap<>();
    /** {@link #unreadElsewhere} by element name. */
    final Map<String, Boolean> unreadElsewhere = new ConcurrentHashMap<>();

    /** Whether every definition was converted and its snapshot generated ({@link #ready}). */
    private volatile boolean prepared;
    /** Profiles looked up in vain in this generation, up to {@link #UNKNOWN_CHARS}. */
    final Set<String> unknown = ConcurrentHashMap.newKeySet();
    final AtomicLong unknownChars = new AtomicLong();
    /** The definition of each resource type the parsers met, by type name. */
    final Map<String, StructureDefinition> resourceDefinitions = new ConcurrentHashMap<>();

    Generation(PrePopulatedValidationSupport known) {
      this.known = known;
      this.chain = new ValidationSupportChain(base, known, commonCodes, inMemoryTerminology);
      this.worker = new RememberingWorkerContext(chain);
    }

    /**
     * The outcome for {@code json}: remembered when this content was validated before (validation
     * resolves no references, so the same content against the same definitions gives the same
     * outcome, and a client that sends the same appointment again pays nothing), else validated.
     */
    List<ValidationMessage> outcome(String json, List<String> profileUrls) {
      List<ValidationMessage> known = recent.getIfPresent(json);
      if (known != null) {
        outcomeHits.increment();
        return known;
      }
      outcomeMisses.increment();
      List<ValidationMessage> messages = validateNow(json, profileUrls);
      if (json.length() <= RECENT_MAX_LENGTH) {
        recent.put(json, messages);
      }
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
        if (at(m, type, freeText.keySet()) || (m.getMessage() != null && m.getMessage().contains(FREE_TEXT_PLACEHOLDER))) {
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
      String json = freeTextResource(type, freeText, profileUrls);
      List<ValidationMessage> known = recentFreeText.getIfPresent(json);
      if (known != null) {
        return known;
      }
      List<ValidationMessage> own = new ArrayList<>();
      try {
        for (ValidationMessage m : validateNow(json, profileUrls)) {
          // the rest (the elements it lacks) is not about the free text
          if (at(m, type, freeText.keySet())) {
            own.add(m);
          }
        }
      } catch (RuntimeException e) {
        return null;
      }
      own = List.copyOf(own);
      if (json.length() <= RECENT_MAX_LENGTH) {
        recentFreeText.put(json, own);
      }
      return own;
    }

    /**
     * The top-level string elements of {@code type} whose value only their own checks read, for
     * resources claiming {@code profileUrls}: none if a profile is unknown.
     */
    Set<String> freeText(String type, List<String> profileUrls) {
      String key = type + " " + String.join(" ", profileUrls);
      Set<String> known = freeTextByClaim.get(key);
      if (known != null) {
        return known;
      }
      ready();
      List<StructureDefinition> definitions = new ArrayList<>();
      definitions.add(worker.fetchResource(StructureDefinition.class, "http://hl7.org/fhir/StructureDefinition/" + type));
      for (String url : profileUrls) {
        definitions.add(unknown.contains(url) ? null : worker.fetchResource(StructureDefinition.class, url));
      }
      if (definitions.contains(null)) {
        return Set.of(); // not remembered: the URLs come from the content
      }
      Set<String> names = new java.util.TreeSet<>();
      for (org.hl7.fhir.r5.model.ElementDefinition ed : definitions.get(0).getSnapshot().getElement()) {
        String path = ed.getPath();
        String name = path.startsWith(type + ".") ? path.substring(type.length() + 1) : "";
        if (!name.isEmpty() && !name.contains(".") && "1".equals(ed.getMax()) && onlyString(ed)
            && definitions.stream().allMatch(sd -> checkedOnItsOwn(sd, path)) && unreadElsewhere(name)) {
          names.add(name);
        }
      }
      Set<String> found = Set.copyOf(names);
      freeTextByClaim.put(key, found);
      return found;
    }

    /**
     * Whether no invariant of any definition this generation knows reads the value of an element
     * named {@code name} (they may ask whether it is there: masking keeps it there).
     */
    private boolean unreadElsewhere(String name) {
      return unreadElsewhere.computeIfAbsent(name, n -> {
        for (IBaseResource r : chain.fetchAllStructureDefinitions()) {
          if (r instanceof org.hl7.fhir.dstu3.model.StructureDefinition sd) {
            for (List<org.hl7.fhir.dstu3.model.ElementDefinition> elements :
                List.of(sd.getSnapshot().getElement(), sd.getDifferential().getElement())) {
              for (org.hl7.fhir.dstu3.model.ElementDefinition ed : elements) {
                for (org.hl7.fhir.dstu3.model.ElementDefinition.ElementDefinitionConstraintComponent c : ed.getConstraint()) {
                  if (c.hasExpression() && !leavesValueUnread(c.getExpression(), n)) {
                    log.info("{} is validated with its resource: {} {} reads it", n, c.getKey(), c.getExpression());
                    return false;
                  }
                }
              }
            }
          }
        }
        return true;
      });
    }

    List<ValidationMessage> validateNow(String json, List<String> profileUrls) {
      ready();
      Pooled p = idle.pollFirst();
      if (p == null) {
        p = newPooled();
      }
      List<ValidationMessage> messages;
      try {
        messages = List.copyOf(validate(p, json, profileUrls));
      } finally {
        p.forget();
        p.chars += json.length();
        if (p.chars < CHARS_PER_VALIDATOR && current == this && !stale) {
          idle.offerFirst(p);
        }
      }
      return messages;
    }

    /** One at a time, after the generation is prepared ({@link #ready}). */
    private synchronized Pooled newPooled() {
      Pooled p = idle.pollFirst();
      if (p != null) {
        return p;
      }
      ValidatorSession session = new ValidatorSession();
      return new Pooled(newInstanceValidator(session), newParser(), session);
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
      ValidatorSession session = new ValidatorSession();
      idle.offerFirst(new Pooled(newInstanceValidator(session), newParser(), session));
      prepared = true;
    }

    /**
     * As HAPI's ValidatorWrapper and InstanceValidator.validate(InputStream) do for a JSON
     * resource, but with the pooled parser (a new one costs more than validating the seed).
     */
    private List<ValidationMessage> validate(Pooled p, String json, List<String> profileUrls) {
      List<StructureDefinition> profiles = new ArrayList<>();
      for (String url : profileUrls) {
        StructureDefinition sd = unknown.contains(url) ? null : worker.fetchResource(StructureDefinition.class, url);
        if (sd != null) {
          profiles.add(sd);
        }
        // an unknown one is reported by the validator itself, from meta.profile
      }
      List<ValidationMessage> messages = new ArrayList<>();
      List<ValidatedFragment> fragments;
      try {
        fragments = p.parser.parse(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      for (ValidatedFragment f : fragments) {
        if (f.getElement() != null) {
          p.validator.validate(null, f.getErrors(), fragments.size() > 1 ? f.path() : null, f.getElement(), profiles);
        }
        messages.addAll(f.getErrors());
      }
      List<ValidationMessage> out = new ArrayList<>(messages.size());
      for (ValidationMessage m : messages) {
        String id = m.getMessageId();
        // HAPI drops "binding has no source" the same way: a DSTU3 binding without a value set
        if (I18nConstants.TERMINOLOGY_TX_BINDING_NOSOURCE.equals(id)) {
          continue;
        }
        if (I18nConstants.VALIDATION_VAL_PROFILE_UNKNOWN.equals(id)
            || I18nConstants.VALIDATION_VAL_PROFILE_UNKNOWN_NOT_POLICY.equals(id)) {
          m.setLevel(allowUnknownProfiles ? ValidationMessage.IssueSeverity.WARNING : ValidationMessage.IssueSeverity.ERROR);
        }
        out.add(m);
      }
      return out;
    }

    private ParserBase newParser() {
      ParserBase parser = new DefinitionRememberingJsonParser(worker, resourceDefinitions);
      parser.setupValidation(ParserBase.ValidationPolicy.EVERYTHING);
      return parser;
    }

    /** As HAPI's ValidatorWrapper builds them, with FhirInstanceValidator's default settings. */
    private InstanceValidator newInstanceValidator(ValidatorSession session) {
      InstanceValidator v = new InstanceValidator(worker, new FhirInstanceValidator.NullEvaluationContext(),
          new XVerExtensionManagerOld(worker), session, new ValidatorSettings());
      v.setAssumeValidRestReferences(false);
      v.setAnyExtensionsAllowed(true);
      v.setResourceIdRule(IdStatus.OPTIONAL);
      v.setNoTerminologyChecks(false);
      v.setErrorForUnknownProfiles(!allowUnknownProfiles);
      v.setUnknownCodeSystemsCauseErrors(true);
      v.setPolicyAdvisor(new FhirDefaultPolicyAdvisor());
      v.setNoExtensibleWarnings(false);
      v.setNoBindingMsgSuppressed(false);
      v.setAllowExamples(false);
      v.setAllowXsiLocation(true);
      return v;
    }
  }

  /**
   * HAPI's worker context, remembering what each URL resolved to. The validator looks definitions
   * up by URL all the time (each element's type, each extension, each binding: hundreds of times
   * for the seed), and each lookup of HAPI's adapter goes through the chain's modules and then
   * locks the definition it found to read its converted form: about a tenth of a validation's CPU
   * (JFR), and contention between threads validating at once. A generation's definitions never
   * change, so neither does what a URL resolves to; unknown URLs are remembered too, up to a bound
   * (they come from the resources validated).
   */
  static final class RememberingWorkerContext extends WorkerContextValidationSupportAdapter {
    /** Characters of unknown URLs remembered (they come from the resources validated). */
    static final long MAX_UNKNOWN_CHARS = 1_000_000;
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
    private final Map<Class<?>, Map<String, Optional<org.hl7.fhir.r5.model.Resource>>> byType = new ConcurrentHashMap<>();
    private final AtomicLong unknownChars = new AtomicLong();

    private final IValidationSupport chain;
    /** Every CodeSystem the chain knows, converted; made the first time the validator asks. */
    private volatile List<org.hl7.fhir.r5.model.CodeSystem> codeSystems;

    RememberingWorkerContext(IValidationSupport chain) {
      super(chain);
      this.chain = chain;
    }

    /**
     * HAPI's adapter lists StructureDefinitions only and throws HAPI-0650 for anything else, but
     * the validator lists CodeSystems too: a ValueSet that includes a system given by an
     * identifier (an OID) is checked against the CodeSystems with that identifier. The list is
     * made once per generation, when first asked (validating such a ValueSet, which is rare).
     */
    /** Converts every StructureDefinition the chain knows and generates the missing snapshots. */
    synchronized void prepareAll() {
      super.fetchResourcesByType(StructureDefinition.class);
    }

    /** HAPI's adapter looks the resource up (and converts it) without going through fetchResource. */
    @Override
    public synchronized <T extends org.hl7.fhir.r5.model.Resource> boolean hasResource(Class<T> type, String uri) {
      return super.hasResource(type, uri);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends org.hl7.fhir.r5.model.Resource> List<T> fetchResourcesByType(Class<T> type) {
      if (type != org.hl7.fhir.r5.model.CodeSystem.class) {
        synchronized (this) {
          return super.fetchResourcesByType(type);
        }
      }
      List<org.hl7.fhir.r5.model.CodeSystem> all = codeSystems;
      if (all == null) {
        List<IBaseResource> resources = chain.fetchAllConformanceResources();
        List<org.hl7.fhir.r5.model.CodeSystem> found = new ArrayList<>();
        for (IBaseResource r : resources == null ? List.<IBaseResource>of() : resources) {
          if (r instanceof org.hl7.fhir.dstu3.model.CodeSystem cs && cs.hasUrl()) {
            org.hl7.fhir.r5.model.CodeSystem converted = fetchResource(org.hl7.fhir.r5.model.CodeSystem.class, cs.getUrl());
            if (converted != null && !found.contains(converted)) {
              found.add(converted);
            }
          }
        }
        codeSystems = all = List.copyOf(found);
      }
      return (List<T>) all;
    }

    @Override
    public <T extends org.hl7.fhir.r5.model.Resource> T fetchResource(Class<T> type, String uri) {
      if (uri == null) {
        return null;
      }
      Map<String, Optional<org.hl7.fhir.r5.model.Resource>> known = byType.computeIfAbsent(type, t -> new ConcurrentHashMap<>());
      Optional<org.hl7.fhir.r5.model.Resource> found = known.get(uri);
      if (found != null) {
        return type.cast(found.orElse(null));
      }
      int[] depth = DEPTH.get();
      depth[0]++;
      T fetched;
      // converting (and generating a snapshot) locks definitions: under one lock, in one order
      synchronized (this) {
        try {
          fetched = super.fetchResource(type, uri);
        } finally {
          depth[0]--;
        }
      }
      // what a lookup made while a snapshot is being generated finds is not final (a profile
      // without its snapshot yet): only the outermost lookups, and only complete definitions
      boolean complete = !(fetched instanceof StructureDefinition sd) || sd.hasSnapshot();
      if (depth[0] == 0 && complete && (fetched != null || unknownChars.addAndGet(uri.length()) <= MAX_UNKNOWN_CHARS)) {
        known.put(uri, Optional.ofNullable(fetched));
      }
      return fetched;
    }
  }

  /**
   * The element-model JSON parser (what {@code Manager.makeParser} makes for JSON), remembering
   * per generation the definition of each resource type it reads. HAPI's parser finds it, for
   * the resource and each contained one, by walking the list of every StructureDefinition and
   * building a URL to compare with each: a twentieth of a base validation's CPU (JFR). Found ones
   * only: a type not found is reported by the parser each time, as before.
   */
  static final class DefinitionRememberingJsonParser extends org.hl7.fhir.r5.elementmodel.JsonParser {
    private final Map<String, StructureDefinition> definitions;

    DefinitionRememberingJsonParser(org.hl7.fhir.r5.context.IWorkerContext context, Map<String, StructureDefinition> definitions) {
      super(context);
      this.definitions = definitions;
    }

    @Override
    protected StructureDefinition getDefinition(List<ValidationMessage> errors, int line, int col, String name) {
      StructureDefinition sd = name == null ? null : definitions.get(name);
      if (sd == null) {
        sd = super.getDefinition(errors, line, col, name);
        if (sd != null) {
          definitions.put(name, sd);
        }
      }
      return sd;
    }
  }

  /** What free text is validated as, in the content it belongs to: a plain string no check refuses. */
  static final String FREE_TEXT_PLACEHOLDER = "free-text";
  private static final java.util.regex.Pattern LITERAL = java.util.regex.Pattern.compile("'(?:[^'\\\\]|\\\\.)*'");
  private static final java.util.regex.Pattern TRAVERSAL =
      java.util.regex.Pattern.compile("(?<![A-Za-z0-9_])(?:descendants|children|allDescendants)\\s*\\(\\s*\\)");
  private static final java.util.regex.Pattern PRESENCE =
      java.util.regex.Pattern.compile("\\s*\\.\\s*(?:exists|empty|count|hasValue)\\s*\\(\\s*\\)");
  private static final java.util.regex.Pattern NAMED_STEP =
      java.util.regex.Pattern.compile("\\s*\\.\\s*([A-Za-z_][A-Za-z0-9_]*+)(?!\\s*\\()");

  /**
   * Whether a FHIRPath invariant cannot read the value of elements named {@code name}: it names
   * them only to ask whether they are there ({@code exists()}, {@code empty()}, {@code count()},
   * {@code hasValue()}), and walks the tree generically ({@code descendants()}, {@code children()})
   * only to count or to go on to another name. Anything else (a comparison, a function of the
   * value, {@code descendants().where(...)}) counts as reading it.
   */
  static boolean leavesValueUnread(String expression, String name) {
    String e = LITERAL.matcher(expression).replaceAll("''").replace("`", "");
    java.util.regex.Matcher t = TRAVERSAL.matcher(e);
    while (t.find()) {
      java.util.regex.Matcher step = NAMED_STEP.matcher(e).region(t.end(), e.length());
      boolean presence = PRESENCE.matcher(e).region(t.end(), e.length()).lookingAt();
      if (!presence && !(step.lookingAt() && !step.group(1).equals(name))) {
        return false;
      }
    }
    java.util.regex.Matcher n = java.util.regex.Pattern
        .compile("(?<![A-Za-z0-9_%$])" + java.util.regex.Pattern.quote(name) + "(?![A-Za-z0-9_])").matcher(e);
    while (n.find()) {
      if (!PRESENCE.matcher(e).region(n.end(), e.length()).lookingAt()) {
        return false;
      }
    }
    return true;
  }

  /** A single type, string. */
  private static boolean onlyString(org.hl7.fhir.r5.model.ElementDefinition ed) {
    return ed.getType().size() == 1 && "string".equals(ed.getType().get(0).getCode());
  }

  /**
   * Whether {@code path} is one plain string element in {@code sd}: not sliced, nothing said of
   * its children, and its own invariants look at nothing but itself (no {@code %resource}, no
   * {@code resolve()}), so that in another resource claiming the same profile it meets the same checks.
   */
  private static boolean checkedOnItsOwn(StructureDefinition sd, String path) {
    int found = 0;
    for (org.hl7.fhir.r5.model.ElementDefinition ed : sd.getSnapshot().getElement()) {
      if (ed.getPath().equals(path)) {
        found++;
        if (ed.hasSlicing() || !onlyString(ed)) {
          return false;
        }
        for (org.hl7.fhir.r5.model.ElementDefinition.ElementDefinitionConstraintComponent c : ed.getConstraint()) {
          String x = c.getExpression();
          if (x != null && (x.contains("%") || x.contains("resolve"))) {
            return false;
          }
        }
      } else if (ed.getPath().startsWith(path + ".")) {
        return false;
      }
    }
    return found == 1;
  }

  /** Whether the validator located {@code m} at one of these top-level elements (or inside one). */
  private static boolean at(ValidationMessage m, String type, Set<String> names) {
    String location = m.getLocation();
    if (location == null) {
      return false;
    }
    for (String name : names) {
      String path = type + "." + name;
      if (location.equals(path) || location.startsWith(path + ".") || location.startsWith(path + "[")) {
        return true;
      }
    }
    return false;
  }

  /** A resource holding only the free text and the profile claims. */
  private static String freeTextResource(String type, Map<String, String> freeText, List<String> profileUrls) {
    java.io.StringWriter w = new java.io.StringWriter();
    try (com.fasterxml.jackson.core.JsonGenerator g = JSON.createGenerator(w)) {
      g.writeStartObject();
      g.writeStringField("resourceType", type);
      if (!profileUrls.isEmpty()) {
        g.writeObjectFieldStart("meta");
        g.writeArrayFieldStart("profile");
        for (String url : profileUrls) {
          g.writeString(url);
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      for (Map.Entry<String, String> e : freeText.entrySet()) {
        g.writeStringField(e.getKey(), e.getValue());
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }

  /** The named fields of these classes that are maps or collections, made accessible; those missing are left out. */
  private static List<Field> fields(List<Class<?>> types, String... names) {
    List<Field> out = new ArrayList<>();
    for (String name : names) {
      for (Class<?> type : types) {
        try {
          Field f = type.getDeclaredField(name);
          if (Map.class.isAssignableFrom(f.getType()) || java.util.Collection.class.isAssignableFrom(f.getType())
              || f.getType() == org.hl7.fhir.validation.codesystem.CodingsObserver.class) {
            f.setAccessible(true);
            out.add(f);
          }
          break;
        } catch (ReflectiveOperationException | RuntimeException e) {
          // not in this class (or this HAPI version)
        }
      }
    }
    if (out.size() < names.length) {
      log.warn("HAPI's InstanceValidator lacks some of {}: pooled validators are renewed more often", List.of(names));
    }
    return List.copyOf(out);
  }

  /** An outcome cache of at most {@code bytes} (estimated) of keys and messages. */
  private static Cache<String, List<ValidationMessage>> outcomes(long bytes) {
    return Caffeine.newBuilder()
        .maximumWeight(bytes)
        .weigher((String json, List<ValidationMessage> messages) -> {
          long w = 64 + 2L * json.length();
          for (ValidationMessage m : messages) {
            w += 256 + 2L * (length(m.getMessage()) + length(m.getLocation()) + length(m.getMessageId()));
          }
          return (int) Math.min(Integer.MAX_VALUE, w);
        })
        .executor(Runnable::run) // its upkeep on the calling thread, as the server's other caches
        .build();
  }

  private static int length(String s) {
    return s == null ? 0 : s.length();
  }

  /** A validator and the parser that reads resources for it; used by one thread at a time. */
  private static final class Pooled {
    final InstanceValidator validator;
    final ParserBase parser;
    final ValidatorSession session;
    /** JSON characters validated with it. */
    long chars;

    Pooled(InstanceValidator validator, ParserBase parser, ValidatorSession session) {
      this.validator = validator;
      this.parser = parser;
      this.session = session;
    }

    /** Drops what the validator kept of the resource it validated last ({@link #PER_VALIDATION}). */
    void forget() {
      for (Field f : PER_VALIDATION) {
        try {
          Object held = f.get(validator);
          if (held instanceof Map<?, ?> m) {
            m.clear();
          } else if (held instanceof java.util.Collection<?> c) {
            c.clear();
          }
        } catch (IllegalAccessException | UnsupportedOperationException e) {
          throw new IllegalStateException("cannot clear InstanceValidator." + f.getName(), e);
        }
      }
      if (CODING_OBSERVER != null && CODINGS_SEEN != null) {
        try {
          Object observer = CODING_OBSERVER.get(validator);
          if (observer != null && CODINGS_SEEN.get(observer) instanceof java.util.Collection<?> seen) {
            seen.clear();
          }
        } catch (IllegalAccessException e) {
          throw new IllegalStateException("cannot clear the codings the InstanceValidator saw", e);
        }
      }
      session.getObjects().clear();
    }
  }
}
