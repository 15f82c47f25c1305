package io.appointmentserver.validation;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.hl7.fhir.dstu3.model.Appointment;
import org.hl7.fhir.dstu3.model.OperationOutcome.OperationOutcomeIssueComponent;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Free text (an Appointment's {@code comment} and {@code description}) validated alone, beside
 * the outcome of the rest of the content, must find exactly what validating the whole content
 * finds: every Appointment example of the eHealth IG and the seed, each with comments and
 * descriptions the validator warns about, refuses, or lets pass, and with the rest made invalid.
 * One validator with the IG, in this JVM: the comparison needs the whole-content path, which
 * the server does not offer over HTTP.
 */
class FreeTextValidationTest {
  private static final FhirContext CTX = FhirContext.forDstu3Cached();
  private static final String EHEALTH_APPOINTMENT = "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-appointment";
  private static ProfileValidator validator;

  @BeforeAll
  static void load() {
    Path ig = shared().resolve("ehealth-ig").resolve("resources");
    validator = new ProfileValidator(CTX, IgLoader.load(CTX, ig).stream().map(IgLoader.Loaded::resource).toList(),
        new ProfileValidator.Settings(ProfileValidator.Mode.FULL, Set.of(), false), null);
  }

  private static Path shared() {
    return Path.of(System.getProperty("shared.dir", "../shared"));
  }

  private static List<Appointment> appointments() throws IOException {
    List<Appointment> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(shared().resolve("ehealth-ig").resolve("examples").resolve("appointment"))) {
      for (Path f : files.sorted().toList()) {
        out.add((Appointment) CTX.newXmlParser().parseResource(Files.readString(f)));
      }
    }
    out.add((Appointment) CTX.newJsonParser().parseResource(Files.readString(shared().resolve("seed").resolve("request-body.json"))));
    assertThat(out).hasSizeGreaterThanOrEqualTo(3);
    return out;
  }

  /** The issues as text, in order of the text: the two ways may list them in another order. */
  private static List<String> issues(IBaseResource r, boolean freeTextAlone) {
    List<OperationOutcomeIssueComponent> issues;
    try {
      issues = validator.validate(r, freeTextAlone);
    } catch (ProfileValidationException e) {
      issues = e.outcome().getIssue();
    }
    List<String> out = new ArrayList<>();
    for (OperationOutcomeIssueComponent i : issues) {
      out.add(i.getSeverity() + " " + i.getCode() + " " + i.getLocation() + " " + i.getDiagnostics());
    }
    return out.stream().sorted().toList();
  }

  @Test
  void anAppointmentsCommentAndDescriptionAreTheFreeTextOfTheEhealthProfile() {
    assertThat(validator.freeText("Appointment", List.of(EHEALTH_APPOINTMENT))).containsExactlyInAnyOrder("comment", "description");
    assertThat(validator.freeText("Appointment", List.of())).containsExactlyInAnyOrder("comment", "description");
    // an unknown profile: nothing is known of its checks
    assertThat(validator.freeText("Appointment", List.of("http://example.org/unknown"))).isEmpty();
  }

  @Test
  void aProfileWhoseInvariantReadsTheCommentMakesItValidatedWithTheWholeResource() throws IOException {
    String url = "http://example.org/StructureDefinition/short-comment-appointment";
    org.hl7.fhir.dstu3.model.StructureDefinition sd = new org.hl7.fhir.dstu3.model.StructureDefinition();
    sd.setUrl(url).setName("ShortCommentAppointment").setStatus(org.hl7.fhir.dstu3.model.Enumerations.PublicationStatus.ACTIVE)
        .setKind(org.hl7.fhir.dstu3.model.StructureDefinition.StructureDefinitionKind.RESOURCE).setAbstract(false)
        .setType("Appointment").setBaseDefinition("http://hl7.org/fhir/StructureDefinition/Appointment")
        .setDerivation(org.hl7.fhir.dstu3.model.StructureDefinition.TypeDerivationRule.CONSTRAINT);
    org.hl7.fhir.dstu3.model.ElementDefinition root = sd.getDifferential().addElement().setPath("Appointment");
    root.setId("Appointment");
    root.addConstraint().setKey("short-1")
        .setSeverity(org.hl7.fhir.dstu3.model.ElementDefinition.ConstraintSeverity.ERROR)
        .setHuman("The comment is short").setExpression("comment.empty() or comment.length() < 20");
    List<IBaseResource> ig = new ArrayList<>(IgLoader.load(CTX, shared().resolve("ehealth-ig").resolve("resources"))
        .stream().map(IgLoader.Loaded::resource).toList());
    ig.add(sd);
    ProfileValidator withIt = new ProfileValidator(CTX, ig,
        new ProfileValidator.Settings(ProfileValidator.Mode.FULL, Set.of(), false), null);

    // the invariant could be anywhere (another profile, an extension): the comment is then never masked
    assertThat(withIt.freeText("Appointment", List.of(url))).containsExactly("description");
    assertThat(withIt.freeText("Appointment", List.of(EHEALTH_APPOINTMENT))).containsExactly("description");
    Appointment a = appointments().get(appointments().size() - 1).copy();
    a.getMeta().getProfile().clear();
    a.getMeta().addProfile(url);
    a.setComment("a comment much longer than twenty characters");
    ProfileValidationException refused = org.assertj.core.api.Assertions.catchThrowableOfType(
        () -> withIt.validate(a), ProfileValidationException.class);
    assertThat(refused).isNotNull();
    assertThat(refused.outcome().getIssue()).anySatisfy(i -> assertThat(i.getDiagnostics()).contains("short-1"));
    a.setComment("short");
    assertThat(withIt.validate(a)).noneSatisfy(i -> assertThat(i.getDiagnostics()).contains("short-1"));
  }

  @Test
  void freeTextValidatedAloneFindsWhatTheWholeContentFinds() throws IOException {
    String[] texts = {null, "Ny kommentar 17", " leading space", "trailing space ", "tab\tand\nnew line", "",
        FreeText.PLACEHOLDER, "<b>looks like html</b>", "æøå 😀", "x".repeat(20_000), "  ", "ctrl\u0001char"};
    int compared = 0;
    boolean sawWarning = false;
    for (Appointment original : appointments()) {
      for (boolean invalidRest : new boolean[] {false, true}) {
        for (String comment : texts) {
          for (String description : new String[] {original.getDescription(), "description ", null}) {
            Appointment a = original.copy();
            a.setComment(comment);
            a.setDescription(description);
            if (invalidRest) {
              a.setStatus(null); // required by the base definition
              a.getReasonFirstRep().getCodingFirstRep().setSystem("http://example.org/unknown-system").setCode("x");
            }
            List<String> alone = issues(a, true);
            List<String> whole = issues(a, false);
            assertThat(alone).as("%s with comment %s, description %s", ((Resource) a).getIdElement().getIdPart(),
                comment, description).isEqualTo(whole);
            sawWarning |= alone.stream().anyMatch(i -> i.contains("Appointment.comment"));
            // and again: now from the remembered outcomes
            assertThat(issues(a, true)).isEqualTo(whole);
            compared++;
          }
        }
      }
    }
    assertThat(compared).isGreaterThan(100);
    // the comparison covered issues about the free text itself, not only their absence
    assertThat(sawWarning).isTrue();
  }
}
