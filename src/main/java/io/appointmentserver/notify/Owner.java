package io.appointmentserver.notify;

import io.appointmentserver.security.Principal;
import java.util.LinkedHashSet;
import java.util.Set;
import org.hl7.fhir.dstu3.model.Extension;
import org.hl7.fhir.dstu3.model.StringType;
import org.hl7.fhir.dstu3.model.Subscription;

/**
 * Who a Subscription acts for: the user who last created or changed it, their privileges and context,
 * kept in the Subscription as an extension the server writes (a client's own value is replaced).
 * A notification goes out only if this user could read the resource, so a Subscription never shows
 * more than its owner may see.
 */
final class Owner {
  static final String URL = "http://appointmentserver.io/fhir/StructureDefinition/subscription-owner";

  private Owner() {}

  /** Replaces any owner of {@code s} by {@code p}. */
  static void set(Subscription s, Principal p) {
    s.getExtension().removeIf(e -> URL.equals(e.getUrl()));
    Extension owner = s.addExtension().setUrl(URL);
    add(owner, "subject", p.subject());
    add(owner, "userId", p.userId());
    add(owner, "userType", p.userType().name());
    add(owner, "name", p.name());
    p.roles().stream().sorted().forEach(r -> add(owner, "role", r));
    Principal.Context c = p.context();
    add(owner, "organization", c.organization());
    add(owner, "careTeam", c.careTeam());
    add(owner, "patient", c.patient());
    add(owner, "episodeOfCare", c.episodeOfCare());
  }

  private static void add(Extension owner, String name, String value) {
    if (value != null) {
      owner.addExtension(name, new StringType(value));
    }
  }

  /** The owner kept in {@code s}, or null when it has none (then it notifies no one). */
  static Principal of(Subscription s) {
    Extension owner = s.getExtensionByUrl(URL);
    if (owner == null) {
      return null;
    }
    Set<String> roles = new LinkedHashSet<>();
    owner.getExtensionsByUrl("role").forEach(e -> roles.add(e.getValue().primitiveValue()));
    return new Principal(new Principal.Identity(value(owner, "subject"), value(owner, "userId"),
        Principal.UserType.of(value(owner, "userType")), value(owner, "name")), Set.copyOf(roles),
        new Principal.Context(value(owner, "organization"), value(owner, "careTeam"), value(owner, "patient"),
            value(owner, "episodeOfCare")), Long.MAX_VALUE);
  }

  private static String value(Extension owner, String name) {
    Extension e = owner.getExtensionByUrl(name);
    return e == null || e.getValue() == null ? null : e.getValue().primitiveValue();
  }
}
