package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.plugin.OperationContext;
import io.appointmentserver.search.ContextSql;
import io.appointmentserver.search.Searcher;
import io.appointmentserver.search.Sql;
import io.appointmentserver.store.StoredResource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;

/**
 * What the plug-ins' operations use of the server: reads, the server's own lookups, and creates and
 * updates through the same pipeline as the REST interactions ({@link Create}, {@link Writes}).
 */
final class OperationServer implements OperationContext {
  private final Interactions server;
  private final Searcher searcher;
  private final List<String> ownBases;

  OperationServer(Interactions server, Searcher searcher, String defaultBase) {
    this.server = server;
    this.searcher = searcher;
    this.ownBases = List.of(defaultBase);
  }

  @Override
  public Target read(RequestDetails request, String type, String id, String operation) {
    StoredResource s = server.read().current(type, id, request);
    server.access().auditedOperation(request, operation, type, Ids.versioned(type, s.id(), s.version()), s.tags());
    return new Target(server.codec().decode(s), s.version(), Access.principal(request));
  }

  @Override
  public List<Stored> find(String type, Map<String, String[]> criteria, int limit) {
    Set<String> types = server.codec().context().getResourceTypes();
    // the server's own lookup: every type visible, as to a user without context
    Searcher.Scope everything = new Searcher.Scope() {
      @Override
      public Sql of(String t, boolean required) {
        return ContextSql.of(null);
      }

      @Override
      public Set<String> types() {
        return types;
      }
    };
    Searcher.Page page = searcher.search(new Searcher.Request(type, criteria, new Searcher.Reading(false, ownBases),
        new Searcher.Paging(limit, false, false), new Searcher.Viewer(null, everything)));
    return page.resources().stream()
        .map(s -> new Stored(server.codec().decode(s), s.id(), s.version(), false, s.tags())).toList();
  }

  @Override
  public void audited(RequestDetails request, String operation, Stored found) {
    String type = server.codec().context().getResourceType(found.resource());
    server.access().auditedOperation(request, operation, type, Ids.versioned(type, found.id(), found.version()),
        found.tags());
  }

  @Override
  public Stored createUnlessExists(RequestDetails request, IBaseResource resource, Map<String, String[]> criteria) {
    String type = server.codec().context().getResourceType(resource);
    return stored(server.create().createUnlessExists(type, resource, criteria, request));
  }

  @Override
  public Stored update(RequestDetails request, IBaseResource resource, long expectedVersion) {
    IIdType id = resource.getIdElement();
    return stored(server.update().update(new WriteCommand(id.getResourceType(), id.getIdPart(), resource,
        expectedVersion, WriteCommand.Origin.of(request))));
  }

  private static Stored stored(MethodOutcome outcome) {
    IIdType id = outcome.getId();
    return new Stored(outcome.getResource(), id.getIdPart(), id.getVersionIdPartAsLong(),
        Boolean.TRUE.equals(outcome.getCreated()), null);
  }
}
