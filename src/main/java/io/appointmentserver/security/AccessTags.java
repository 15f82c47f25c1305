package io.appointmentserver.security;

import ca.uhn.fhir.context.FhirContext;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.instance.model.api.IBaseReference;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The access tags of a resource, computed once on write and stored beside it: {@code patient:<ref>}
 * for every patient whose compartment (the DSTU3 CompartmentDefinition, as HAPI knows it) the
 * resource is in, plus whatever a type-specific contributor adds (eHealth Appointment: the care
 * teams). References are compared as stored: relative for this server, absolute otherwise.
 */
public final class AccessTags {
  public static final String PATIENT = "patient:";
  public static final String TEAM = "team:";

  /** Adds the tags one resource type needs beyond the patient compartment. */
  @FunctionalInterface
  public interface Contributor {
    void addTags(IBaseResource resource, Set<String> tags);
  }

  private final FhirContext ctx;
  private final Map<String, Contributor> contributors;
  /** The types whose resources can be in a Patient compartment. */
  private final Set<String> inPatientCompartment;

  public AccessTags(FhirContext ctx, Map<String, Contributor> contributors) {
    this.ctx = ctx;
    this.contributors = Map.copyOf(contributors);
    this.inPatientCompartment = ctx.getResourceTypes().stream()
        .filter(t -> ctx.getResourceDefinition(t).getSearchParams().stream()
            .anyMatch(sp -> sp.getProvidesMembershipInCompartments() != null
                && sp.getProvidesMembershipInCompartments().contains("Patient")))
        .collect(java.util.stream.Collectors.toUnmodifiableSet());
  }

  public String[] of(String type, IBaseResource resource) {
    Set<String> tags = new TreeSet<>();
    if (type.equals("Patient") && resource.getIdElement().hasIdPart()) {
      tags.add(PATIENT + "Patient/" + resource.getIdElement().getIdPart());
    }
    if (inPatientCompartment.contains(type)) {
      ctx.newTerser().getCompartmentReferencesForResource("Patient", resource, Set.<String>of())
          .map(IBaseReference::getReferenceElement)
          .map(id -> id.getValue())
          .filter(ref -> ref != null && !ref.startsWith("#") && ref.contains("Patient/"))
          .forEach(ref -> tags.add(PATIENT + withoutVersion(ref)));
    }
    Contributor c = contributors.get(type);
    if (c != null) {
      c.addTags(resource, tags);
    }
    return tags.toArray(String[]::new);
  }

  public static String withoutVersion(String ref) {
    int h = ref.indexOf("/_history/");
    return h < 0 ? ref : ref.substring(0, h);
  }
}
