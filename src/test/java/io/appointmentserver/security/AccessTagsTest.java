package io.appointmentserver.security;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.LenientErrorHandler;
import io.appointmentserver.support.NpmPackage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.instance.model.api.IBaseReference;
import org.junit.jupiter.api.Test;

/**
 * The patient tags a write stores ({@link AccessTags}) walk each compartment path of the type once:
 * they must be the patients HAPI's own compartment reading finds, for every resource of the
 * official DSTU3 examples.
 */
class AccessTagsTest {
  private static final FhirContext CTX = FhirContext.forDstu3Cached();

  @Test
  void thePatientTagsAreThoseOfHapisPatientCompartmentForEveryOfficialExample() throws Exception {
    Path pkg = NpmPackage.unpacked("hl7.fhir.r3.examples", "3.0.2", Path.of("target", "r3-examples"));
    AccessTags tags = new AccessTags(CTX, Map.of());
    int compared = 0;
    int tagged = 0;
    List<String> differ = new ArrayList<>();
    for (Path f : NpmPackage.jsonFiles(pkg)) {
      Resource r;
      try {
        r = (Resource) CTX.newJsonParser().setParserErrorHandler(new LenientErrorHandler(false))
            .parseResource(Files.readString(f));
      } catch (DataFormatException | ClassCastException e) {
        continue;
      }
      String type = r.getResourceType().name();
      Set<String> expected = new TreeSet<>();
      if (type.equals("Patient") && r.getIdElement().hasIdPart()) {
        expected.add(AccessTags.PATIENT + "Patient/" + r.getIdElement().getIdPart());
      }
      if (!CTX.getResourceDefinition(type).getSearchParamsForCompartmentName("Patient").isEmpty()) {
        CTX.newTerser().getCompartmentReferencesForResource("Patient", r, Set.<String>of())
            .map(IBaseReference::getReferenceElement)
            .map(id -> id.getValue())
            .filter(ref -> ref != null && !ref.startsWith("#") && ref.contains("Patient/"))
            .forEach(ref -> expected.add(AccessTags.PATIENT + AccessTags.withoutVersion(ref)));
      }
      Set<String> actual = new TreeSet<>(List.of(tags.of(type, r)));
      if (!actual.equals(expected)) {
        differ.add(f.getFileName() + ": " + actual + " vs " + expected);
      }
      compared++;
      tagged += expected.isEmpty() ? 0 : 1;
    }
    assertThat(differ).isEmpty();
    assertThat(compared).isGreaterThan(8000);
    assertThat(tagged).isGreaterThan(300);
  }
}
