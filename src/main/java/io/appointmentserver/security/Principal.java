package io.appointmentserver.security;

import java.util.Set;

/**
 * Who is asking, from the claims of a verified token: {@code sub}, {@code user_id},
 * {@code user_type}, {@code realm_access.roles} (the privileges) and {@code context}. Context
 * values are references as the server stores them: relative ({@code Patient/240}) for resources
 * under this server's base, absolute otherwise.
 */
public record Principal(Identity identity, Set<String> roles, Context context, long expiresAtEpochSecond) {

  /**
   * Who the user is: the token's {@code sub}, {@code user_id} (a reference to the user's
   * resource), {@code user_type} and {@code name}.
   */
  public record Identity(String subject, String userId, UserType userType, String name) {}

  // the identity's parts, as the principal's own: that is how the access checks and the audit ask for them
  public String subject() {
    return identity.subject();
  }

  public String userId() {
    return identity.userId();
  }

  public UserType userType() {
    return identity.userType();
  }

  public String name() {
    return identity.name();
  }

  public enum UserType {
    PRACTITIONER, PATIENT, RELATED_PERSON, SYSTEM, SSL, OTHER;

    public static UserType of(String claim) {
      if (claim == null) {
        return OTHER;
      }
      try {
        return valueOf(claim.trim().toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        return OTHER;
      }
    }
  }

  /** The {@code context} claim; any part may be null. */
  public record Context(String organization, String careTeam, String patient, String episodeOfCare) {
    public static final Context NONE = new Context(null, null, null, null);

    public boolean isEmpty() {
      return organization == null && careTeam == null && patient == null && episodeOfCare == null;
    }
  }

  /**
   * The same principal with references under one of {@code ownBases} made relative, the way
   * the server stores references: {@code http://host/fhir/Patient/240} becomes {@code Patient/240}.
   */
  public Principal localized(java.util.List<String> ownBases) {
    return new Principal(new Identity(identity.subject(), local(identity.userId(), ownBases), identity.userType(),
        identity.name()), roles,
        new Context(local(context.organization(), ownBases), local(context.careTeam(), ownBases),
            local(context.patient(), ownBases), local(context.episodeOfCare(), ownBases)),
        expiresAtEpochSecond);
  }

  private static String local(String ref, java.util.List<String> bases) {
    if (ref == null) {
      return null;
    }
    for (String base : bases) {
      if (base != null && ref.length() > base.length() + 1 && ref.startsWith(base) && ref.charAt(base.length()) == '/') {
        return ref.substring(base.length() + 1);
      }
    }
    return ref;
  }

  /** The patient whose data this user is limited to: the context's, or a PATIENT user's own. */
  public String patientScope() {
    if (context.patient() != null) {
      return context.patient();
    }
    return identity.userType() == UserType.PATIENT ? identity.userId() : null;
  }
}
