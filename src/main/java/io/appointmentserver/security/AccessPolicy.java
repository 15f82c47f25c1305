package io.appointmentserver.security;

import io.appointmentserver.security.Principal.UserType;
import java.util.Map;

/**
 * The attribute check: which resources a user's context lets them see and change. One
 * {@link TypePolicy} per resource type where eHealth has rules (Appointment); every other type
 * gets the generic rule: with a patient in context, a resource in the Patient compartment must be
 * that patient's. SYSTEM users are limited by their privileges only.
 */
public final class AccessPolicy {
  public static final String CONTEXT_MISSING = "SECURITY_TOKEN_CONTEXT_MISSING";
  public static final String NOT_MATCHING = "SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT";
  /** eHealth's code for a search whose parameters ask for what the context excludes (ehealth-security errors). */
  public static final String SEARCH_NOT_MATCHING = "SECURITY_SEARCH_PARAM_NOT_MATCHING_TOKEN_CONTEXT";

  /** The context rule of one resource type for one user; null means unrestricted. */
  @FunctionalInterface
  public interface TypePolicy {
    ContextRule rule(Principal p);
  }

  private final Map<String, TypePolicy> policies;

  public AccessPolicy(Map<String, TypePolicy> policies) {
    this.policies = Map.copyOf(policies);
  }

  /** The rule for {@code type}, or null when the user is not limited; 403 when context is missing. */
  public ContextRule rule(Principal p, String type) {
    if (p.userType() == UserType.SYSTEM) {
      return null;
    }
    TypePolicy specific = policies.get(type);
    return specific != null ? specific.rule(p) : generic(p);
  }

  private static ContextRule generic(Principal p) {
    requireContext(p);
    String patient = p.patientScope();
    return patient == null ? null : new ContextRule(null, patient);
  }

  /** PRACTITIONER, SSL and other non-citizen users act within a context. */
  public static void requireContext(Principal p) {
    boolean citizen = p.userType() == UserType.PATIENT || p.userType() == UserType.RELATED_PERSON;
    if (citizen ? p.patientScope() == null : p.context().isEmpty()) {
      throw new ForbiddenException(CONTEXT_MISSING + ": the token has no context");
    }
  }

  /** 403 unless the resource with {@code tags} is within the user's context. */
  public void check(Principal p, String type, String[] tags) {
    check(rule(p, type), type, tags);
  }

  /** 403 unless the resource with {@code tags} meets {@code rule} (from {@link #rule}; null: unrestricted). */
  public static void check(ContextRule rule, String type, String[] tags) {
    if (rule != null && !rule.allows(tags)) {
      throw new ForbiddenException(NOT_MATCHING + ": the " + type + " is outside the token's context (expected "
          + rule.describe() + ")");
    }
  }
}
