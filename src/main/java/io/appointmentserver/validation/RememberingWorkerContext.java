package io.appointmentserver.validation;

import ca.uhn.fhir.context.support.IValidationSupport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.hl7.fhir.common.hapi.validation.validator.WorkerContextValidationSupportAdapter;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r5.model.StructureDefinition;

/**
 * HAPI's worker context, remembering what each URL resolved to. The validator looks definitions
 * up by URL all the time (each element's type, each extension, each binding: hundreds of times
 * for the seed), and each lookup of HAPI's adapter goes through the chain's modules and then
 * locks the definition it found to read its converted form: about a tenth of a validation's CPU
 * (JFR), and contention between threads validating at once. A generation's definitions never
 * change, so neither does what a URL resolves to; unknown URLs are remembered too, up to a bound
 * (they come from the resources validated).
 */
final class RememberingWorkerContext extends WorkerContextValidationSupportAdapter {
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

  /** Converts every StructureDefinition the chain knows and generates the missing snapshots. */
  synchronized void prepareAll() {
    super.fetchResourcesByType(StructureDefinition.class);
  }

  /** HAPI's adapter looks the resource up (and converts it) without going through fetchResource. */
  @Override
  public synchronized <T extends org.hl7.fhir.r5.model.Resource> boolean hasResource(Class<T> type, String uri) {
    return super.hasResource(type, uri);
  }

  /**
   * HAPI's adapter lists StructureDefinitions only and throws HAPI-0650 for anything else, but
   * the validator lists CodeSystems too: a ValueSet that includes a system given by an
   * identifier (an OID) is checked against the CodeSystems with that identifier. The list is
   * made once per generation, when first asked (validating such a ValueSet, which is rare).
   */
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
