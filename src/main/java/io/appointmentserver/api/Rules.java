package io.appointmentserver.api;

import io.appointmentserver.security.Principal;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Business rules per resource type, plugged in from outside the generic server (the eHealth
 * Appointment rules live in {@code ehealth}). A rule refuses a write by throwing, typically a 422
 * that names it.
 */
public final class Rules {
  /**
   * Completes a resource created with a server-assigned id (POST) with what the server adds, and
   * refuses what a client may not choose; {@code p} is the creating user.
   */
  @FunctionalInterface
  public interface CreateRule {
    void onCreate(IBaseResource resource, Principal p);
  }

  /** Checks the content being written, before anything is stored. */
  @FunctionalInterface
  public interface ContentRule {
    void check(IBaseResource resource);
  }

  /** Checks a change against the version it replaces, inside the write's transaction. */
  @FunctionalInterface
  public interface ChangeRule {
    void check(IBaseResource before, IBaseResource after);

    /**
     * Whether the replaced version (its stored JSON) can make {@link #check} refuse anything; false
     * spares the write parsing it. Must never answer false when {@code check} could refuse.
     */
    default boolean concerns(String beforeJson) {
      return true;
    }
  }

  public static final Rules NONE = new Rules(Map.of(), Map.of(), Map.of());

  private final Map<String, CreateRule> create;
  private final Map<String, ContentRule> content;
  private final Map<String, ChangeRule> change;

  public Rules(Map<String, CreateRule> create, Map<String, ContentRule> content, Map<String, ChangeRule> change) {
    this.create = Map.copyOf(create);
    this.content = Map.copyOf(content);
    this.change = Map.copyOf(change);
  }

  void onCreate(String type, IBaseResource resource, Principal p) {
    CreateRule rule = create.get(type);
    if (rule != null) {
      rule.onCreate(resource, p);
    }
  }

  void checkContent(String type, IBaseResource resource) {
    ContentRule rule = content.get(type);
    if (rule != null) {
      rule.check(resource);
    }
  }

  ChangeRule changeRule(String type) {
    return change.get(type);
  }
}
