package io.appointmentserver.plugin;

import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.security.Principal;
import io.appointmentserver.store.Bookings;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * What one resource type adds to the generic server: the access tags and context rule that
 * decide who sees it, the rules its writes obey, what it books, its operations and what happens
 * once a write of it committed. Every method has a default that adds nothing, so a plug-in
 * overrides what its type needs. The server's wiring registers the plug-ins in one place
 * ({@link Plugins}); the core never names a type's plug-in. The eHealth Appointment
 * ({@code ehealth.AppointmentPlugin}) is one.
 *
 * <p>A rule refuses a write by throwing {@link RuleViolation}; the REST layer maps it to an
 * OperationOutcome with its status like every other error.
 */
public interface TypePlugin {
  /** The resource type, e.g. {@code Appointment}. */
  String type();

  /** Adds the access tags the type needs beyond the patient compartment (e.g. {@code team:CareTeam/1}). */
  default void addAccessTags(IBaseResource resource, Set<String> tags) {}

  /**
   * Who of the non-SYSTEM users may see and change resources of the type; null: the generic rule
   * (with a patient in context, only that patient's compartment).
   */
  default AccessPolicy.TypePolicy accessPolicy() {
    return null;
  }

  /**
   * Search parameters whose references must lie within a care-team context: a search naming another
   * team is refused (403) rather than answered with an empty page.
   */
  default Set<String> teamSearchParameters() {
    return Set.of();
  }

  /**
   * On a create with a server-assigned id (POST), before the content is checked: completes the
   * resource with what the server adds and refuses what a client may not choose.
   */
  default void onCreate(IBaseResource resource, Principal creator) {}

  /** Checks the content of every create and update, before anything is stored. */
  default void checkContent(IBaseResource resource) {}

  /**
   * Checks the content of every create and update as {@link #checkContent(IBaseResource)}, knowing
   * who writes it ({@code writer}, null when unknown): for a type that keeps its writer with it
   * (a Subscription acts with its owner's privileges and context).
   */
  default void checkContent(IBaseResource resource, Principal writer) {
    checkContent(resource);
  }

  /** Checks a change against the version it replaces, inside the write's transaction; null: none. */
  default ChangeRule changeRule() {
    return null;
  }

  /** Whether the type books participants for times (double booking); then {@link #bookings} is asked. */
  default boolean books() {
    return false;
  }

  /** What a version books: its participants and time ({@link Bookings#NONE} for nothing). */
  default Bookings bookings(IBaseResource resource) {
    return Bookings.NONE;
  }

  /**
   * Profiles that declare no update: a PUT of a resource claiming one, or replacing a version that
   * claims one, is refused (405) as an interaction the type does not have; a patch stays allowed.
   */
  default Set<String> profilesWithoutUpdate() {
    return Set.of();
  }

  /** Identifier systems whose values the server assigns (not the client): left out of validation caching keys. */
  default Set<String> assignedIdentifierSystems() {
    return Set.of();
  }

  /** The type's operations, given what they may use of the server. */
  default Operations operations(OperationContext context) {
    return Operations.NONE;
  }

  /** After a create, update or delete of the type committed (not inside its transaction). */
  default void afterCommit() {}

  /** A plug-in that only acts after a type's writes commit (e.g. SearchParameter: the search reloads). */
  static TypePlugin afterCommit(String type, Runnable action) {
    return new TypePlugin() {
      @Override
      public String type() {
        return type;
      }

      @Override
      public void afterCommit() {
        action.run();
      }

      @Override
      public boolean watchesCommits() {
        return true;
      }
    };
  }

  /** Whether {@link #afterCommit} does anything: spares a large transaction holding every write's callback. */
  default boolean watchesCommits() {
    return false;
  }
}
