package io.appointmentserver.validation;

import ca.uhn.fhir.context.FhirContext;
import io.appointmentserver.store.ResourceHistory;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.dstu3.model.OperationOutcome.OperationOutcomeIssueComponent;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.instance.model.api.IBaseResource;
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
 * validation itself). The validator does what HAPI's {@code ValidatorWrapper} does with the same
 * settings, but keeps one {@code InstanceValidator} (and its element-model parser, whose
 * constructor costs more than the seed's validation too) per thread in use ({@link ValidatorPool}). And a generation
 * remembers the outcome for the contents it validated last ({@link RememberedOutcomes#RECENT_BYTES} bytes): the same
 * appointment sent again costs a lookup, its key the JSON the write stores without the server's
 * fields (a Jackson tree of it only when free text or an assigned identifier is masked, about
 * 15 us for the seed, against about 0.5 ms or more to validate it). Free text ({@link FreeText}: an Appointment's
 * {@code comment} and {@code description}) is left out of that key and validated on its own, so
 * an update that changes only the comment reuses the outcome of the rest.
 */
public final class ProfileValidator {
  private static final Logger log = LoggerFactory.getLogger(ProfileValidator.class);

  /**
   * The resource types the validator and the terminology operations learn from, whether loaded from
   * the IG or written through the API.
   */
  public static final Set<String> CONFORMANCE_TYPES =
      Set.of("StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter", "ConceptMap");

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
   * Where the conformance resources written through the API are kept (the database), which
   * other server processes on the same database write to as well.
   */
  public interface StoredConformance {
    /** Changes whenever one of them is written or deleted, by any process. */
    String fingerprint();

    /** Those whose current version (a deletion included) was written after {@code since}. */
    List<ResourceHistory.Current> changedSince(Instant since);
  }

  private final FhirContext ctx;
  private final Mode mode;
  private final ContentMask mask;
  /** For /metrics: outcomes found among the remembered ones, and contents validated anew. */
  private final RememberedOutcomes.Counts outcomeCounts = new RememberedOutcomes.Counts();
  private final ConformanceResources conformance;

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
    this.conformance = new ConformanceResources(ctx, ig, source, settings.allowUnknownProfiles(), outcomeCounts);
  }

  /** The free text elements ({@link Generation#freeText}) of resources of this type claiming these profiles. */
  Set<String> freeText(String type, List<String> profileUrls) {
    return conformance.generation().freeText(type, profileUrls);
  }

  /**
   * The terminology operations over what the validator knows now: the same generation (a
   * CodeSystem or ValueSet written a moment ago is used at once, as by validation).
   */
  public Terminology terminology() {
    conformance.refreshIfChanged(ConformanceResources.REFRESH_NANOS);
    return conformance.generation().terminology();
  }

  /** The remembered outcomes' hits and misses, as {@code cache_gets_total{cache="validation"}}. */
  public void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
    outcomeCounts.register(registry);
  }

  /** How many conformance resources written through the API the validator uses. */
  public int storedCount() {
    return conformance.storedCount();
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
        conformance.generation().warmUp();
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
    conformance.refreshIfChanged(ConformanceResources.REFRESH_NANOS);
    if (!conformance.generation().knowsAll(profileUrls(r))) {
      // perhaps written a moment ago through another process on the same database
      conformance.refreshIfChanged(ConformanceResources.UNKNOWN_REFRESH_NANOS);
    }
    List<ValidationMessage> messages;
    try {
      Generation g = conformance.generation();
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

  /** The StructureDefinition of this canonical URL the validator knows (DSTU3, the IG's, stored), or null. */
  public org.hl7.fhir.dstu3.model.StructureDefinition definition(String url) {
    conformance.refreshIfChanged(ConformanceResources.UNKNOWN_REFRESH_NANOS);
    return conformance.generation().definition(url);
  }

  /**
   * The StructureDefinition with the snapshot made from its differential and its base (any
   * definition the server knows, those written through the API too); a
   * {@link ProfileValidationException} (its issues) when none can be made.
   */
  public org.hl7.fhir.dstu3.model.StructureDefinition snapshot(org.hl7.fhir.dstu3.model.StructureDefinition sd) {
    conformance.refreshIfChanged(ConformanceResources.UNKNOWN_REFRESH_NANOS);
    try {
      return conformance.generation().snapshot(sd);
    } catch (Snapshots.Failed e) {
      log.info("no snapshot for {}: {}", sd.getUrl(), e.getMessage(), e.getCause());
      throw OutcomeIssues.notSnapshot(e.getMessage());
    }
  }

  /** A conformance resource was written (its write committed): the validator uses it from now on. */
  public void stored(String type, String id, String json) {
    if (CONFORMANCE_TYPES.contains(type)) {
      conformance.stored(type, id, json);
    }
  }

  /** A conformance resource was deleted: the validator forgets it (an IG resource of its URL shows again). */
  public void deleted(String type, String id) {
    if (CONFORMANCE_TYPES.contains(type)) {
      conformance.deleted(type, id);
    }
  }

  private static List<String> profileUrls(Resource r) {
    return r.getMeta().getProfile().stream().map(p -> p.getValue()).toList();
  }
}
