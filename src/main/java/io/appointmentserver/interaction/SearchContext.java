package io.appointmentserver.interaction;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.security.AccessTags;
import io.appointmentserver.security.ContextRule;
import io.appointmentserver.security.ForbiddenException;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A search that names another patient than the one the user is limited to
 * ({@code Appointment?patient=Patient/other} by a PATIENT user, or by a practitioner with a
 * patient in context) is refused with 403 {@code SECURITY_SEARCH_PARAM_NOT_MATCHING_TOKEN_CONTEXT}
 * (eHealth's error list, ehealth-security), rather than answered with an empty page. The
 * parameters looked at are {@code patient} and those that put a resource in a Patient compartment
 * (the DSTU3 CompartmentDefinition as HAPI knows it: Appointment's {@code actor}, Observation's
 * {@code subject}, …), and {@code _id} of Patient.
 *
 * <p>Likewise a search by a user with a care team in context that names another care team where
 * the team decides what the user sees (an appointment's {@code responsible},
 * {@code careteamParticipant}, or a CareTeam {@code actor}: the references its access tags are made
 * of), e.g. {@code Appointment?responsible=CareTeam/other}.
 */
final class SearchContext {
  private SearchContext() {}

  /**
   * What the user's context asks of a search of one type: {@code rule}, the user's context rule
   * for it (null when unlimited), and {@code teamParameters}, the type's parameters whose care
   * teams must be in context (its plug-in's).
   */
  record Limits(ContextRule rule, Set<String> teamParameters) {}

  static void check(FhirContext ctx, String type, Map<String, String[]> parameters, List<String> ownBases,
      Limits limits) {
    ContextRule rule = limits.rule();
    if (rule == null) {
      return;
    }
    checkTeams(parameters, rule, ownBases, limits.teamParameters());
    String onlyPatient = rule.onlyPatient();
    if (onlyPatient == null) {
      return;
    }
    RuntimeResourceDefinition def = ctx.getResourceDefinition(type);
    for (Map.Entry<String, String[]> e : parameters.entrySet()) {
      String key = e.getKey();
      if (key.contains(".") || key.startsWith("_has")) {
        continue; // chains select by another resource's values, which the context filters
      }
      int colon = key.indexOf(':');
      String name = colon < 0 ? key : key.substring(0, colon);
      String modifier = colon < 0 ? null : key.substring(colon + 1);
      boolean patientId = type.equals("Patient") && name.equals("_id") && modifier == null;
      RuntimeSearchParam sp = def.getSearchParam(name);
      boolean compartment = sp != null && sp.getParamType() == RestSearchParameterTypeEnum.REFERENCE
          && (name.equals("patient") || (sp.getProvidesMembershipInCompartments() != null
              && sp.getProvidesMembershipInCompartments().contains("Patient")))
          && (modifier == null || modifier.equals("Patient"));
      if (!patientId && !compartment) {
        continue;
      }
      boolean onlyPatients = patientId || "Patient".equals(modifier) || Set.of("Patient").equals(sp.getTargets());
      for (String value : e.getValue()) {
        for (String v : value.split(",")) {
          String ref = AccessTags.withoutVersion(local(v.trim(), ownBases));
          if (!ref.contains("/") && onlyPatients && !ref.isEmpty()) {
            ref = "Patient/" + ref;
          }
          // another server's patient too (an absolute reference): it is not the one in context either
          if ((ref.startsWith("Patient/") || ref.contains("/Patient/")) && !ref.equals(onlyPatient)) {
            throw new ForbiddenException(AccessPolicy.SEARCH_NOT_MATCHING
                + ": Search parameters not matching security token context: " + key + "=" + v);
          }
        }
      }
    }
  }

  private static void checkTeams(Map<String, String[]> parameters, ContextRule rule, List<String> ownBases,
      Set<String> teamParameters) {
    if (teamParameters.isEmpty() || rule.anyOf() == null
        || rule.anyOf().stream().noneMatch(t -> t.startsWith(AccessTags.TEAM))) {
      return;
    }
    for (Map.Entry<String, String[]> e : parameters.entrySet()) {
      String key = e.getKey();
      int colon = key.indexOf(':');
      String name = colon < 0 ? key : key.substring(0, colon);
      String modifier = colon < 0 ? null : key.substring(colon + 1);
      if (!teamParameters.contains(name) || (modifier != null && !modifier.equals("CareTeam"))) {
        continue;
      }
      for (String value : e.getValue()) {
        for (String v : value.split(",")) {
          String ref = AccessTags.withoutVersion(local(v.trim(), ownBases));
          if (!ref.contains("/") && (!name.equals("actor") || "CareTeam".equals(modifier))) {
            ref = "CareTeam/" + ref; // responsible and careteamParticipant refer to care teams only
          }
          boolean team = ref.startsWith("CareTeam/") || ref.contains("/CareTeam/");
          if (team && !rule.anyOf().contains(AccessTags.TEAM + ref)) {
            throw new ForbiddenException(AccessPolicy.SEARCH_NOT_MATCHING
                + ": Search parameters not matching security token context: " + key + "=" + v);
          }
        }
      }
    }
  }

  private static String local(String ref, List<String> ownBases) {
    for (String base : ownBases) {
      if (ref.startsWith(base + "/")) {
        return ref.substring(base.length() + 1);
      }
    }
    return ref;
  }
}
