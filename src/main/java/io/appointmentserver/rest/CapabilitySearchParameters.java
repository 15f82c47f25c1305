package io.appointmentserver.rest;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import io.appointmentserver.search.Extractor;
import io.appointmentserver.search.FullText;
import io.appointmentserver.search.SearchParameters;
import io.appointmentserver.search.SearchQuery;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hl7.fhir.dstu3.model.CapabilityStatement;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestComponent;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.hl7.fhir.dstu3.model.Enumerations.SearchParamType;
import org.hl7.fhir.instance.model.api.IBaseConformance;

/**
 * The search parameters in the CapabilityStatement ({@code /metadata}, DSTU3
 * <a href="https://hl7.org/fhir/STU3/capabilitystatement.html">CapabilityStatement</a>
 * {@code rest.resource.searchParam}): for each type, the ones its searches take now — HAPI's
 * DSTU3 parameters, the IG's and those written through the API — leaving out the kinds the
 * search refuses (special, and the composites whose components it cannot index); and the {@code _include} values each type's searches take
 * ({@code searchInclude}: {@code *} and each of its reference parameters) and the
 * {@code _revinclude} values ({@code searchRevInclude}: the reference parameters of every type
 * that may point at it). HAPI keeps the statement for a minute (a request with
 * {@code Cache-Control: no-cache} gets a new one).
 */
@Interceptor
public final class CapabilitySearchParameters {
  private final SearchParameters params;

  public CapabilitySearchParameters(SearchParameters params) {
    this.params = params;
  }

  @Hook(Pointcut.SERVER_CAPABILITY_STATEMENT_GENERATED)
  public void generated(IBaseConformance statement) {
    if (!(statement instanceof CapabilityStatement cs)) {
      return;
    }
    SearchParameters.Definitions defs = params.current();
    // Type -> the "Other:param" that may refer to it
    Map<String, Set<String>> revIncludes = new TreeMap<>();
    for (Map.Entry<String, Map<String, SearchParameters.Param>> type : defs.byType().entrySet()) {
      for (SearchParameters.Param p : type.getValue().values()) {
        if (p.kind() == RestSearchParameterTypeEnum.REFERENCE && p.expression() != null) {
          for (String target : p.targets().isEmpty() ? defs.byType().keySet() : p.targets()) {
            revIncludes.computeIfAbsent(target, t -> new TreeSet<>()).add(type.getKey() + ":" + p.name());
          }
        }
      }
    }
    for (CapabilityStatementRestComponent rest : cs.getRest()) {
      for (CapabilityStatementRestResourceComponent resource : rest.getResource()) {
        resource.getSearchInclude().clear();
        resource.getSearchRevInclude().clear();
        resource.addSearchInclude("*");
        Map<String, SearchParameters.Param> byName = new TreeMap<>(defs.of(resource.getType()));
        resource.getSearchParam().clear();
        for (SearchParameters.Param p : byName.values()) {
          boolean composite = SearchQuery.answers(params, resource.getType(), p.name());
          if ((p.kind() == RestSearchParameterTypeEnum.COMPOSITE && !composite) || p.kind() == RestSearchParameterTypeEnum.SPECIAL
              || (p.expression() == null && !Extractor.FROM_COLUMNS.contains(p.name())
              && !FullText.PARAMS.contains(p.name()) && !composite)) {
            continue;
          }
          resource.addSearchParam().setName(p.name()).setType(SearchParamType.fromCode(p.kind().getCode()));
          if (p.kind() == RestSearchParameterTypeEnum.REFERENCE) {
            resource.addSearchInclude(resource.getType() + ":" + p.name());
          }
        }
        revIncludes.getOrDefault(resource.getType(), Set.of()).forEach(resource::addSearchRevInclude);
      }
    }
  }
}
