package io.appointmentserver.api;

import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Business rules per resource type, plugged in from outside the generic server (the eHealth
 * Appointment rules live in {@code ehealth}). A rule refuses a write by throwing, typically a 422
 * that names it.
 */
public final class Rules {
  /** Checks the content being written, before anything is stored. */
  @FunctionalInterface
  public interface ContentRule {
    void check(IBaseResource resource);
  }

  /** Checks a change against the version it replaces, inside the write's transaction. */
  @FunctionalInterface
  public interface ChangeRule {
    void check(IBaseResource before, IBaseResource after);
  }

  public static final Rules NONE = new Rules(Map.of(), Map.of());

  private final Map<String, ContentRule> content;
  private final Map<String, ChangeRule> change;

  public Rules(Map<String, ContentRule> content, Map<String, ChangeRule> change) {
    this.content = Map.copyOf(content);
    this.change = Map.copyOf(change);
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
