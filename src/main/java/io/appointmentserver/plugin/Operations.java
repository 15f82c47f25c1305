package io.appointmentserver.plugin;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * A type's operations: HAPI operation providers (objects with {@code @Operation} methods, bound as
 * they are), and by {@code Type/$name} those a Bundle entry may call on an instance.
 */
public record Operations(List<Object> providers, Map<String, InstanceOperation> instanceOperations) {
  public static final Operations NONE = new Operations(List.of(), Map.of());

  /** An operation on one resource: (its id, the request) to the resource it answers with. */
  @FunctionalInterface
  public interface InstanceOperation extends BiFunction<IdType, RequestDetails, IBaseResource> {}
}
