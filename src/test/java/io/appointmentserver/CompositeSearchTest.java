package io.appointmentserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Composite search parameters (DSTU3 search.html "Composite Search Parameters"): Observation's
 * {@code code-value-quantity}, {@code code-value-concept} and {@code code-value-string} on the
 * code and value of official DSTU3 examples (npm {@code hl7.fhir.r3.examples}; the references
 * left out, each given an identifier of this run). The expected matches are worked out by hand
 * from the examples' codes and values:
 *
 * <pre>
 * f001                   loinc 15074-8                         6.3 mmol/L
 * f003                   loinc 11557-6                         6.2 kPa
 * f202                   acme BT, loinc 8310-5, 8331-1, sct    39 Cel
 * body-temperature       loinc 8310-5                          36.5 Cel
 * example                loinc 29463-7, 3141-9, sct, acme      185 [lb_av]
 * example-genetics-1     loinc 55233-1                         sct 10828004
 * example-haplotype1     loinc 55233-1                         pharmakb PA165971587
 * example-TPMT-diplotype snomed.info 363779003                 "*1/*4"
 * </pre>
 */
class CompositeSearchTest {
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String BASE = TestServer.base();
  static final String SYS = "urn:composite:" + RUN;
  static final List<String> EXAMPLES = List.of("f001", "f003", "f202", "body-temperature", "example",
      "example-genetics-1", "example-haplotype1", "example-TPMT-diplotype");

  @BeforeAll
  static void data() throws Exception {
    Path pkg = NpmPackage.unpacked("hl7.fhir.r3.examples", "3.0.2", Path.of("target", "r3-examples"));
    for (String id : EXAMPLES) {
      JsonNode example = Json.parse(Files.readString(pkg.resolve("Observation-" + id + ".json")));
      ObjectNode o = (ObjectNode) Json.parse("{\"resourceType\":\"Observation\",\"id\":\"" + id + "-" + RUN
          + "\",\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\"" + id + "\"}]}");
      for (String field : List.of("status", "code", "valueQuantity", "valueCodeableConcept", "valueString")) {
        if (example.has(field)) {
          o.set(field, example.get(field));
        }
      }
      HttpResponse<String> r = Http.put(BASE + "/Observation/" + id + "-" + RUN, o.toString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }
  }

  private static TreeSet<String> ids(String query) {
    HttpResponse<String> r = Http.get(BASE + "/Observation?identifier=" + q(SYS + "|") + "&" + query);
    assertThat(r.statusCode()).as(query + " -> " + r.body()).isEqualTo(200);
    TreeSet<String> out = new TreeSet<>();
    JsonNode b = Json.parse(r.body());
    if (b.has("entry")) {
      b.get("entry").forEach(e -> out.add(e.get("resource").get("id").asText().replace("-" + RUN, "")));
    }
    return out;
  }

  private static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Test
  void codeValueQuantityMatchesTheCodeAndTheValueOfOneObservation() {
    assertThat(ids("code-value-quantity=" + q("http://loinc.org|8310-5$gt37"))).containsExactly("f202");
    assertThat(ids("code-value-quantity=" + q("http://loinc.org|8310-5$lt40"))).containsExactly("body-temperature", "f202");
    assertThat(ids("code-value-quantity=" + q("http://loinc.org|8310-5$36.5|http://unitsofmeasure.org|Cel")))
        .containsExactly("body-temperature");
    assertThat(ids("code-value-quantity=" + q("29463-7$185"))).containsExactly("example");
    // commas are alternatives, each a code and a value together
    assertThat(ids("code-value-quantity=" + q("http://loinc.org|15074-8$6.3,http://loinc.org|11557-6$6.2")))
        .containsExactly("f001", "f003");
    // the code of one and the value of the other match nothing
    assertThat(ids("code-value-quantity=" + q("http://loinc.org|15074-8$6.2"))).isEmpty();
    // repeated, both must hold
    assertThat(ids("code-value-quantity=" + q("http://loinc.org|8310-5$gt30") + "&code-value-quantity="
        + q("http://loinc.org|8331-1$39"))).containsExactly("f202");
  }

  @Test
  void codeValueConceptAndCodeValueString() {
    assertThat(ids("code-value-concept=" + q("http://loinc.org|55233-1$http://snomed.info/sct|10828004")))
        .containsExactly("example-genetics-1");
    assertThat(ids("code-value-concept=" + q("http://loinc.org|55233-1$PA165971587"))).containsExactly("example-haplotype1");
    assertThat(ids("code-value-string=" + q("http://snomed.info|363779003$*1"))).containsExactly("example-TPMT-diplotype");
    assertThat(ids("code-value-string=" + q("http://snomed.info|363779003$*4"))).isEmpty(); // strings start with the value
  }

  @Test
  void aCompositeValueWithoutEachComponentAndTheCompositesOverRepeatingElementsAre400() {
    for (String query : List.of("code-value-quantity=" + q("http://loinc.org|8310-5"),
        "code-value-quantity=" + q("$39"), "code-value-quantity=" + q("a$b$c"),
        "component-code-value-quantity=" + q("http://loinc.org|8480-6$lt60"),
        "code-value-quantity:missing=true")) {
      HttpResponse<String> r = Http.get(BASE + "/Observation?" + query);
      assertThat(r.statusCode()).as(query + " -> " + r.body()).isEqualTo(400);
      assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    }
  }
}
