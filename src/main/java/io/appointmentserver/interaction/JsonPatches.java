package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.flipkart.zjsonpatch.InvalidJsonPatchException;
import com.flipkart.zjsonpatch.JsonPatch;
import com.flipkart.zjsonpatch.JsonPatchApplicationException;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;

/** JSON Patch (RFC 6902) with zjsonpatch: a malformed document is a 400, one that does not apply a 422. */
final class JsonPatches {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private JsonPatches() {}

  static JsonNode parse(String body) {
    JsonNode patch;
    try {
      patch = body == null ? null : MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw invalid("The JSON Patch document is not JSON: " + e.getOriginalMessage());
    }
    if (patch == null || !patch.isArray()) {
      throw invalid("A JSON Patch document is an array of operations");
    }
    try {
      JsonPatch.validate(patch);
    } catch (InvalidJsonPatchException | IllegalArgumentException e) { // the latter: a path that is no JSON Pointer
      throw invalid("Invalid JSON Patch: " + e.getMessage());
    }
    return patch;
  }

  static String apply(JsonNode patch, String json) {
    try {
      return MAPPER.writeValueAsString(JsonPatch.apply(patch, MAPPER.readTree(json)));
    } catch (JsonPatchApplicationException | IllegalArgumentException e) {
      String msg = "The JSON Patch cannot be applied: " + e.getMessage();
      throw new UnprocessableEntityException(msg, Outcomes.error(IssueType.PROCESSING, msg));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored JSON does not parse", e);
    }
  }

  private static InvalidRequestException invalid(String msg) {
    return new InvalidRequestException(msg, Outcomes.error(IssueType.INVALID, msg));
  }
}
