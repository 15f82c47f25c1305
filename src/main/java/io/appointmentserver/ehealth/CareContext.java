package io.appointmentserver.ehealth;

import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.security.AccessTags;
import io.appointmentserver.security.ContextRule;
import io.appointmentserver.security.Principal;
import io.appointmentserver.security.Principal.UserType;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.dstu3.model.Extension;
import org.hl7.fhir.dstu3.model.Reference;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * What the eHealth types share about who may see them: the access tags made of the care teams and
 * episodes of care they name, and the context rules that compare a user's context with them.
 */
final class CareContext {
  private CareContext() {}

  /** The reference an extension's {@code valueReference} holds, or null. */
  static String reference(Extension e) {
    return e != null && e.getValue() instanceof Reference r ? r.getReference() : null;
  }

  /** Adds {@code team:<ref>} for the care team a care-team extension's {@code valueReference} names. */
  static void addTeam(Extension e, Set<String> tags) {
    String ref = reference(e);
    if (ref != null) {
      tags.add(AccessTags.TEAM + AccessTags.withoutVersion(ref));
    }
  }

  /** Adds {@code team:<ref>} when {@code ref} (a participant, sender or recipient) names a CareTeam. */
  static void addTeam(String ref, Set<String> tags) {
    if (ref != null && ref.contains("CareTeam/")) {
      tags.add(AccessTags.TEAM + AccessTags.withoutVersion(ref));
    }
  }

  /** Adds {@code episode:<ref>} when {@code ref} names an EpisodeOfCare. */
  static void addEpisode(String ref, Set<String> tags) {
    if (ref != null && (ref.startsWith("EpisodeOfCare/") || ref.contains("/EpisodeOfCare/"))) {
      tags.add(AccessTags.EPISODE + AccessTags.withoutVersion(ref));
    }
  }

  /** Whether the resource claims one of {@code profiles} in {@code meta.profile}. */
  static boolean claims(IBaseResource resource, Set<String> profiles) {
    return ((Resource) resource).getMeta().getProfile().stream()
        .anyMatch(p -> p.getValue() != null && profiles.contains(p.getValue()));
  }

  /**
   * Citizens (PATIENT, RELATED_PERSON) see what names their patient, and no other patient.
   * Practitioners and other users see what names the care team of their context or, when
   * {@code episodes}, the episode of care of their context (either suffices); with a patient in
   * context, of that patient only. A context with neither team nor episode leaves the patient
   * (if any) to decide.
   */
  static ContextRule rule(Principal p, boolean episodes) {
    AccessPolicy.requireContext(p);
    String patient = p.patientScope();
    if (citizen(p)) {
      return new ContextRule(Set.of(AccessTags.PATIENT + patient), patient);
    }
    Set<String> anyOf = new TreeSet<>();
    if (p.context().careTeam() != null) {
      anyOf.add(AccessTags.TEAM + p.context().careTeam());
    }
    if (episodes && p.context().episodeOfCare() != null) {
      anyOf.add(AccessTags.EPISODE + p.context().episodeOfCare());
    }
    return new ContextRule(anyOf.isEmpty() ? null : Set.copyOf(anyOf), patient);
  }

  /**
   * For types that name a patient but no care team or episode (RelatedPerson): the patient of the
   * context decides, for citizens and practitioners alike; a practitioner without a patient in
   * context is limited by the privileges only.
   */
  static ContextRule patientRule(Principal p) {
    AccessPolicy.requireContext(p);
    String patient = p.patientScope();
    return patient == null ? null : new ContextRule(Set.of(AccessTags.PATIENT + patient), patient);
  }

  private static boolean citizen(Principal p) {
    return p.userType() == UserType.PATIENT || p.userType() == UserType.RELATED_PERSON;
  }
}
