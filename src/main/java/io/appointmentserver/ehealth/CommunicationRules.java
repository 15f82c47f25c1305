package io.appointmentserver.ehealth;

import io.appointmentserver.plugin.RuleViolation;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.hl7.fhir.dstu3.model.CodeableConcept;
import org.hl7.fhir.dstu3.model.Coding;
import org.hl7.fhir.dstu3.model.Communication;
import org.hl7.fhir.dstu3.model.Communication.CommunicationPayloadComponent;
import org.hl7.fhir.dstu3.model.Device;
import org.hl7.fhir.dstu3.model.Reference;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The invariants of
 * <a href="http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-message">ehealth-message</a>
 * ({@code nemsms-1}, {@code note-invariant}, {@code notification-invariant},
 * {@code message-invariant}), which hold whether or not the IG is loaded, for a Communication that
 * claims the profile or codes its category in the profile's system. Each reads as its FHIRPath
 * expression evaluates: a comparison with a missing value fails, so a NemSMS needs a text payload
 * and a note with a sender needs the same recipient. {@code ehealth-communication} states no
 * invariant (its cardinalities are the validator's).
 */
final class CommunicationRules {
  static final String MESSAGE_CATEGORY = "http://ehealth.sundhed.dk/cs/message-category";
  /** The longest NemSMS text (nemsms-1). */
  static final int NEMSMS_LENGTH = 160;

  private CommunicationRules() {}

  static void checkContent(IBaseResource resource) {
    Communication c = (Communication) resource;
    if (!isMessage(c)) {
      return;
    }
    nemsms1(c);
    String category = category(c);
    if ("note".equals(category)) {
      noteInvariant(c);
    } else if ("notification".equals(category)) {
      notificationInvariant(c);
    } else if ("message".equals(category)) {
      messageInvariant(c);
    }
  }

  static boolean isMessage(Communication c) {
    return CareContext.claims(c, Set.of(EhealthCommunication.MESSAGE)) || c.getCategory().stream()
        .flatMap(cc -> cc.getCoding().stream()).anyMatch(cd -> MESSAGE_CATEGORY.equals(cd.getSystem()));
  }

  /** nemsms-1: a NemSMS (medium code {@code nemsms}) has a text payload of at most 160 characters. */
  private static void nemsms1(Communication c) {
    boolean nemsms = c.getMedium().stream().flatMap(m -> m.getCoding().stream())
        .anyMatch(cd -> "nemsms".equals(cd.getCode()));
    if (!nemsms) {
      return;
    }
    List<String> texts = c.getPayload().stream().filter(CommunicationPayloadComponent::hasContentStringType)
        .map(p -> p.getContentStringType().getValue()).filter(Objects::nonNull).toList();
    if (texts.size() != 1 || texts.get(0).codePointCount(0, texts.get(0).length()) > NEMSMS_LENGTH) {
      throw RuleViolation.invariant("nemsms-1", "If communication resource is a NemSMS payload cannot exceed 160");
    }
  }

  /** note-invariant: a note goes to its own sender, or to a recipient care team and no one else. */
  private static void noteInvariant(Communication c) {
    String sender = c.getSender().getReference();
    List<String> recipients = recipients(c);
    boolean toSelf = sender != null && recipients.equals(List.of(sender));
    boolean toTeam = recipients.isEmpty() && hasTeam(c, EhealthCommunication.RECIPIENT_CARETEAM);
    if (!toSelf && !toTeam) {
      throw RuleViolation.invariant("note-invariant", "Category note invariant");
    }
  }

  /** notification-invariant: a notification goes to a patient, from a practitioner or a sender care team. */
  private static void notificationInvariant(Communication c) {
    boolean toPatient = recipientIs(c, "Patient/");
    boolean fromStaff = contains(c.getSender().getReference(), "Practitioner/")
        || hasTeam(c, EhealthCommunication.SENDER_CARETEAM);
    if (!toPatient || !fromStaff) {
      throw RuleViolation.invariant("notification-invariant", "Category notification invariant");
    }
  }

  /**
   * message-invariant: a message goes to a patient from a device (referenced or contained) or a
   * sender care team, or to a recipient care team from a patient, a device or a sender care team.
   */
  private static void messageInvariant(Communication c) {
    String sender = c.getSender().getReference();
    boolean senderTeam = hasTeam(c, EhealthCommunication.SENDER_CARETEAM);
    boolean recipientTeam = hasTeam(c, EhealthCommunication.RECIPIENT_CARETEAM);
    boolean fromDevice = contains(sender, "Device/") || containedDevice(c, sender);
    boolean toPatient = recipientIs(c, "Patient/") && (fromDevice || senderTeam);
    boolean toTeam = recipientTeam && (contains(sender, "Patient/") || contains(sender, "Device/") || senderTeam);
    if (!toPatient && !toTeam) {
      throw RuleViolation.invariant("message-invariant", "Category message invariant");
    }
  }

  /** The one category code ({@code category.coding.code = 'x'} holds for a single code only), or null. */
  private static String category(Communication c) {
    List<String> codes = c.getCategory().stream().map(CodeableConcept::getCoding).flatMap(List::stream)
        .map(Coding::getCode).filter(Objects::nonNull).toList();
    return codes.size() == 1 ? codes.get(0) : null;
  }

  private static List<String> recipients(Communication c) {
    return c.getRecipient().stream().map(Reference::getReference).filter(Objects::nonNull).toList();
  }

  /** {@code recipient.reference.contains(x)}: one recipient reference, containing {@code x}. */
  private static boolean recipientIs(Communication c, String x) {
    List<String> recipients = recipients(c);
    return recipients.size() == 1 && recipients.get(0).contains(x);
  }

  private static boolean contains(String reference, String x) {
    return reference != null && reference.contains(x);
  }

  /** {@code extension.where(url = x).valueReference.exists()}. */
  private static boolean hasTeam(Communication c, String url) {
    return c.getExtensionsByUrl(url).stream().anyMatch(e -> e.getValue() instanceof Reference);
  }

  /** The sender is a contained Device ({@code #id}). */
  private static boolean containedDevice(Communication c, String sender) {
    if (sender == null || !sender.startsWith("#")) {
      return false;
    }
    for (Resource r : c.getContained()) {
      if (r instanceof Device && r.getIdElement().getIdPart() != null
          && sender.substring(1).equals(r.getIdElement().getIdPart().replaceFirst("^#", ""))) {
        return true;
      }
    }
    return false;
  }
}
