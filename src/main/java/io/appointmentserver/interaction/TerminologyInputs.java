package io.appointmentserver.interaction;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import io.appointmentserver.security.Privileges;
import io.appointmentserver.security.Privileges.Op;
import io.appointmentserver.store.StoredResource;
import io.appointmentserver.validation.Terminology;
import io.appointmentserver.validation.TerminologyException;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.hl7.fhir.dstu3.model.CodeableConcept;
import org.hl7.fhir.dstu3.model.Coding;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * What the terminology operations share: which CodeSystem, ValueSet or ConceptMap a request is
 * about (the instance, a {@code url}, or one in the body) and which concept (code and system,
 * a coding, or a codeable concept), checked the same way for all.
 */
final class TerminologyInputs {
  private final Read read;
  private final ResourceCodec codec;
  private final Access access;
  private final Supplier<Terminology> terminology;

  TerminologyInputs(Read read, ResourceCodec codec, Access access, Supplier<Terminology> terminology) {
    this.read = read;
    this.codec = codec;
    this.access = access;
    this.terminology = terminology;
  }

  Terminology terminology() {
    return terminology.get();
  }

  /** The resource a request is about: {@code known} when the server has it (its answers may be remembered). */
  record Resolved<T>(T resource, boolean known, String ref, String[] tags) {}

  /**
   * The {@code type} the request names: the instance {@code id} (read as a read would, the user's
   * privilege and context checked), the one with {@code url}, or the one sent in the body;
   * exactly one of them. 404 when the server knows none of that URL.
   */
  <T extends Resource> Resolved<T> resolve(String type, TerminologyRequest.Target target, Function<String, T> byUrl,
      RequestDetails request) {
    int given = (target.id() != null ? 1 : 0) + (target.url() != null ? 1 : 0) + (target.inBody() != null ? 1 : 0);
    if (given > 1) {
      throw invalid(IssueType.INVALID, "Give the " + type + " one way only: the instance, url or "
          + Character.toLowerCase(type.charAt(0)) + type.substring(1));
    }
    if (target.id() != null) {
      Privileges.require(Access.principal(request), type, Op.READ);
      StoredResource s = read.current(type, target.id(), request);
      @SuppressWarnings("unchecked")
      T r = (T) codec.decode(s);
      return new Resolved<>(r, false, Ids.versioned(type, s.id(), s.version()), s.tags());
    }
    if (target.inBody() != null) {
      IBaseResource r = target.inBody();
      if (!(r instanceof Resource res) || !res.getResourceType().name().equals(type)) {
        throw invalid(IssueType.INVALID, "The resource in the body is not a " + type);
      }
      @SuppressWarnings("unchecked")
      T t = (T) r;
      return new Resolved<>(t, false, null, new String[0]);
    }
    if (target.url() == null) {
      return null;
    }
    T r = byUrl.apply(target.url());
    if (r == null) {
      throw TerminologyException.notFound(type + " " + target.url() + " is not known to this server");
    }
    return new Resolved<>(r, true, null, new String[0]);
  }

  /**
   * The codings of a request: {@code code} (with {@code system}, {@code version}, {@code display}),
   * {@code coding} or {@code codeableConcept}; exactly one of them, with a code.
   */
  static List<Coding> codings(TerminologyRequest.Coded coded, String operation) {
    TerminologyRequest.Concept loose = coded.loose();
    Coding coding = coded.coding();
    CodeableConcept concept = coded.codeableConcept();
    boolean hasLoose = loose.code() != null;
    int given = (hasLoose ? 1 : 0) + (coding != null ? 1 : 0) + (concept != null ? 1 : 0);
    if (given == 0) {
      throw invalid(IssueType.REQUIRED, operation + " needs the code: code (with system), coding or codeableConcept");
    }
    if (given > 1) {
      throw invalid(IssueType.INVALID, operation + " takes the code one way only: code, coding or codeableConcept");
    }
    List<Coding> codings = hasLoose
        ? List.of(new Coding(loose.system(), loose.code(), loose.display()).setVersion(loose.version()))
        : coding != null ? List.of(coding) : concept.getCoding();
    if (codings.isEmpty() || codings.stream().anyMatch(c -> !c.hasCode())) {
      throw invalid(IssueType.REQUIRED, operation + ": every coding needs a code");
    }
    return codings;
  }

  void audit(RequestDetails request, String operation, String type, Resolved<?> about) {
    access.auditedOperation(request, operation, type, about == null ? null : about.ref(),
        about == null ? new String[0] : about.tags());
  }

  static InvalidRequestException invalid(IssueType code, String msg) {
    return new InvalidRequestException(msg, Outcomes.error(code, msg));
  }

  static String required(String value, String name, String operation) {
    if (value == null || value.isBlank()) {
      throw invalid(IssueType.REQUIRED, operation + " needs the parameter " + name);
    }
    return value;
  }
}
