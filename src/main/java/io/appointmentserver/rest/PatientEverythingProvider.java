package io.appointmentserver.rest;

import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.annotation.OperationParam;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import io.appointmentserver.interaction.Everything;
import io.appointmentserver.interaction.Interactions;
import java.util.List;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.Patient;
import org.hl7.fhir.dstu3.model.StringType;
import org.hl7.fhir.dstu3.model.UnsignedIntType;

/**
 * {@code Patient/[id]/$everything} and {@code Patient/$everything} (see {@link Everything}): a
 * provider of its own, since {@link ResourceProvider} is bound for every type and HAPI would offer
 * the operation on all of them. The values are taken as text and checked by the interaction, so
 * that a bad one is a 400 naming it.
 */
public final class PatientEverythingProvider {
  private final Interactions interactions;

  PatientEverythingProvider(Interactions interactions) {
    this.interactions = interactions;
  }

  @Operation(name = "$everything", type = Patient.class, idempotent = true)
  public Bundle instance(@IdParam IdType id, @OperationParam(name = "start") StringType start,
      @OperationParam(name = "end") StringType end, @OperationParam(name = "_since") StringType since,
      @OperationParam(name = "_count") UnsignedIntType count,
      @OperationParam(name = "_type", max = OperationParam.MAX_UNLIMITED) List<StringType> types,
      RequestDetails request) {
    return interactions.everything().everything(id.getIdPart(), query(start, end, since, count, types), request,
        StoredResponses.plainJson(request));
  }

  @Operation(name = "$everything", type = Patient.class, idempotent = true)
  public Bundle type(@OperationParam(name = "start") StringType start, @OperationParam(name = "end") StringType end,
      @OperationParam(name = "_since") StringType since, @OperationParam(name = "_count") UnsignedIntType count,
      @OperationParam(name = "_type", max = OperationParam.MAX_UNLIMITED) List<StringType> types,
      RequestDetails request) {
    return interactions.everything().everything(null, query(start, end, since, count, types), request,
        StoredResponses.plainJson(request));
  }

  private static Everything.Query query(StringType start, StringType end, StringType since, UnsignedIntType count,
      List<StringType> types) {
    return new Everything.Query(value(start), value(end), value(since), count == null ? null : count.getValueAsString(),
        types == null ? null : types.stream().map(StringType::getValue).toList());
  }

  private static String value(StringType s) {
    return s == null ? null : s.getValue();
  }
}
