package io.appointmentserver.ehealth;

import io.appointmentserver.security.ContextRule;
import io.appointmentserver.security.Principal;
import java.util.Set;
import org.hl7.fhir.dstu3.model.Communication;
import org.hl7.fhir.dstu3.model.Extension;
import org.hl7.fhir.dstu3.model.Reference;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Who may see and change an eHealth Communication
 * (<a href="http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-communication">ehealth-communication</a>,
 * <a href="http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-message">ehealth-message</a>):
 * the care teams of its {@code ehealth-communication-senderCareTeam} and
 * {@code ehealth-communication-recipientCareTeam} extensions (and a CareTeam sender or recipient),
 * the episode of care of its {@code context}, and the patients of its Patient compartment
 * (subject, sender, recipient).
 */
final class EhealthCommunication {
  static final String SENDER_CARETEAM =
      "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-communication-senderCareTeam";
  static final String RECIPIENT_CARETEAM =
      "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-communication-recipientCareTeam";
  static final String COMMUNICATION = "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-communication";
  static final String MESSAGE = "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-message";

  /** The IG's search parameters over the care-team extensions: another team than the context's is refused. */
  static final Set<String> TEAM_PARAMETERS = Set.of("careTeamSender", "careTeamRecipient");

  private EhealthCommunication() {}

  static void addTags(IBaseResource resource, Set<String> tags) {
    Communication c = (Communication) resource;
    for (Extension e : c.getExtension()) {
      if (SENDER_CARETEAM.equals(e.getUrl()) || RECIPIENT_CARETEAM.equals(e.getUrl())) {
        CareContext.addTeam(e, tags);
      }
    }
    CareContext.addTeam(c.getSender().getReference(), tags);
    for (Reference r : c.getRecipient()) {
      CareContext.addTeam(r.getReference(), tags);
    }
    CareContext.addEpisode(c.getContext().getReference(), tags);
  }

  /**
   * Practitioners see the communications of the care team or the episode of care in their
   * context (with a patient in context, of that patient only); citizens their own.
   */
  static ContextRule rule(Principal p) {
    return CareContext.rule(p, true);
  }
}
