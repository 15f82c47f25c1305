package io.appointmentserver.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.AppointmentServer;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.NpmPackage;
import io.appointmentserver.support.TestServer;
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
 * example-genetics-2     loinc 55233-1                         sct 10828004
 * 1minute-apgar-score    loinc 9272-6, sct 169895004           0 {score}
 * </pre>
 *
 * and the components (each one element: a code and a value) and related observations:
 *
 * <pre>
 * blood-pressure         loinc 8480-6 (+ sct, acme bp-s): 107 mm[Hg];  loinc 8462-4: 60 mm[Hg]
 * blood-pressure-dar     loinc 8480-6 (+ sct, acme bp-s): 107 mm[Hg];  loinc 8462-4: no value
 * f205                   loinc 48643-1: &gt;60 mL/min/1.73m2;  loinc 48642-3: 60 mL/min/1.73m2
 * example-genetics-2     loinc 51967-8: sct 363358000;  loinc 53037-8: LA6669-1;  derived-from genetics-1
 * 1minute-apgar-score    loinc 32406-1: loinc/la LA6722-8, acme 0;  loinc 32407-9: LA6716-0, acme 0; …
 * example-genetics-3     derived-from genetics-1
 * example-genetics-4     has-member genetics-1, genetics-2, genetics-3
 * example-genetics-5     sequel-to genetics-1
 * </pre>
 *
 * A Group, a DocumentReference and a Sequence are written here (the official examples have no
 * coded characteristic, and a DocumentReference that refers to itself).
 */
class CompositeSearchTest {
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String BASE = TestServer.base();
  static final String SYS = "urn:composite:" + RUN;
  static final List<String> EXAMPLES = List.of("f001", "f003", "f202", "body-temperature", "example",
      "example-genetics-1", "example-haplotype1", "example-TPMT-diplotype", "example-genetics-2", "example-genetics-3",
      "example-genetics-4", "example-genetics-5", "blood-pressure", "blood-pressure-dar", "f205", "1minute-apgar-score");

  @BeforeAll
  static void data() throws Exception {
    Path pkg = NpmPackage.unpacked("hl7.fhir.r3.examples", "3.0.2", Path.of("target", "r3-examples"));
    for (String id : EXAMPLES) {
      JsonNode example = Json.parse(Files.readString(pkg.resolve("Observation-" + id + ".json")));
      ObjectNode o = (ObjectNode) Json.parse("{\"resourceType\":\"Observation\",\"id\":\"" + id + "-" + RUN
          + "\",\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\"" + id + "\"}]}");
      for (String field : List.of("status", "code", "valueQuantity", "valueCodeableConcept", "valueString", "component")) {
        if (example.has(field)) {
          o.set(field, example.get(field));
        }
      }
      if (id.startsWith("example-genetics-") && example.has("related")) {
        // to the examples of this run
        o.set("related", Json.parse("{\"r\":" + example.get("related").toString().replace("\"Observation/example-genetics-1\"",
            "\"Observation/example-genetics-1-" + RUN + "\"").replace("\"Observation/example-genetics-2\"",
            "\"Observation/example-genetics-2-" + RUN + "\"").replace("\"Observation/example-genetics-3\"",
            "\"Observation/example-genetics-3-" + RUN + "\"") + "}").get("r"));
      }
      HttpResponse<String> r = Http.put(BASE + "/Observation/" + id + "-" + RUN, o.toString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }
  }

  private static TreeSet<String> ids(String query) {
    return search("Observation", query);
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
        .containsExactly("example-genetics-1", "example-genetics-2");
    assertThat(ids("code-value-concept=" + q("http://loinc.org|55233-1$PA165971587"))).containsExactly("example-haplotype1");
    assertThat(ids("code-value-string=" + q("http://snomed.info|363779003$*1"))).containsExactly("example-TPMT-diplotype");
    assertThat(ids("code-value-string=" + q("http://snomed.info|363779003$*4"))).isEmpty(); // strings start with the value
  }

  @Test
  void aCompositeValueWithoutEachComponentOrWithAModifierIs400() {
    for (String query : List.of("code-value-quantity=" + q("http://loinc.org|8310-5"),
        "code-value-quantity=" + q("$39"), "code-value-quantity=" + q("a$b$c"),
        "component-code-value-quantity=" + q("http://loinc.org|8480-6"), "component-code-value-quantity=" + q("8480-6$abc"),
        "combo-code-value-quantity=" + q("8480-6$1$2"), "related=" + q("Observation/x$derived-from$x"),
        "component-code-value-quantity:exact=" + q("8480-6$1"), "code-value-quantity:missing=true")) {
      HttpResponse<String> r = Http.get(BASE + "/Observation?" + query);
      assertThat(r.statusCode()).as(query + " -> " + r.body()).isEqualTo(400);
      assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    }
  }

  @Test
  void componentCodeValueQuantityPairsTheCodeAndValueOfOneComponent() {
    assertThat(ids("component-code-value-quantity=" + q("http://loinc.org|8480-6$107")))
        .containsExactly("blood-pressure", "blood-pressure-dar");
    assertThat(ids("component-code-value-quantity=" + q("http://acme.org/devices/clinical-codes|bp-s$gt100")))
        .containsExactly("blood-pressure", "blood-pressure-dar");
    assertThat(ids("component-code-value-quantity=" + q("http://loinc.org|8462-4$60|http://unitsofmeasure.org|mm[Hg]")))
        .containsExactly("blood-pressure");
    assertThat(ids("component-code-value-quantity=" + q("8462-4$lt100"))).containsExactly("blood-pressure");
    assertThat(ids("component-code-value-quantity=" + q("48642-3$60,8462-4$60"))).containsExactly("blood-pressure", "f205");
    // the systolic code with the diastolic value (and the other way round): the values of two components, no match
    assertThat(ids("component-code-value-quantity=" + q("http://loinc.org|8480-6$60"))).isEmpty();
    assertThat(ids("component-code-value-quantity=" + q("http://loinc.org|8462-4$107"))).isEmpty();
    assertThat(ids("component-code-value-quantity=" + q("48643-1$60|http://unitsofmeasure.org|mm[Hg]"))).isEmpty();
    // the Observation's own code and value are no component
    assertThat(ids("component-code-value-quantity=" + q("http://loinc.org|9272-6$0"))).isEmpty();
    // repeated: both components, each within itself
    assertThat(ids("component-code-value-quantity=" + q("8480-6$107") + "&component-code-value-quantity=" + q("8462-4$60")))
        .containsExactly("blood-pressure");
  }

  @Test
  void componentCodeValueConceptPairsTheCodeAndConceptOfOneComponent() {
    assertThat(ids("component-code-value-concept=" + q("http://loinc.org|53037-8$LA6669-1")))
        .containsExactly("example-genetics-2");
    assertThat(ids("component-code-value-concept=" + q("51967-8$http://snomed.info/sct|363358000")))
        .containsExactly("example-genetics-2");
    // the first component's code with the second's value: no match
    assertThat(ids("component-code-value-concept=" + q("http://loinc.org|51967-8$LA6669-1"))).isEmpty();
    assertThat(ids("component-code-value-concept=" + q("http://loinc.org|32407-9$http://loinc.org/la|LA6716-0")))
        .containsExactly("1minute-apgar-score");
    assertThat(ids("component-code-value-concept=" + q("http://loinc.org|32407-9$http://loinc.org/la|LA6722-8"))).isEmpty();
  }

  @Test
  void comboPairsTheObservationsCodeAndValueOrAComponents() {
    assertThat(ids("combo-code-value-quantity=" + q("http://loinc.org|8480-6$107")))
        .containsExactly("blood-pressure", "blood-pressure-dar");
    assertThat(ids("combo-code-value-quantity=" + q("http://loinc.org|9272-6$0"))).containsExactly("1minute-apgar-score");
    assertThat(ids("combo-code-value-quantity=" + q("http://loinc.org|8310-5$gt37"))).containsExactly("f202");
    // the panel's code with a component's value, a component's code with the Observation's value: no match
    assertThat(ids("combo-code-value-quantity=" + q("http://loinc.org|85354-9$107"))).isEmpty();
    assertThat(ids("combo-code-value-quantity=" + q("http://loinc.org|32406-1$0"))).isEmpty();
    assertThat(ids("combo-code-value-concept=" + q("http://loinc.org|55233-1$http://snomed.info/sct|10828004")))
        .containsExactly("example-genetics-1", "example-genetics-2");
    assertThat(ids("combo-code-value-concept=" + q("http://loinc.org|53037-8$LA6669-1"))).containsExactly("example-genetics-2");
    assertThat(ids("combo-code-value-concept=" + q("http://loinc.org|55233-1$LA6669-1"))).isEmpty();
  }

  @Test
  void relatedPairsTheTargetAndTheTypeOfOneRelation() {
    String g1 = "Observation/example-genetics-1-" + RUN;
    assertThat(ids("related=" + q(g1 + "$derived-from"))).containsExactly("example-genetics-2", "example-genetics-3");
    assertThat(ids("related=" + q(g1 + "$has-member"))).containsExactly("example-genetics-4");
    assertThat(ids("related=" + q("example-genetics-1-" + RUN + "$sequel-to"))).containsExactly("example-genetics-5");
    assertThat(ids("related=" + q("Observation/example-genetics-2-" + RUN + "$has-member"))).containsExactly("example-genetics-4");
    assertThat(ids("related=" + q("Observation/example-genetics-2-" + RUN + "$derived-from"))).isEmpty();
  }

  @Test
  void groupCharacteristicValueAndDocumentReferenceRelationshipAndSequenceCoordinate() {
    String group = "{\"resourceType\":\"Group\",\"id\":\"grp-" + RUN + "\",\"identifier\":[{\"system\":\"" + SYS
        + "\",\"value\":\"grp\"}],\"type\":\"person\",\"actual\":true,\"characteristic\":["
        + "{\"code\":{\"coding\":[{\"system\":\"urn:c\",\"code\":\"gender\"}]},"
        + "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"urn:v\",\"code\":\"female\"}]},\"exclude\":false},"
        + "{\"code\":{\"coding\":[{\"system\":\"urn:c\",\"code\":\"smoker\"}]},\"valueBoolean\":true,\"exclude\":false}]}";
    assertThat(Http.put(BASE + "/Group/grp-" + RUN, group).statusCode()).isEqualTo(201);
    assertThat(search("Group", "characteristic-value=" + q("urn:c|gender$urn:v|female"))).containsExactly("grp");
    assertThat(search("Group", "characteristic-value=" + q("smoker$true"))).containsExactly("grp");
    assertThat(search("Group", "characteristic-value=" + q("urn:c|gender$true"))).isEmpty();
    assertThat(search("Group", "characteristic-value=" + q("smoker$female"))).isEmpty();

    for (String d : List.of("doca", "docb")) {
      assertThat(Http.put(BASE + "/DocumentReference/" + d + "-" + RUN, document(d, "")).statusCode()).isEqualTo(201);
    }
    assertThat(Http.put(BASE + "/DocumentReference/docc-" + RUN, document("docc", ",\"relatesTo\":["
        + "{\"code\":\"appends\",\"target\":{\"reference\":\"DocumentReference/doca-" + RUN + "\"}},"
        + "{\"code\":\"replaces\",\"target\":{\"reference\":\"DocumentReference/docb-" + RUN + "\"}}]"))
        .statusCode()).isEqualTo(201);
    assertThat(search("DocumentReference", "relationship=" + q("DocumentReference/doca-" + RUN + "$appends")))
        .containsExactly("docc");
    assertThat(search("DocumentReference", "relationship=" + q("docb-" + RUN + "$replaces"))).containsExactly("docc");
    assertThat(search("DocumentReference", "relationship=" + q("DocumentReference/docb-" + RUN + "$appends"))).isEmpty();

    // Sequence's coordinate: the chromosome and window start of its one referenceSeq (official graphic-example-4)
    String sequence = "{\"resourceType\":\"Sequence\",\"id\":\"seq-" + RUN + "\",\"identifier\":[{\"system\":\"" + SYS
        + "\",\"value\":\"seq\"}],\"type\":\"dna\",\"coordinateSystem\":0,\"referenceSeq\":{\"chromosome\":{\"coding\":"
        + "[{\"system\":\"http://hl7.org/fhir/chromosome-human\",\"code\":\"2\"}]},\"genomeBuild\":\"GRCh 38\","
        + "\"strand\":1,\"windowStart\":128273736,\"windowEnd\":128273740}}";
    assertThat(Http.put(BASE + "/Sequence/seq-" + RUN, sequence).statusCode()).isEqualTo(201);
    assertThat(search("Sequence", "coordinate=" + q("http://hl7.org/fhir/chromosome-human|2$128273736"))).containsExactly("seq");
    assertThat(search("Sequence", "coordinate=" + q("2$gt128273700"))).containsExactly("seq");
    assertThat(search("Sequence", "coordinate=" + q("2$1"))).isEmpty();
  }

  /**
   * A database indexed before the composites over repeating elements were (their types' resources
   * under another fingerprint, without the composites' rows) gets their rows from the pass over
   * each type at start-up.
   */
  @Test
  void aDatabaseIndexedBeforeTheCompositesGetsTheirRowsAtStartUp() throws Exception {
    String sys = SYS + ":before";
    String id = "bp-before-" + RUN;
    JsonNode bp = Json.parse(Files.readString(NpmPackage.unpacked("hl7.fhir.r3.examples", "3.0.2", Path.of("target",
        "r3-examples")).resolve("Observation-blood-pressure.json")));
    ObjectNode o = (ObjectNode) Json.parse("{\"resourceType\":\"Observation\",\"id\":\"" + id
        + "\",\"identifier\":[{\"system\":\"" + sys + "\",\"value\":\"bp\"}],\"status\":\"final\"}");
    o.set("code", bp.get("code"));
    o.set("component", bp.get("component"));
    assertThat(Http.put(BASE + "/Observation/" + id, o.toString()).statusCode()).isEqualTo(201);
    String query = "component-code-value-quantity=" + q("8462-4$60");
    assertThat(search(BASE, sys, "Observation", query)).containsExactly("bp-before");
    for (String table : List.of("search_indexed", "search_token", "search_quantity")) {
      sql(table.equals("search_indexed")
          ? "UPDATE search_indexed SET fingerprint = 'before-composites', rows_digest = NULL WHERE res_type = 'Observation'"
              + " AND res_id = '" + id + "'"
          : "DELETE FROM " + table + " WHERE res_type = 'Observation' AND res_id = '" + id + "' AND param LIKE '%$%'");
    }
    assertThat(search(BASE, sys, "Observation", query)).isEmpty();
    try (AppointmentServer restarted = TestServer.another(c -> c)) {
      restarted.reindexed().get(120, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(search(restarted.baseUrl(), sys, "Observation", query)).containsExactly("bp-before");
      assertThat(search(restarted.baseUrl(), sys, "Observation", "component-code-value-quantity=" + q("8480-6$60"))).isEmpty();
    }
  }

  private static void sql(String statement) throws java.sql.SQLException {
    try (java.sql.Connection c = TestServer.postgres().getPostgresDatabase().getConnection();
        java.sql.Statement st = c.createStatement()) {
      st.execute(statement);
    }
  }

  private static String document(String id, String more) {
    return "{\"resourceType\":\"DocumentReference\",\"id\":\"" + id + "-" + RUN + "\",\"identifier\":[{\"system\":\""
        + SYS + "\",\"value\":\"" + id + "\"}],\"status\":\"current\",\"type\":{\"coding\":[{\"system\":"
        + "\"http://loinc.org\",\"code\":\"34108-1\"}]},\"indexed\":\"2026-01-01T10:00:00Z\",\"content\":"
        + "[{\"attachment\":{\"url\":\"http://example.org/" + id + "\"}}]" + more + "}";
  }

  private static TreeSet<String> search(String type, String query) {
    return search(BASE, SYS, type, query);
  }

  private static TreeSet<String> search(String base, String system, String type, String query) {
    HttpResponse<String> r = Http.get(base + "/" + type + "?identifier=" + q(system + "|") + "&" + query);
    assertThat(r.statusCode()).as(query + " -> " + r.body()).isEqualTo(200);
    TreeSet<String> out = new TreeSet<>();
    JsonNode b = Json.parse(r.body());
    if (b.has("entry")) {
      b.get("entry").forEach(e -> out.add(e.get("resource").get("id").asText().replace("-" + RUN, "")));
    }
    return out;
  }
}
