package io.appointmentserver.plugin;

import org.hl7.fhir.instance.model.api.IBaseResource;

/** Checks a change against the version it replaces, inside the write's transaction. */
@FunctionalInterface
public interface ChangeRule {
  /** Throws {@link RuleViolation} to refuse the change. */
  void check(IBaseResource before, IBaseResource after);

  /**
   * Whether the replaced version (its stored JSON) can make {@link #check} refuse anything; false
   * spares the write parsing it. Must never answer false when {@code check} could refuse.
   */
  default boolean concerns(String beforeJson) {
    return true;
  }
}
