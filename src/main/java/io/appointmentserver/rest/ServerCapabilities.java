package io.appointmentserver.rest;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;
import java.util.List;
import org.hl7.fhir.dstu3.model.CapabilityStatement;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestComponent;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestOperationComponent;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.hl7.fhir.dstu3.model.CapabilityStatement.CapabilityStatementRestSecurityComponent;
import org.hl7.fhir.dstu3.model.CapabilityStatement.ConditionalDeleteStatus;
import org.hl7.fhir.dstu3.model.CapabilityStatement.ResourceVersionPolicy;
import org.hl7.fhir.dstu3.model.CapabilityStatement.SystemRestfulInteraction;
import org.hl7.fhir.dstu3.model.CodeableConcept;
import org.hl7.fhir.dstu3.model.Extension;
import org.hl7.fhir.dstu3.model.Reference;
import org.hl7.fhir.dstu3.model.UriType;
import org.hl7.fhir.instance.model.api.IBaseConformance;

/**
 * What HAPI's generated CapabilityStatement cannot know or gets wrong for this server: the FHIR
 * version of the seed and the eHealth IG (3.0.1; HAPI's DSTU3 structures are 3.0.2), the
 * security (OAuth with the issuer's Keycloak endpoints, or dev mode), {@code batch} beside
 * {@code transaction} (one {@code @Transaction} method takes both), {@code conditionalDelete} as
 * configured, PUT creating and {@code If-Match}, the JSON Patch format, and the eHealth
 * definition of {@code $exportAsiCal} (HAPI names one it generates but does not serve).
 */
@Interceptor
public final class ServerCapabilities {
  /** The FHIR version this server speaks: the seed's ({@code FHIR 3.0.1/DSTU3}) and the eHealth IG's. */
  public static final String FHIR_VERSION = "3.0.1";
  public static final String SOFTWARE_NAME = "Appointment Server";
  /** The build's version (the pom's), or {@code dev} when run from classes that were not built by Maven. */
  public static final String SOFTWARE_VERSION = softwareVersion();

  static final String SECURITY_SERVICE = "http://hl7.org/fhir/restful-security-service";
  static final String OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";
  /** The eHealth IG's definition of the operation (instance level, on Appointment). */
  static final String EXPORT_AS_ICAL =
      "http://ehealth.sundhed.dk/fhir/OperationDefinition/ehealth-appointment-toical";

  private final List<String> issuers;
  private final boolean deleteMultiple;

  /** {@code issuers}: the trusted token issuers, none in dev mode. */
  public ServerCapabilities(List<String> issuers, boolean deleteMultiple) {
    this.issuers = issuers.stream().map(i -> i.replaceAll("/+$", "")).toList();
    this.deleteMultiple = deleteMultiple;
  }

  /** Where a client finds the Subscriptions' websocket channel (HAPI's JPA server declares it so too). */
  static final String WEBSOCKET = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-websocket";

  @Hook(Pointcut.SERVER_CAPABILITY_STATEMENT_GENERATED)
  public void generated(IBaseConformance statement, ca.uhn.fhir.rest.api.server.RequestDetails request) {
    if (!(statement instanceof CapabilityStatement cs)) {
      return;
    }
    if (request != null && request.getFhirServerBase() != null && !cs.getRest().isEmpty()) {
      // ws(s)://host/websocket beside the FHIR base http(s)://host/fhir
      String ws = request.getFhirServerBase().replaceFirst("^http", "ws").replaceFirst("/fhir/?$", "") + "/websocket";
      cs.getRest().get(0).addExtension(WEBSOCKET, new UriType(ws));
    }
    cs.setFhirVersion(FHIR_VERSION);
    cs.getSoftware().setName(SOFTWARE_NAME).setVersion(SOFTWARE_VERSION);
    cs.getPatchFormat().clear();
    cs.addPatchFormat("application/json-patch+json");
    for (CapabilityStatementRestComponent rest : cs.getRest()) {
      rest.setSecurity(security());
      for (SystemRestfulInteraction i : List.of(SystemRestfulInteraction.BATCH, SystemRestfulInteraction.SEARCHSYSTEM)) {
        if (rest.getInteraction().stream().noneMatch(c -> c.getCode() == i)) {
          rest.addInteraction().setCode(i); // HAPI lists neither
        }
      }
      for (CapabilityStatementRestResourceComponent resource : rest.getResource()) {
        resource.setConditionalDelete(deleteMultiple ? ConditionalDeleteStatus.MULTIPLE : ConditionalDeleteStatus.SINGLE);
        resource.setUpdateCreate(true);
        resource.setVersioning(ResourceVersionPolicy.VERSIONEDUPDATE);
      }
      for (CapabilityStatementRestOperationComponent op : rest.getOperation()) {
        if (op.getName().equals("exportAsiCal")) {
          op.setDefinition(new Reference(EXPORT_AS_ICAL));
        }
      }
    }
  }

  private CapabilityStatementRestSecurityComponent security() {
    CapabilityStatementRestSecurityComponent security = new CapabilityStatementRestSecurityComponent();
    security.setCors(false);
    if (issuers.isEmpty()) {
      security.getService().add(new CodeableConcept().setText("Bearer tokens (dev mode)"));
      security.setDescription("Dev mode: no identity provider is configured (FHIR_AUTH_ISSUER is not set). Every"
          + " request but /metadata needs a bearer token signed with this server's own dev key; make one with"
          + " `java -jar appointment-server.jar token`. Realm roles are privileges (<Type>.read, .search,"
          + " .create, .update, .patch, .delete, .write, .*).");
      return security;
    }
    security.addService().addCoding().setSystem(SECURITY_SERVICE).setCode("OAuth").setDisplay("OAuth");
    // Keycloak's endpoints of each realm that issues tokens, in the configured order
    for (String issuer : issuers) {
      Extension uris = new Extension(OAUTH_URIS);
      uris.addExtension("token", new UriType(issuer + "/protocol/openid-connect/token"));
      uris.addExtension("authorize", new UriType(issuer + "/protocol/openid-connect/auth"));
      security.addExtension(uris);
    }
    security.setDescription("OAuth 2.0 bearer tokens (JWT) issued by " + String.join(" or ", issuers)
        + " are required for every request"
        + " but /metadata. Realm roles are privileges (<Type>.read, .search, .create, .update, .patch, .delete,"
        + " .write, .*); the user type and the token's context narrow what a user sees and changes.");
    return security;
  }

  private static String softwareVersion() {
    try (InputStream in = ServerCapabilities.class.getResourceAsStream("/appointment-server.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null && !v.isBlank() && !v.startsWith("${")) {
          return v;
        }
      }
    } catch (IOException e) {
      // fall through to the manifest
    }
    String v = ServerCapabilities.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
