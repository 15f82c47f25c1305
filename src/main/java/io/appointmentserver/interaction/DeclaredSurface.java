package io.appointmentserver.interaction;

import ca.uhn.fhir.i18n.Msg;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import io.appointmentserver.search.InvalidSearchException;
import io.appointmentserver.search.SearchQuery;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.dstu3.model.CapabilityStatement;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestComponent;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestOperationComponent;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;

/**
 * What a service declares in its CapabilityStatement ({@code FHIR_SERVICE=patient}: the eHealth
 * patient service's, {@code patient.xml} of the built-in IG): its resource types, each type's
 * interactions and search parameters, its system interactions and its operations at their levels.
 * A request outside it is answered as the eHealth service, a HAPI server, answers what it has no
 * method for: an undeclared type as an unknown one (404, HAPI-0302), an undeclared interaction or
 * operation as one no method binds (400), an undeclared search parameter as an unknown one (400,
 * ignored under {@code Prefer: handling=lenient}). {@link #ALL} declares everything (the general
 * server).
 */
public final class DeclaredSurface {
  /** Everything: the general DSTU3 server. */
  public static final DeclaredSurface ALL = new DeclaredSurface(null);

  /** Where an operation is declared: on the server, on a type, on an instance. */
  public enum Level { SERVER, TYPE, INSTANCE }

  /**
   * A declared operation: {@code id} that of its definition (HAPI's {@code [type]-[levels]-[name]},
   * e.g. {@code Patient--createPatient}, {@code -s-meta}, {@code Appointment-i-exportAsiCal}),
   * {@code type} null for any type.
   */
  public record Operation(String id, String name, String type, Set<Level> levels) {}

  private final CapabilityStatement statement;
  private final Map<String, CapabilityStatementRestResourceComponent> resources = new LinkedHashMap<>();
  private final Set<String> systemInteractions = new TreeSet<>();
  private final List<Operation> operations = new ArrayList<>();

  private DeclaredSurface(CapabilityStatement statement) {
    this.statement = statement;
    if (statement == null) {
      return;
    }
    for (CapabilityStatementRestComponent rest : statement.getRest()) {
      rest.getResource().forEach(r -> resources.put(r.getType(), r));
      rest.getInteraction().forEach(i -> systemInteractions.add(i.getCode().toCode()));
      rest.getOperation().forEach(o -> operations.add(operation(o)));
    }
  }

  /** The surface {@code statement} declares. */
  public static DeclaredSurface of(CapabilityStatement statement) {
    return new DeclaredSurface(statement.copy());
  }

  /** Whether this is the general server, which declares everything. */
  public boolean all() {
    return statement == null;
  }

  /** The declaring statement (a copy), null for {@link #ALL}. */
  public CapabilityStatement statement() {
    return statement == null ? null : statement.copy();
  }

  /** The declared resource types, in the statement's order. */
  public Set<String> types() {
    return Collections.unmodifiableSet(resources.keySet());
  }

  public List<Operation> operations() {
    return List.copyOf(operations);
  }

  public boolean declaresType(String type) {
    return all() || resources.containsKey(type);
  }

  /** Whether {@code type} (null: the system) declares the interaction of {@code code} ({@code read}, {@code search-type}, {@code transaction}, ...). */
  public boolean declaresInteraction(String type, String code) {
    if (all()) {
      return true;
    }
    if (type == null) {
      return systemInteractions.contains(code);
    }
    CapabilityStatementRestResourceComponent r = resources.get(type);
    return r != null && r.getInteraction().stream().anyMatch(i -> i.getCode() != null && i.getCode().toCode().equals(code));
  }

  /** Whether the operation {@code name} (without {@code $}) is declared at {@code level} ({@code type} null on the server). */
  public boolean declaresOperation(String type, Level level, String name) {
    return all() || operations.stream().anyMatch(o -> o.name().equals(name) && o.levels().contains(level)
        && (level == Level.SERVER || o.type() == null && declaresType(type) || o.type() != null && o.type().equals(type)));
  }

  public boolean declaresSearchParameter(String type, String name) {
    CapabilityStatementRestResourceComponent r = resources.get(type);
    return all() || r != null && r.getSearchParam().stream().anyMatch(p -> p.getName().equals(name));
  }

  /**
   * Refuses a request outside the surface as HAPI refuses one it has no method for. Under lenient
   * handling, an undeclared search parameter is dropped from the request instead, as an unknown
   * one is (and its links leave it out).
   */
  public void check(RequestDetails request, RestOperationTypeEnum operation) {
    if (all() || operation == RestOperationTypeEnum.METADATA) {
      return;
    }
    String type = request.getResourceName();
    if (type != null && !declaresType(type)) {
      throw unknownType(type);
    }
    boolean declared = switch (operation) {
      case EXTENDED_OPERATION_SERVER -> declaresOperation(null, Level.SERVER, name(request));
      case EXTENDED_OPERATION_TYPE -> declaresOperation(type, Level.TYPE, name(request));
      case EXTENDED_OPERATION_INSTANCE -> declaresOperation(type, Level.INSTANCE, name(request));
      // one HAPI method takes both: a service declaring transaction takes batches too
      case TRANSACTION, BATCH -> declaresInteraction(null, "transaction");
      // HAPI names a system search a type search without a type
      case SEARCH_TYPE -> declaresInteraction(type, type == null ? "search-system" : "search-type");
      default -> declaresInteraction(type, operation.getCode());
    };
    if (!declared) {
      throw noMethod(request);
    }
    if (operation == RestOperationTypeEnum.SEARCH_TYPE && type != null) {
      checkSearchParameters(request, type);
    }
  }

  /** HAPI's answer for a type it has no provider of (RestfulServer.throwUnknownResourceTypeException), naming the declared ones. */
  public ResourceNotFoundException unknownType(String type) {
    return new ResourceNotFoundException(Msg.code(302) + "Unknown resource type '" + type
        + "' - Server knows how to handle: " + new TreeSet<>(resources.keySet()));
  }

  /** HAPI's answer when no method binds a request (RestfulServer.throwUnknownFhirOperationException). */
  private static InvalidRequestException noMethod(RequestDetails request) {
    String path = request.getRequestPath() != null ? request.getRequestPath() : request.getResourceName();
    String message = request.getFhirContext().getLocalizer().getMessage(RestfulServer.class, "unknownMethod",
        request.getRequestType().name(), path, request.getParameters().keySet());
    return new InvalidRequestException(message, Outcomes.error(IssueType.NOTSUPPORTED, message));
  }

  private void checkSearchParameters(RequestDetails request, String type) {
    Map<String, String[]> kept = new LinkedHashMap<>();
    boolean lenient = Searches.lenient(request);
    for (Map.Entry<String, String[]> e : request.getParameters().entrySet()) {
      String key = e.getKey();
      // the parameter a chain or modifier starts from: patient.name, name:exact
      String name = key.split("[:.]", 2)[0];
      if (SearchQuery.CONTROL.contains(name) || declaresSearchParameter(type, name)) {
        kept.put(key, e.getValue());
      } else if (!lenient) {
        throw new InvalidSearchException("Unknown search parameter " + key + " for " + type);
      }
    }
    if (kept.size() != request.getParameters().size()) {
      request.setParameters(kept);
    }
  }

  private static String name(RequestDetails request) {
    String op = request.getOperation();
    return op != null && op.startsWith("$") ? op.substring(1) : op;
  }

  /**
   * Whether this surface serves all of {@code o}: each of its levels, on its type (any type when
   * it names none).
   */
  public boolean serves(Operation o) {
    return all() || o.levels().stream().allMatch(level -> operations.stream().anyMatch(s -> s.name().equals(o.name())
        && s.levels().contains(level) && (s.type() == null || s.type().equals(o.type()))));
  }

  /**
   * An operation from its definition's id, HAPI's {@code [type]-[i][t][s]-[name]} (older HAPI
   * writes no flag for the type level); a definition of another form (an IG's canonical URL)
   * says nothing of its levels: every level, on any type.
   */
  private static Operation operation(CapabilityStatementRestOperationComponent o) {
    String ref = o.getDefinition().getReference();
    String id = ref == null ? "" : ref.substring(ref.lastIndexOf('/') + 1);
    String[] parts = id.split("-", 3);
    if (parts.length < 3 || !parts[2].equals(o.getName()) || !parts[1].matches("i?t?s?")) {
      return new Operation(id, o.getName(), null, EnumSet.allOf(Level.class));
    }
    String type = parts[0].isEmpty() || parts[0].equals("Multi") ? null : parts[0];
    Set<Level> levels = EnumSet.noneOf(Level.class);
    if (parts[1].contains("i")) {
      levels.add(Level.INSTANCE);
    }
    if (parts[1].contains("t") || parts[1].isEmpty() && type != null) {
      levels.add(Level.TYPE);
    }
    if (parts[1].contains("s")) {
      levels.add(type == null ? Level.SERVER : Level.TYPE);
    }
    return new Operation(id, o.getName(), type, levels);
  }
}
