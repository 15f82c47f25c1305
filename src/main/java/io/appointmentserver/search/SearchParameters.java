package io.appointmentserver.search;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.hl7.fhir.dstu3.model.CodeType;
import org.hl7.fhir.dstu3.model.SearchParameter;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The search parameters of every resource type: the DSTU3 ones HAPI knows
 * ({@link ca.uhn.fhir.context.RuntimeResourceDefinition#getSearchParams()}), then the
 * SearchParameter resources of the IG ({@code FHIR_IG_PATH}), which add parameters (eHealth's
 * {@code responsible}, {@code careteamParticipant}, …) or replace one of the same code.
 */
public final class SearchParameters {
  private static final Logger log = LoggerFactory.getLogger(SearchParameters.class);
  /** Changes when what the extractor makes of a parameter changes, so that stored resources are indexed again. */
  private static final String EXTRACTION_VERSION = "1";

  /** One parameter of one type: its FHIRPath expression (with the type for {@code Resource.}) and target types. */
  public record Param(String name, RestSearchParameterTypeEnum kind, String expression, Set<String> targets) {}

  private final Map<String, Map<String, Param>> byType = new TreeMap<>();
  private final Map<String, String> fingerprints = new TreeMap<>();

  public SearchParameters(FhirContext ctx, Collection<IBaseResource> igResources) {
    for (String type : ctx.getResourceTypes()) {
      Map<String, Param> params = new LinkedHashMap<>();
      for (RuntimeSearchParam sp : ctx.getResourceDefinition(type).getSearchParams()) {
        params.put(sp.getName(), new Param(sp.getName(), sp.getParamType(), forType(sp.getPath(), type),
            Set.copyOf(sp.getTargets())));
      }
      byType.put(type, params);
    }
    for (IBaseResource r : igResources) {
      if (r instanceof SearchParameter sp && sp.hasCode() && sp.hasType() && sp.hasExpression()) {
        RestSearchParameterTypeEnum kind = RestSearchParameterTypeEnum.forCode(sp.getType().toCode());
        Set<String> targets = sp.getTarget().stream().map(CodeType::getValue).collect(java.util.stream.Collectors.toSet());
        for (CodeType base : sp.getBase()) {
          Map<String, Param> params = byType.get(base.getValue());
          if (params == null || kind == null) {
            log.warn("SearchParameter {} skipped: unknown base {} or type {}", sp.getUrl(), base.getValue(), sp.getType());
            continue;
          }
          params.put(sp.getCode(), new Param(sp.getCode(), kind, forType(sp.getExpression(), base.getValue()), targets));
        }
      }
    }
    for (Map.Entry<String, Map<String, Param>> e : byType.entrySet()) {
      fingerprints.put(e.getKey(), fingerprint(e.getValue().values()));
    }
  }

  /** The parameters of {@code type} by name (empty for an unknown type). */
  public Map<String, Param> of(String type) {
    return byType.getOrDefault(type, Map.of());
  }

  /** The parameter {@code name} of {@code type}, or null. */
  public Param get(String type, String name) {
    return of(type).get(name);
  }

  /** Identifies the parameter definitions of {@code type}; stored beside each indexed resource. */
  public String fingerprint(String type) {
    return fingerprints.get(type);
  }

  public Set<String> types() {
    return byType.keySet();
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
        .append(new java.util.TreeSet<>(p.targets())));
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
