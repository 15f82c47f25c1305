package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.plugin.OperationContext;
import io.appointmentserver.store.StoredResource;

/** What the plug-ins' operations use of the server: the resource an instance operation works on. */
final class OperationReads implements OperationContext {
  private final Read read;
  private final ResourceCodec codec;
  private final Access access;

  OperationReads(Read read, ResourceCodec codec, Access access) {
    this.read = read;
    this.codec = codec;
    this.access = access;
  }

  @Override
  public Target read(RequestDetails request, String type, String id, String operation) {
    StoredResource s = read.current(type, id, request);
    access.auditedOperation(request, operation, type, Ids.versioned(type, s.id(), s.version()), s.tags());
    return new Target(codec.decode(s), s.version(), Access.principal(request));
  }
}
