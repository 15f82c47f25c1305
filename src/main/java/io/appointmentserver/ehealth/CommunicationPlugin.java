package io.appointmentserver.ehealth;

import io.appointmentserver.plugin.TypePlugin;
import io.appointmentserver.security.AccessPolicy;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The eHealth Communication ({@code ehealth-communication}, {@code ehealth-message}) as the
 * patient service has it: who sees it ({@link EhealthCommunication}), the message invariants
 * ({@link CommunicationRules}), and no update: the patient service's CapabilityStatement declares
 * create, read, vread, patch, delete and search for Communication, so a PUT of a Communication
 * claiming one of the two profiles is a 405 (other Communications are the general server's).
 */
public final class CommunicationPlugin implements TypePlugin {
  @Override
  public String type() {
    return "Communication";
  }

  @Override
  public void addAccessTags(IBaseResource resource, Set<String> tags) {
    EhealthCommunication.addTags(resource, tags);
  }

  @Override
  public AccessPolicy.TypePolicy accessPolicy() {
    return EhealthCommunication::rule;
  }

  @Override
  public Set<String> teamSearchParameters() {
    return EhealthCommunication.TEAM_PARAMETERS;
  }

  @Override
  public void checkContent(IBaseResource resource) {
    CommunicationRules.checkContent(resource);
  }

  @Override
  public Set<String> profilesWithoutUpdate() {
    return Set.of(EhealthCommunication.COMMUNICATION, EhealthCommunication.MESSAGE);
  }
}
