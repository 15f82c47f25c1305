package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import io.appointmentserver.plugin.OperationContext;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoredResource;
import org.hl7.fhir.dstu3.model.IdType;

/** What the plug-ins' operations use of the server: the resource an instance operation works on. */
final class OperationReads implements OperationContext {
  private final ResourceStore store;
  private final ResourceCodec codec;
  private final Access access;

  OperationReads(ResourceStore store, ResourceCodec codec, Access access) {
    this.store = store;
    this.codec = codec;
    this.access = access;
  }

  @Override
  public Target read(RequestDetails request, String type, String id, String operation) {
    String idPart = Ids.check(id);
    StoredResource s = store.reads().read(type, idPart);
    if (s == null) {
      throw new ResourceNotFoundException(new IdType(type, idPart));
    }
    access.check(request, type, s.tags());
    if (s.deleted()) {
      throw new ResourceGoneException("Resource " + type + "/" + idPart + " was deleted");
    }
    access.auditedOperation(request, operation, type, Ids.versioned(type, idPart, s.version()), s.tags());
    return new Target(codec.decode(s), s.version(), Access.principal(request));
  }
}
