package io.appointmentserver.security;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.util.FhirTerser;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
  /** An episode of care the resource belongs to (eHealth Communication's {@code context}). */
  public static final String EPISODE = "episode:";

  /** Adds the tags one resource type needs beyond the patient compartment. */
  @FunctionalInterface
  public interface Contributor {
    void addTags(IBaseResource resource, Set<String> tags);
  }

  private final FhirContext ctx;
  private final Map<String, Contributor> contributors;
  /**
   * By type, the distinct paths of the search parameters that put a resource in a Patient
   * compartment ({@code .where(resolve() is X)} cut off: the references kept must name a Patient
   * anyway): what HAPI's {@code FhirTerser.getCompartmentReferencesForResource} walks, each path
   * once (an Appointment's {@code actor} and {@code patient} share theirs).
   */
  private final Map<String, List<String>> compartmentPaths = new ConcurrentHashMap<>();

  private static final Pattern WHERE_RESOLVE = Pattern.compile("([a-zA-Z.]+)\\.where\\(resolve\\(\\) is ([a-zA-Z]+)\\)");

  public AccessTags(FhirContext ctx, Map<String, Contributor> contributors) {
    this.ctx = ctx;
    this.contributors = Map.copyOf(contributors);
  }

  public String[] of(String type, IBaseResource resource) {
    Set<String> tags = new TreeSet<>();
    if (type.equals("Patient") && resource.getIdElement().hasIdPart()) {
      tags.add(PATIENT + "Patient/" + resource.getIdElement().getIdPart());
    }
    List<String> paths = compartmentPaths.computeIfAbsent(type, this::compartmentPaths);
    if (!paths.isEmpty()) {
      FhirTerser terser = ctx.newTerser();
      for (String path : paths) {
        for (IBaseReference r : terser.getValues(resource, path, IBaseReference.class)) {
          String ref = r.getReferenceElement().getValue();
          if (ref != null && !ref.startsWith("#") && ref.contains("Patient/")) {
            tags.add(PATIENT + withoutVersion(ref));
          }
        }
      }
    }
    Contributor c = contributors.get(type);
    if (c != null) {
      c.addTags(resource, tags);
    }
    return tags.toArray(String[]::new);
  }

  private List<String> compartmentPaths(String type) {
    Set<String> paths = new LinkedHashSet<>();
    for (RuntimeSearchParam sp : ctx.getResourceDefinition(type).getSearchParamsForCompartmentName("Patient")) {
      for (String path : sp.getPathsSplit()) {
        if (path.isBlank()) {
          continue;
        }
        Matcher m = WHERE_RESOLVE.matcher(path.trim());
        paths.add(m.matches() ? m.group(1) : path.trim());
      }
    }
    return List.copyOf(paths);
  }

  public static String withoutVersion(String ref) {
    int h = ref.indexOf("/_history/");
    return h < 0 ? ref : ref.substring(0, h);
  }
}
