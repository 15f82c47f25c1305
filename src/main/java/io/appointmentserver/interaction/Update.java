package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import java.util.Map;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * <a href="https://hl7.org/fhir/STU3/http.html#update">update</a>, which creates the resource when
 * the client chose a new id, with {@code If-Match} optimistic locking; without an id, addressed by
 * search parameters, a <a href="https://hl7.org/fhir/STU3/http.html#cond-update">conditional
 * update</a>: no match within the user's context creates (as a POST), one is updated, several are a 412.
 */
public final class Update {
  private final Writes writes;
  private final ConditionalWrites conditional;

  Update(Writes writes, ConditionalWrites conditional) {
    this.writes = writes;
    this.conditional = conditional;
  }

  /** {@code id}: the URL's id, or null for a conditional update by the request's parameters. */
  public MethodOutcome update(String type, String id, IBaseResource resource, RequestDetails request) {
    Writes.requireBody(resource);
    WriteCommand.Origin origin = WriteCommand.Origin.of(request);
    if (id == null) {
      Map<String, String[]> criteria = ConditionalWrites.criteria(request.getParameters());
      return conditional.underLock(request, type, criteria, 2, matches -> switch (matches.size()) {
        case 0 -> writes.create(new WriteCommand(type, null, resource, null, origin));
        case 1 -> {
          String matched = matches.get(0).id();
          resource.setId(new IdType(type, matched));
          yield writes.update(new WriteCommand(type, matched, resource, Ids.ifMatch(request), origin), "update");
        }
        default -> throw Writes.multiple("the conditional update's criteria");
      });
    }
    checkBodyId(id, resource);
    return writes.update(new WriteCommand(type, id, resource, Ids.ifMatch(request), origin), "update");
  }

  /** An update by id of a Bundle entry. */
  MethodOutcome update(WriteCommand write) {
    Writes.requireBody(write.resource());
    checkBodyId(write.id(), write.resource());
    return writes.update(write, "update");
  }

  /** The body's id must be the URL's. */
  private static void checkBodyId(String id, IBaseResource resource) {
    String idPart = Ids.check(id);
    String bodyId = resource.getIdElement().getIdPart();
    if (bodyId == null || bodyId.isEmpty()) {
      throw new InvalidRequestException("The resource body must contain an id equal to the URL's id ("
          + idPart + ")", Outcomes.error(IssueType.REQUIRED, "Resource.id is missing in the body"));
    }
    if (!bodyId.equals(idPart)) {
      String msg = "The resource body's id (" + bodyId + ") does not match the URL's id (" + idPart + ")";
      throw new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
    }
  }
}
