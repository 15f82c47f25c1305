package io.appointmentserver.plugin;

import ca.uhn.fhir.context.FhirContext;
import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.security.AccessTags;
import io.appointmentserver.security.Principal;
import io.appointmentserver.store.Bookings;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;

/** The registered plug-ins, by resource type: what the generic interactions ask of a type. */
public final class Plugins {
  private final Map<String, TypePlugin> byType = new HashMap<>();

  /** At most one plug-in per type. */
  public Plugins(List<TypePlugin> plugins) {
    for (TypePlugin p : plugins) {
      if (byType.putIfAbsent(p.type(), p) != null) {
        throw new IllegalArgumentException("Two plug-ins for " + p.type());
      }
    }
  }

  private static final TypePlugin GENERIC = () -> "";

  /** The plug-in of {@code type}, or one that adds nothing. */
  public TypePlugin of(String type) {
    return byType.getOrDefault(type, GENERIC);
  }

  /** The access tags, each type's contributor added to the patient compartment's. */
  public AccessTags accessTags(FhirContext ctx) {
    Map<String, AccessTags.Contributor> contributors = new HashMap<>();
    byType.forEach((type, p) -> contributors.put(type, p::addAccessTags));
    return new AccessTags(ctx, contributors);
  }

  /** The access policy, with the types' own context rules. */
  public AccessPolicy accessPolicy() {
    Map<String, AccessPolicy.TypePolicy> policies = new HashMap<>();
    byType.forEach((type, p) -> {
      if (p.accessPolicy() != null) {
        policies.put(type, p.accessPolicy());
      }
    });
    return new AccessPolicy(policies);
  }

  /** Creates with a server-assigned id, then the content rules. */
  public void onCreate(String type, IBaseResource resource, Principal creator) {
    of(type).onCreate(resource, creator);
  }

  /** What a version of {@code type} books, or null when the type never books. */
  public Bookings bookings(String type, IBaseResource resource) {
    TypePlugin p = of(type);
    return p.books() ? (resource == null ? Bookings.NONE : p.bookings(resource)) : null;
  }

  /** Every type's server-assigned identifier systems. */
  public Set<String> assignedIdentifierSystems() {
    Set<String> out = new HashSet<>();
    byType.values().forEach(p -> out.addAll(p.assignedIdentifierSystems()));
    return out;
  }

  /** Every type's operations. */
  public Operations operations(OperationContext context) {
    List<Object> providers = new ArrayList<>();
    Map<String, Operations.InstanceOperation> instance = new HashMap<>();
    for (TypePlugin p : byType.values()) {
      Operations o = p.operations(context);
      providers.addAll(o.providers());
      instance.putAll(o.instanceOperations());
    }
    return new Operations(List.copyOf(providers), Map.copyOf(instance));
  }
}
