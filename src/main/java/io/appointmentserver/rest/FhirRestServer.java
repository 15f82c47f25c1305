package io.appointmentserver.rest;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.ETagSupportEnum;
import ca.uhn.fhir.rest.server.HardcodedServerAddressStrategy;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.IncomingRequestAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.method.BaseMethodBinding;
import ca.uhn.fhir.rest.server.method.MethodMatchEnum;
import io.appointmentserver.interaction.Bundles;
import io.appointmentserver.interaction.DeclaredSurface;
import io.appointmentserver.interaction.History;
import io.appointmentserver.interaction.Interactions;
import io.appointmentserver.interaction.Outcomes;
import io.appointmentserver.interaction.PrivilegeCheck;
import io.appointmentserver.plugin.Operations;
import io.appointmentserver.plugin.Plugins;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.hl7.fhir.dstu3.model.OperationOutcome.IssueType;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * HAPI's plain {@link RestfulServer} with one {@link ResourceProvider} bound per DSTU3 resource
 * type. HAPI does the routing, content negotiation, Prefer handling and the CapabilityStatement
 * (generated from the bound methods, so it lists what really works).
 */
public final class FhirRestServer extends RestfulServer {
  private final transient Interactions interactions;
  private final transient Plugins plugins;
  private final String configuredBase;
  private final transient PrivilegeCheck privileges;
  private final transient DeclaredSurface surface;

  /**
   * {@code configuredBase}: the public base URL for links and Location headers, or null to use the
   * one each request was sent to; {@code surface}: what the server declares and answers
   * ({@link DeclaredSurface#ALL}, or a service's CapabilityStatement).
   */
  public FhirRestServer(FhirContext ctx, Interactions interactions, Plugins plugins, String configuredBase,
      DeclaredSurface surface) {
    super(ctx);
    this.interactions = interactions;
    this.plugins = plugins;
    this.configuredBase = configuredBase;
    this.surface = surface;
    this.privileges = new PrivilegeCheck(interactions.access().policy(), surface);
  }

  /** What the server declares: a request outside it is refused as HAPI refuses one it has no method for. */
  public DeclaredSurface surface() {
    return surface;
  }

  /**
   * The method for the request, once the user is known to have the privilege it needs. A refusal
   * thrown here is answered like any error of the interactions (see {@link ErrorInterceptor}).
   */
  @Override
  public BaseMethodBinding determineResourceMethod(RequestDetails request, String requestPath) {
    String type = request.getResourceName();
    if (type != null && !surface.declaresType(type)
        && getServerConformanceMethod().incomingServerRequestMatchesMethod(request) == MethodMatchEnum.NONE) {
      // before HAPI looks for a method: an undeclared type's unknown operation is an unknown type too
      throw surface.unknownType(type);
    }
    BaseMethodBinding method = super.determineResourceMethod(request, requestPath);
    RestOperationTypeEnum operation = method.getRestOperationType(request);
    privileges.check(request, operation);
    if ((operation == RestOperationTypeEnum.DELETE || operation == RestOperationTypeEnum.PATCH
        || operation == RestOperationTypeEnum.UPDATE)
        && (request.getId() == null || !request.getId().hasIdPart())
        && !PrivilegeCheck.isConditional(request, operation)) {
      throw Outcomes.status(400, IssueType.REQUIRED, "A " + operation.getCode()
          + " must address the resource by its id ([base]/" + request.getResourceName()
          + "/[id]) or by search parameters");
    }
    return method;
  }

  /**
   * The id of a request that brings none (X-Request-ID): 16 letters and digits, as HAPI makes them,
   * from a fast generator; HAPI's own asks a secure one on every request (1 % of a PUT's CPU),
   * and an id that only ties log lines together needs no secrecy.
   */
  @Override
  protected String newRequestId(int length) {
    java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
    char[] id = new char[length];
    for (int i = 0; i < length; i++) {
      id[i] = REQUEST_ID_CHARACTERS.charAt(random.nextInt(REQUEST_ID_CHARACTERS.length()));
    }
    return new String(id);
  }

  private static final String REQUEST_ID_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  /** X-Powered-By names this server and the FHIR version it speaks (HAPI's says its structures', 3.0.2). */
  @Override
  protected List<String> createPoweredByAttributes() {
    return List.of(ServerCapabilities.SOFTWARE_NAME + " " + ServerCapabilities.SOFTWARE_VERSION,
        "FHIR " + ServerCapabilities.FHIR_VERSION + "/DSTU3");
  }

  @Override
  protected void initialize() {
    setDefaultResponseEncoding(EncodingEnum.JSON);
    setDefaultPrettyPrint(false);
    setETagSupport(ETagSupportEnum.ENABLED);
    setServerName(ServerCapabilities.SOFTWARE_NAME);
    setServerVersion(ServerCapabilities.SOFTWARE_VERSION);
    setImplementationDescription("FHIR DSTU3 server for the eHealth Appointment service");
    setServerAddressStrategy(configuredBase != null
        ? new HardcodedServerAddressStrategy(configuredBase)
        : new IncomingRequestAddressStrategy());
    setServerConformanceProvider(new OperationDefinitions(this, interactions, surface));
    setDefaultPageSize(History.DEFAULT_PAGE_SIZE);
    setMaximumPageSize(History.MAX_PAGE_SIZE);
    registerInterceptor(new ErrorInterceptor());
    registerInterceptor(new DeclaredCapabilities(surface, interactions.expunge().enabled()));
    registerInterceptor(new StoredResponses());
    // after StoredResponses, which fixes history entries before they are rendered
    registerInterceptor(new BrowserPages(getFhirContext().getResourceTypes()));

    List<IResourceProvider> providers = new ArrayList<>();
    for (String name : new TreeSet<>(getFhirContext().getResourceTypes())) {
      providers.add(provider(getFhirContext().getResourceDefinition(name).getImplementingClass(), name));
    }
    setResourceProviders(providers);
    Operations operations = plugins.operations(interactions.operationContext());
    BundleProvider bundles = new BundleProvider(new Bundles(interactions, privileges, operations.instanceOperations()));
    registerProvider(bundles);
    registerInterceptor(new BundleProvider.Streaming());
    registerProvider(new SystemProvider(interactions, getFhirContext().getResourceTypes()));
    registerProvider(new PatientEverythingProvider(interactions));
    registerProvider(new StructureDefinitionOperations(interactions));
    registerProvider(new TerminologyProvider(interactions));
    operations.providers().forEach(this::registerProvider);
  }

  private <T extends IBaseResource> ResourceProvider<T> provider(Class<T> cls, String type) {
    return new ResourceProvider<>(cls, type, interactions);
  }
}
