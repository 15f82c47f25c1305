package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import io.appointmentserver.security.AccessPolicy;
import io.appointmentserver.security.AuditLog;
import io.appointmentserver.security.Caller;
import io.appointmentserver.security.ContextRule;
import io.appointmentserver.security.Principal;
import io.appointmentserver.security.Privileges;
import io.appointmentserver.security.Privileges.Op;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoredJson;
import io.appointmentserver.store.StoredResource;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * <a href="https://hl7.org/fhir/STU3/http.html#read">read</a> and
 * <a href="https://hl7.org/fhir/STU3/http.html#vread">vread</a>: one path for both ways a read is
 * answered, the stored bytes as they are ({@code http.FastRead}, plain JSON) and the model HAPI
 * renders (XML, {@code _summary}, HTML, 404 and 410): the privilege, the user's context, the
 * resource's context, the audit event.
 */
public final class Read {
  private final ResourceStore store;
  private final ResourceCodec codec;
  private final Access access;

  Read(ResourceStore store, ResourceCodec codec, Access access) {
    this.store = store;
    this.codec = codec;
    this.access = access;
  }

  /**
   * The version of {@code type/id} the user may read ({@code version} null: the current one),
   * audited; a tombstone when deleted (its context checked, not audited: there is nothing to see);
   * null when there is no such resource or version. 403 when the user may not read it.
   */
  public StoredJson stored(Caller caller, String type, String id, Long version) {
    Principal user = caller.user();
    Privileges.require(user, type, Op.READ);
    // the context first: a user without one is told so, whether or not the resource exists
    ContextRule rule = access.policy().rule(user, type);
    StoredJson s = version == null ? store.reads().readJson(type, id) : store.reads().vreadJson(type, id, version);
    if (s == null) {
      return null;
    }
    AccessPolicy.check(rule, type, s.tags());
    if (!s.deleted()) {
      AuditLog audit = access.audit();
      audit.record(audit.events(caller, new AuditLog.Action("R", version == null ? "read" : "vread", type,
          Ids.versioned(type, s.id(), s.version())), s.tags()));
    }
    return s;
  }

  /** The read as a model, for HAPI to render: 404 when there is no such version, 410 when deleted. */
  public IBaseResource read(String type, IdType id, RequestDetails request) {
    String idPart = Ids.check(id.getIdPart());
    Long version = id.hasVersionIdPart() ? Ids.parseVersion(id.getVersionIdPart()) : null;
    StoredJson s = id.hasVersionIdPart() && version == null ? null
        : stored(Access.caller(request), type, idPart, version);
    if (s == null) {
      throw new ResourceNotFoundException(id);
    }
    if (s.deleted()) {
      throw new ResourceGoneException("Resource " + type + "/" + idPart + " was deleted (version "
          + s.version() + ")");
    }
    return codec.decode(s);
  }

  /**
   * The current version of {@code type/id} that an operation works on: 404 when there is none,
   * 403 outside the user's context, 410 when deleted. Not audited: the operation audits itself.
   */
  StoredResource current(String type, String id, RequestDetails request) {
    String idPart = Ids.check(id);
    StoredResource s = store.reads().read(type, idPart);
    if (s == null) {
      throw new ResourceNotFoundException(new IdType(type, idPart));
    }
    access.check(request, type, s.tags());
    if (s.deleted()) {
      throw new ResourceGoneException("Resource " + type + "/" + idPart + " was deleted (version " + s.version() + ")");
    }
    return s;
  }
}
