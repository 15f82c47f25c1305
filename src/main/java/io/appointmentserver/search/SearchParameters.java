package io.appointmentserver.search;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hl7.fhir.dstu3.model.CodeType;
import org.hl7.fhir.dstu3.model.Enumerations;
import org.hl7.fhir.dstu3.model.SearchParameter;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The search parameters of every resource type: the DSTU3 ones HAPI knows
 * ({@link ca.uhn.fhir.context.RuntimeResourceDefinition#getSearchParams()}), then the
 * SearchParameter resources of the IG ({@code FHIR_IG_PATH}), which add parameters (eHealth's
 * {@code responsible}, {@code careteamParticipant}, …) or replace one of the same code, then
 * those written through the API ({@link #useStored}), which take effect without a restart.
 */
public final class SearchParameters {
  private static final Logger log = LoggerFactory.getLogger(SearchParameters.class);
  /** Changes when what the extractor makes of a parameter changes, so that stored resources are indexed again. */
  private static final String EXTRACTION_VERSION = "3"; // 2: the texts of tokens, for :text; 3: full text

  /**
   * One parameter of one type: its FHIRPath expression (with the type for {@code Resource.}),
   * target types, and a composite's components (the names of parameters of the same type).
   */
  public record Param(String name, RestSearchParameterTypeEnum kind, String expression, Set<String> targets,
      List<String> components) {
    public Param(String name, RestSearchParameterTypeEnum kind, String expression, Set<String> targets) {
      this(name, kind, expression, targets, List.of());
    }
  }

  /** The parameters of each type and their fingerprints, as one immutable whole. */
  public record Definitions(Map<String, Map<String, Param>> byType, Map<String, String> fingerprints) {
    /** The parameters of {@code type} by name (empty for an unknown type). */
    public Map<String, Param> of(String type) {
      return byType.getOrDefault(type, Map.of());
    }

    /** Identifies the parameter definitions of {@code type}; stored beside each indexed resource. */
    public String fingerprint(String type) {
      return fingerprints.get(type);
    }
  }

  private final FhirContext ctx;
  private final List<IBaseResource> configured;
  /** Replaced as a whole when SearchParameters are written through the API (here or in another process). */
  private volatile Definitions current;

  public SearchParameters(FhirContext ctx, Collection<IBaseResource> igResources) {
    this.ctx = ctx;
    this.configured = List.copyOf(igResources);
    this.current = build(List.of());
  }

  /**
   * Takes the SearchParameter resources stored through the API (all of them, as they are now):
   * they add to (or replace, by code) the DSTU3 and IG parameters. Returns the types whose
   * fingerprint changed: their stored resources need indexing again.
   */
  public synchronized Set<String> useStored(Collection<? extends IBaseResource> stored) {
    Definitions before = current;
    Definitions after = build(stored);
    current = after;
    Set<String> changed = new TreeSet<>();
    after.fingerprints().forEach((type, fp) -> {
      if (!fp.equals(before.fingerprint(type))) {
        changed.add(type);
      }
    });
    return changed;
  }

  private Definitions build(Collection<? extends IBaseResource> stored) {
    Map<String, Map<String, Param>> byType = new TreeMap<>();
    for (String type : ctx.getResourceTypes()) {
      Map<String, Param> params = new LinkedHashMap<>();
      for (RuntimeSearchParam sp : ctx.getResourceDefinition(type).getSearchParams()) {
        params.put(sp.getName(), new Param(sp.getName(), sp.getParamType(), forType(sp.getPath(), type),
            Set.copyOf(sp.getTargets()), sp.getComponents().stream().map(c -> componentName(c.getReference(), type)).toList()));
      }
      for (String text : FullText.PARAMS) {
        // no expression: the words are taken from the whole resource (FullText), not by FHIRPath
        params.put(text, new Param(text, RestSearchParameterTypeEnum.STRING, null, Set.of()));
      }
      byType.put(type, params);
    }
    List<IBaseResource> all = new ArrayList<>(configured);
    all.addAll(stored);
    for (IBaseResource r : all) {
      if (r instanceof SearchParameter sp && sp.hasCode() && sp.hasType() && sp.hasExpression()
          && sp.getStatus() != Enumerations.PublicationStatus.RETIRED) {
        RestSearchParameterTypeEnum kind = RestSearchParameterTypeEnum.forCode(sp.getType().toCode());
        Set<String> targets = sp.getTarget().stream().map(CodeType::getValue).collect(java.util.stream.Collectors.toSet());
        for (CodeType base : sp.getBase()) {
          Map<String, Param> params = byType.get(base.getValue());
          if (params == null || kind == null) {
            log.warn("SearchParameter {} skipped: unknown base {} or type {}", sp.getUrl(), base.getValue(), sp.getType());
            continue;
          }
          String b = base.getValue();
          List<String> components = sp.getComponent().stream()
              .map(c -> componentName(c.getDefinition().getReference(), b)).toList();
          params.put(sp.getCode(), new Param(sp.getCode(), kind, forType(sp.getExpression(), b), targets, components));
        }
      }
    }
    Map<String, String> fingerprints = new TreeMap<>();
    for (Map.Entry<String, Map<String, Param>> e : byType.entrySet()) {
      fingerprints.put(e.getKey(), fingerprint(e.getValue().values()));
    }
    return new Definitions(byType, fingerprints);
  }

  /** The definitions now: one whole, for work that must not see two versions (indexing a resource). */
  public Definitions current() {
    return current;
  }

  /** The parameters of {@code type} by name (empty for an unknown type). */
  public Map<String, Param> of(String type) {
    return current.of(type);
  }

  /** The parameter {@code name} of {@code type}, or null. */
  public Param get(String type, String name) {
    return of(type).get(name);
  }

  /** Identifies the parameter definitions of {@code type}; stored beside each indexed resource. */
  public String fingerprint(String type) {
    return current.fingerprint(type);
  }

  public FhirContext context() {
    return ctx;
  }

  public Set<String> types() {
    return current.byType().keySet();
  }

  /**
   * The parameter a composite's component refers to by its SearchParameter's URL, named by the
   * URL's last part ({@code …/SearchParameter/Observation-component-code}: {@code component-code}).
   */
  private static String componentName(String url, String type) {
    String last = url == null ? "" : url.substring(url.lastIndexOf('/') + 1);
    return last.startsWith(type + "-") ? last.substring(type.length() + 1) : last;
  }

  /** HAPI's common parameters are written over {@code Resource.}, which FHIRPath only knows as the type itself. */
  private static String forType(String path, String type) {
    if (path == null || path.isBlank()) {
      return null;
    }
    return path.replaceAll("(?<![A-Za-z])(Domain)?Resource\\.", type + ".");
  }

  private static String fingerprint(Collection<Param> params) {
    StringBuilder sb = new StringBuilder(EXTRACTION_VERSION);
    params.stream().sorted(java.util.Comparator.comparing(Param::name)).forEach(p -> sb.append('\n')
        .append(p.name()).append('|').append(p.kind()).append('|').append(p.expression()).append('|')
        .append(new java.util.TreeSet<>(p.targets())).append(p.components().isEmpty() ? "" : "|" + p.components()));
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
