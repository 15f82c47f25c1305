package io.appointmentserver.rest;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.RestfulServerUtils;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import io.appointmentserver.interaction.Bundles;
import io.appointmentserver.interaction.StreamedBundle;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import org.hl7.fhir.dstu3.model.Bundle;

/**
 * {@code POST [base]} with a batch or transaction Bundle
 * (<a href="https://hl7.org/fhir/STU3/http.html#transaction">DSTU3 batch/transaction</a>), run by
 * {@link Bundles}. A JSON Bundle is streamed: before HAPI parses the body into the
 * {@code @Transaction} method's Bundle, {@link Streaming} reads it once ({@link StreamedBundle}) and
 * hands HAPI the body without the entries' resources; each resource is parsed when its entry runs.
 */
public final class BundleProvider {
  private static final String STREAMED = BundleProvider.class.getName() + ".streamed";

  private final Bundles bundles;

  BundleProvider(Bundles bundles) {
    this.bundles = bundles;
  }

  @Transaction
  public Bundle process(@TransactionParam Bundle bundle, RequestDetails request) {
    StreamedBundle streamed = request.getUserData().remove(STREAMED) instanceof StreamedBundle s ? s : null;
    return bundles.process(bundle, streamed, request);
  }

  /** The interceptor that streams a JSON Bundle for {@link #process}. */
  public static final class Streaming {
    @Hook(Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED)
    public boolean stream(RequestDetails request) {
      if (request.getRestOperationType() == RestOperationTypeEnum.TRANSACTION
          && RestfulServerUtils.determineRequestEncodingNoDefault(request) == EncodingEnum.JSON) {
        byte[] read = request instanceof ServletRequestDetails servlet ? bodyAsRead(servlet.getServletRequest()) : null;
        StreamedBundle streamed = StreamedBundle.read(read != null ? read : request.loadRequestContents());
        if (streamed != null) {
          request.getUserData().put(STREAMED, streamed);
          request.setRequestContents(streamed.skeleton());
        }
      }
      return true;
    }
  }

  /**
   * A request whose body the HTTP layer has read already (it checks it before HAPI sees it) and
   * hands on as it is, so that a large Bundle is not copied again.
   */
  public interface ReadBody {
    byte[] body();
  }

  private static byte[] bodyAsRead(ServletRequest request) {
    for (ServletRequest r = request; r != null; r = r instanceof ServletRequestWrapper w ? w.getRequest() : null) {
      if (r instanceof ReadBody read) {
        return read.body();
      }
    }
    return null;
  }
}
