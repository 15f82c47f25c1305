package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import io.appointmentserver.search.MetaInUse;
import io.appointmentserver.search.Searcher;
import io.appointmentserver.search.Sql;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.StoredResource;
import io.appointmentserver.store.Write;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.hl7.fhir.dstu3.model.Coding;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Parameters;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.dstu3.model.UriType;

/**
 * <a href="https://hl7.org/fhir/STU3/resource-operations.html#meta">$meta</a>,
 * <a href="https://hl7.org/fhir/STU3/resource-operations.html#meta-add">$meta-add</a> and
 * <a href="https://hl7.org/fhir/STU3/resource-operations.html#meta-delete">$meta-delete</a> of one
 * resource: its tags, security labels and profiles, read, added or removed; {@code $meta} of a
 * type or of the whole server: those in use. As the specification
 * says, a change of these makes no new version: the current version is changed in place (and
 * indexed again, so that {@code _tag}, {@code _security} and {@code _profile} find it). The
 * resource must be within the user's context; each call is audited as the operation.
 */
public final class Meta {
  private final ResourceStore store;
  private final ResourceCodec codec;
  private final Access access;
  private final Read read;
  private final Searcher searcher;

  Meta(ResourceStore store, ResourceCodec codec, Access access, Read read, Searcher searcher) {
    this.read = read;
    this.searcher = searcher;
    this.store = store;
    this.codec = codec;
    this.access = access;
  }

  /** {@code $meta}: the resource's meta as the parameter {@code return}. */
  public Parameters read(String type, String id, RequestDetails request) {
    StoredResource s = read.current(type, id, request);
    access.auditedOperation(request, "$meta", type, Ids.versioned(type, s.id(), s.version()), s.tags());
    return result(((Resource) codec.decode(s)).getMeta());
  }

  /**
   * {@code [type]/$meta} ({@code type} given) or {@code [base]/$meta} (null): the tags, security
   * labels and profiles in use on the current resources of the type, or of every type the user may
   * read or search, as far as the user's context lets them see. The privilege is the operation's
   * ({@code Type$meta}, {@code Type.*}; {@code $meta} at system level, checked before this).
   */
  public Parameters inUse(String type, Set<String> allTypes, RequestDetails request) {
    Map<String, Sql> types = new TreeMap<>();
    if (type != null) {
      Sql context = access.filter(request, type);
      types.put(type, context == null ? Sql.TRUE : context);
    } else {
      Searcher.Scope scope = access.scope(request, allTypes);
      for (String t : allTypes) {
        Sql context = scope.of(t, false);
        if (context != null) {
          types.put(t, context);
        }
      }
    }
    org.hl7.fhir.dstu3.model.Meta meta = new org.hl7.fhir.dstu3.model.Meta();
    for (MetaInUse.Entry e : searcher.metaInUse(types)) {
      switch (e.param()) {
        case "_tag" -> meta.addTag().setSystem(e.system()).setCode(e.code());
        case "_security" -> meta.addSecurity().setSystem(e.system()).setCode(e.code());
        default -> meta.addProfile(e.code());
      }
    }
    access.auditedOperation(request, "$meta", type, null, new String[0]);
    return result(meta);
  }

  /** {@code $meta-add} ({@code add}) or {@code $meta-delete}: {@code meta}'s tags, security labels and profiles. */
  public Parameters change(String type, String id, org.hl7.fhir.dstu3.model.Meta meta, boolean add,
      RequestDetails request) {
    if (meta == null) {
      String msg = "The parameter meta (a Meta with the tags, security labels and profiles) is required";
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.REQUIRED, msg));
    }
    StoredResource s = read.current(type, id, request);
    org.hl7.fhir.dstu3.model.Meta[] changed = new org.hl7.fhir.dstu3.model.Meta[1];
    StoredResource after = store.writes().rewrite(new Write.Target(type, s.id(), null), access.guard(request, type),
        json -> {
          Resource r = (Resource) codec.context().newJsonParser().parseResource(json);
          apply(r.getMeta(), meta, add);
          changed[0] = r.getMeta();
          return codec.context().newJsonParser().encodeResourceToString(r);
        });
    if (after == null) {
      throw new ResourceGoneException("Resource " + type + "/" + s.id() + " was deleted");
    }
    access.auditedOperation(request, add ? "$meta-add" : "$meta-delete", type,
        Ids.versioned(type, after.id(), after.version()), after.tags());
    return result(changed[0]);
  }

  /** Adds what is not there yet, or removes what matches (codings by system and code, profiles by URL). */
  private static void apply(org.hl7.fhir.dstu3.model.Meta target, org.hl7.fhir.dstu3.model.Meta given, boolean add) {
    change(target.getTag(), given.getTag(), add);
    change(target.getSecurity(), given.getSecurity(), add);
    for (UriType profile : given.getProfile()) {
      boolean present = target.getProfile().stream().anyMatch(p -> p.getValue().equals(profile.getValue()));
      if (add && !present) {
        target.addProfile(profile.getValue());
      } else if (!add) {
        target.getProfile().removeIf(p -> p.getValue().equals(profile.getValue()));
      }
    }
  }

  private static void change(List<Coding> target, List<Coding> given, boolean add) {
    for (Coding c : given) {
      boolean present = target.stream().anyMatch(t -> same(t, c));
      if (add && !present) {
        target.add(c.copy());
      } else if (!add) {
        target.removeIf(t -> same(t, c));
      }
    }
  }

  private static boolean same(Coding a, Coding b) {
    return java.util.Objects.equals(a.getSystem(), b.getSystem()) && java.util.Objects.equals(a.getCode(), b.getCode());
  }

  /** The output: the parameter {@code return} with tags, security labels and profiles (no version, no time). */
  private static Parameters result(org.hl7.fhir.dstu3.model.Meta meta) {
    org.hl7.fhir.dstu3.model.Meta out = new org.hl7.fhir.dstu3.model.Meta();
    meta.getTag().forEach(c -> out.addTag(c.copy()));
    meta.getSecurity().forEach(c -> out.addSecurity(c.copy()));
    meta.getProfile().forEach(p -> out.addProfile(p.getValue()));
    Parameters p = new Parameters();
    p.addParameter().setName("return").setValue(out);
    return p;
  }
}
