package io.appointmentserver.interaction;

import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.PatchTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.store.StoredResource;
import io.appointmentserver.store.VersionConflictException;
import java.util.Map;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * <a href="https://hl7.org/fhir/STU3/http.html#patch">patch</a> with a JSON Patch document (RFC
 * 6902), with or without If-Match, by id or (conditional) by search parameters. The patched
 * resource is then written exactly like an update: the same checks, rules and authorization.
 * Without If-Match the patch applies to the current version, and is applied again should another
 * write come in between.
 */
public final class Patch {
  private final Writes writes;
  private final ConditionalWrites conditional;
  private final Read read;

  Patch(Writes writes, ConditionalWrites conditional, Read read) {
    this.writes = writes;
    this.conditional = conditional;
    this.read = read;
  }

  /** {@code id}: the URL's id, or null for a conditional patch by the request's parameters. */
  public MethodOutcome patch(String type, String id, PatchTypeEnum patchType, String body, RequestDetails request) {
    if (id == null) {
      Map<String, String[]> criteria = ConditionalWrites.criteria(request.getParameters());
      return conditional.underLock(request, type, criteria, 2, matches -> switch (matches.size()) {
        case 0 -> throw new ResourceNotFoundException("No " + type + " matches the conditional patch's criteria");
        case 1 -> patch(type, matches.get(0).id(), patchType, body, request);
        default -> throw Writes.multiple("the conditional patch's criteria");
      });
    }
    String idPart = Ids.check(id);
    if (patchType != PatchTypeEnum.JSON_PATCH) {
      throw Outcomes.status(415, IssueType.NOTSUPPORTED, "Only JSON Patch (application/json-patch+json) is supported");
    }
    JsonNode patch = JsonPatches.parse(body);
    Long expected = Ids.ifMatch(request);
    Class<? extends IBaseResource> cls = writes.codec().context().getResourceDefinition(type).getImplementingClass();
    for (int attempt = 0; ; attempt++) {
      StoredResource current = read.current(type, idPart, request);
      if (expected != null && expected != current.version()) {
        throw new VersionConflictException(type, idPart, expected, current.version());
      }
      String patched = JsonPatches.apply(patch, current.json());
      IBaseResource resource;
      try {
        resource = writes.codec().context().newJsonParser().parseResource(cls, patched);
      } catch (DataFormatException e) {
        String msg = "The patched resource is not a valid " + type + ": " + e.getMessage();
        throw new UnprocessableEntityException(msg, Outcomes.error(IssueType.PROCESSING, msg));
      }
      if (!idPart.equals(resource.getIdElement().getIdPart())) {
        String msg = "A patch must not change the resource's id";
        throw new UnprocessableEntityException(msg, Outcomes.error(IssueType.PROCESSING, msg));
      }
      try {
        MethodOutcome outcome = writes.update(new WriteCommand(type, idPart, resource, current.version(),
            WriteCommand.Origin.of(request)), "patch");
        // HAPI's patch binding sends no ETag of its own
        if (request instanceof ServletRequestDetails servlet) {
          servlet.getServletResponse().setHeader("ETag", Ids.etag(Long.parseLong(outcome.getId().getVersionIdPart())));
        }
        return outcome;
      } catch (VersionConflictException e) {
        if (expected != null || attempt >= 5) {
          throw e;
        }
        // another write came first: patch that one
      }
    }
  }
}
