package io.appointmentserver.validation;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.r5.model.StructureDefinition;
import org.hl7.fhir.utilities.validation.ValidationMessage;

/**
 * What one set of known conformance resources validates with; never changes once made: the
 * worker context that converts their definitions for the validator and keeps the generated
 * snapshots, a pool of validators, the outcomes remembered, and the profiles known not to be
 * there. Prepared once ({@link #ready}) before it validates.
 */
final class Generation {
  /** Characters of profile URLs (they come from the content) remembered as unknown, per generation. */
  static final long UNKNOWN_CHARS = 1_000_000;

  private final ValidationSupportChain chain;
  private final RememberingWorkerContext worker;
  private final ValidatorPool pool;
  /** For /metrics, over all generations. */
  private final RememberedOutcomes.Counts outcomeCounts;
  /** Recent outcomes by the JSON validated, bounded by bytes (Caffeine drops the least likely reused). */
  private final RememberedOutcomes recent = new RememberedOutcomes(RememberedOutcomes.RECENT_BYTES);
  /** Recent outcomes of free text alone ({@link #freeTextOutcome}), by the JSON validated. */
  private final RememberedOutcomes recentFreeText = new RememberedOutcomes(RememberedOutcomes.RECENT_FREE_TEXT_BYTES);
  /** The terminology operations over these definitions; needs no preparation ({@link #ready}). */
  private final Terminology terminology;
  /** Which elements are free text, for these definitions. */
  private final FreeText freeTextElements;

  /** Whether every definition was converted and its snapshot generated ({@link #ready}). */
  private volatile boolean prepared;
  /** Profiles looked up in vain in this generation, up to {@link #UNKNOWN_CHARS}. */
  private final Set<String> unknown = ConcurrentHashMap.newKeySet();
  private final AtomicLong unknownChars = new AtomicLong();

  /**
   * @param chain                the fixed modules around the module of known resources
   * @param allowUnknownProfiles a claimed profile the server does not know is a warning, not an error
   * @param outcomeCounts        the remembered outcomes' hits and misses, of all generations
   * @param inUse                whether a generation is still the one in use (its validators are then kept)
   * @param conceptMaps          the ConceptMaps in use now, for the terminology operations
   */
  Generation(ValidationSupportChain chain, boolean allowUnknownProfiles, RememberedOutcomes.Counts outcomeCounts,
      Predicate<Generation> inUse, Supplier<List<org.hl7.fhir.dstu3.model.ConceptMap>> conceptMaps) {
    this.terminology = new Terminology(chain, conceptMaps);
    this.chain = chain;
    this.worker = new RememberingWorkerContext(chain);
    this.pool = new ValidatorPool(worker, allowUnknownProfiles, () -> inUse.test(this));
    this.outcomeCounts = outcomeCounts;
    this.freeTextElements = new FreeText(chain, worker, this::profile);
  }

  /**
   * The outcome for {@code json}: remembered when this content was validated before (validation
   * resolves no references, so the same content against the same definitions gives the same
   * outcome, and a client that sends the same appointment again pays nothing), else validated.
   */
  private List<ValidationMessage> outcome(String json, List<String> profileUrls) {
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
      Supplier<String> unmasked) {
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

  private List<ValidationMessage> validateNow(String json, List<String> profileUrls) {
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

  /** The DSTU3 StructureDefinition of {@code url} these definitions have, or null. */
  org.hl7.fhir.dstu3.model.StructureDefinition definition(String url) {
    return chain.fetchStructureDefinition(url) instanceof org.hl7.fhir.dstu3.model.StructureDefinition sd ? sd : null;
  }

  /** {@code sd}'s snapshot, made from its differential over these definitions ({@link Snapshots}). */
  org.hl7.fhir.dstu3.model.StructureDefinition snapshot(org.hl7.fhir.dstu3.model.StructureDefinition sd) {
    return Snapshots.generate(chain, worker, sd);
  }

  Terminology terminology() {
    return terminology;
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
   * ({@link RememberingWorkerContext#fetchResource}). Lock order: generation, worker, definitions;
   * the pool's lock, held while it makes a validator once prepared, also comes before the worker's.
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
