package io.appointmentserver.ehealth;

import java.security.SecureRandom;
import java.util.UUID;
import org.hl7.fhir.dstu3.model.Appointment;
import org.hl7.fhir.dstu3.model.StringType;
import org.hl7.fhir.dstu3.model.UriType;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * What the eHealth patient service adds to a video appointment it creates
 * (<a href="http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-videoappointment">ehealth-videoappointment</a>,
 * as recorded in the IG's {@code exampleOperations/POST_Appointment_Video}): the base profile
 * {@code ehealth-appointment} in {@code meta.profile}, and the video meeting it books, as the
 * extensions {@code ehealth-meeting-url} (a {@code valueUri}) and {@code ehealth-pin-code} (a
 * {@code valueString} of four digits). Group video appointments
 * ({@code ehealth-group-videoappointment}) get the meeting but not the profile, whose
 * single-patient invariant a group does not meet.
 *
 * <p>The meeting URL is the configured meeting service's base URL ({@code FHIR_VIDEO_MEETING_BASE_URL})
 * followed by a new random meeting id; without that setting there is no meeting service and no
 * meeting is added. A meeting the client already gives (its own {@code ehealth-meeting-url}) is kept.
 */
public final class VideoMeetings {
  static final String SD = "http://ehealth.sundhed.dk/fhir/StructureDefinition/";
  public static final String VIDEO_APPOINTMENT = SD + "ehealth-videoappointment";
  public static final String GROUP_VIDEO_APPOINTMENT = SD + "ehealth-group-videoappointment";
  public static final String APPOINTMENT = SD + "ehealth-appointment";
  public static final String MEETING_URL = SD + "ehealth-meeting-url";
  public static final String PIN_CODE = SD + "ehealth-pin-code";

  private final String meetingBaseUrl;
  private final SecureRandom random = new SecureRandom();

  /** @param meetingBaseUrl the meeting service's base URL; null when there is none */
  public VideoMeetings(String meetingBaseUrl) {
    this.meetingBaseUrl = meetingBaseUrl == null || !meetingBaseUrl.endsWith("/") ? meetingBaseUrl
        : meetingBaseUrl.substring(0, meetingBaseUrl.length() - 1);
  }

  /** On create (POST), after the client's content is known and before it is checked and validated. */
  public void onCreate(IBaseResource resource) {
    Appointment a = (Appointment) resource;
    boolean video = claims(a, VIDEO_APPOINTMENT);
    if (!video && !claims(a, GROUP_VIDEO_APPOINTMENT)) {
      return;
    }
    if (video && !claims(a, APPOINTMENT)) {
      a.getMeta().addProfile(APPOINTMENT);
    }
    if (meetingBaseUrl == null || a.getExtensionByUrl(MEETING_URL) != null) {
      return;
    }
    a.addExtension(MEETING_URL, new UriType(meetingBaseUrl + "/" + UUID.randomUUID()));
    if (a.getExtensionByUrl(PIN_CODE) == null) {
      a.addExtension(PIN_CODE, new StringType(String.format("%04d", random.nextInt(10_000))));
    }
  }

  private static boolean claims(Appointment a, String profile) {
    return a.getMeta().getProfile().stream().anyMatch(p -> profile.equals(p.getValue()));
  }
}
