package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.LenientErrorHandler;
import io.appointmentserver.support.NpmPackage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.dstu3.model.Appointment;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.Resource;
import org.hl7.fhir.dstu3.model.StringType;
import org.junit.jupiter.api.Test;

/**
 * A write encodes its resource once, before the version is known, and splices the server's id,
 * versionId and lastUpdated into that JSON ({@link ResourceCodec#encoded}): the result must be
 * exactly what HAPI writes for the resource with those values set, for every resource of the
 * official DSTU3 examples and the seed.
 */
class ResourceCodecTest {
  private static final FhirContext CTX = FhirContext.forDstu3Cached();
  private static final ResourceCodec CODEC = new ResourceCodec(CTX, ZoneId.of("Europe/Copenhagen"));
  private static final Instant AT = Instant.parse("2019-11-06T09:30:05.398Z");

  @Test
  void theSplicedJsonIsHapisForEveryOfficialExampleAndTheSeed() throws Exception {
    Path pkg = NpmPackage.unpacked("hl7.fhir.r3.examples", "3.0.2", Path.of("target", "r3-examples"));
    List<Path> files = new ArrayList<>(NpmPackage.jsonFiles(pkg));
    files.add(Path.of("..", "shared", "seed", "request-body.json"));
    int compared = 0;
    int spliced = 0;
    List<String> differ = new ArrayList<>();
    for (Path f : files) {
      String name = f.getFileName().toString();
      if (name.equals("package.json") || name.equals(".index.json")) {
        continue;
      }
      String json = Files.readString(f);
      Resource r;
      try {
        r = (Resource) CTX.newJsonParser().setParserErrorHandler(new LenientErrorHandler(false)).parseResource(json);
      } catch (DataFormatException | ClassCastException e) {
        continue; // not a DSTU3 resource HAPI reads (OfficialExamplesTest says which and why)
      }
      String type = r.getResourceType().name();
      ResourceCodec.Encoded encoded = CODEC.encoded(r, type);
      // what validation reads: the content without the server's id and meta
      if (!encoded.content().equals(withoutServerFields(json))) {
        differ.add(name + " (content)");
      }
      String rendered = encoded.render("id-" + compared, 12, AT);
      String expected = hapi(json, type, "id-" + compared, "12");
      if (!rendered.equals(expected)) {
        differ.add(name);
      }
      compared++;
      spliced += encoded.spliced() ? 1 : 0;
      // the resource carries the version it was rendered as, for what reads it after the write
      assertThat(r.getIdElement().getValue()).isEqualTo(type + "/id-" + (compared - 1) + "/_history/12");
      assertThat(r.getMeta().getVersionId()).isEqualTo("12");
    }
    assertThat(differ).isEmpty();
    assertThat(compared).isGreaterThan(8000);
    // meta with an id or extensions of its own is encoded again: rare
    assertThat(spliced).isGreaterThan(compared * 99 / 100);
  }

  @Test
  void aMetaWithExtensionsIsEncodedAgainAndStillRight() {
    Appointment a = new Appointment();
    a.setStatus(Appointment.AppointmentStatus.BOOKED);
    a.getMeta().addExtension("http://example.org/x", new StringType("y"));
    a.getMeta().addProfile("http://example.org/p");
    a.setComment("quote \" backslash \\ æøå \u0001");
    String json = CTX.newJsonParser().encodeResourceToString(a);
    ResourceCodec.Encoded encoded = CODEC.encoded(a, "Appointment");
    String rendered = encoded.render("a1", 3, AT);
    assertThat(rendered).isEqualTo(hapi(json, "Appointment", "a1", "3"));
    assertThat(rendered).contains("\"lastUpdated\":\"2019-11-06T10:30:05.398+01:00\"");
  }

  @Test
  void eachVersionRenderedFromOneEncodingHasItsOwnValues() {
    Appointment a = new Appointment();
    a.setStatus(Appointment.AppointmentStatus.PROPOSED);
    a.setComment("c");
    String json = CTX.newJsonParser().encodeResourceToString(a);
    ResourceCodec.Encoded encoded = CODEC.encoded(a, "Appointment");
    assertThat(encoded.spliced()).isTrue();
    for (int v = 1; v <= 3; v++) {
      Instant at = AT.plusMillis(v);
      assertThat(encoded.render("x" + v, v, at)).isEqualTo(hapi(json, "Appointment", "x" + v, Integer.toString(v), at));
    }
  }

  /** HAPI's JSON of {@code json} without its id, meta.versionId and meta.lastUpdated. */
  private static String withoutServerFields(String json) {
    Resource r = (Resource) CTX.newJsonParser().setParserErrorHandler(new LenientErrorHandler(false)).parseResource(json);
    r.setIdElement(null); // HAPI writes an id's version as meta.versionId
    r.getMeta().setVersionId(null).setLastUpdated(null);
    return CTX.newJsonParser().setOmitResourceId(true).encodeResourceToString(r);
  }

  private static String hapi(String json, String type, String id, String version) {
    return hapi(json, type, id, version, AT);
  }

  /** What HAPI writes for {@code json} with the server's id, versionId and lastUpdated set. */
  private static String hapi(String json, String type, String id, String version, Instant at) {
    Resource r = (Resource) CTX.newJsonParser().setParserErrorHandler(new LenientErrorHandler(false)).parseResource(json);
    r.setId(new IdType(type, id, version));
    r.getMeta().setVersionId(version);
    r.getMeta().setLastUpdatedElement(CODEC.lastUpdated(at));
    return CTX.newJsonParser().encodeResourceToString(r);
  }
}
