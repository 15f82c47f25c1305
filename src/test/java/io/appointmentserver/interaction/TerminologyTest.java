package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.AuditTrail;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import io.appointmentserver.support.Tokens;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The terminology operations over a DSTU3 value set, an eHealth one, and ones written here (a code
 * system with a hierarchy, value sets over it, a concept map).
 */
class TerminologyTest {
  static final String BASE = TestServer.base();
  static final String JSON = "application/fhir+json";
  static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  static final String CS = "http://example.org/cs/animals-" + RUN;
  static final String OTHER = "http://example.org/cs/dyr-" + RUN;
  static final String VS_MAMMALS = "http://example.org/vs/mammals-" + RUN;
  static final String VS_NESTED = "http://example.org/vs/nested-" + RUN;
  static final String VS_ALL = "http://example.org/vs/all-" + RUN;
  static final String VS_SMALL = "http://example.org/vs/small-" + RUN;
  static final String CM = "http://example.org/cm/animals-" + RUN;
  static final String APPOINTMENT_STATUS = "http://hl7.org/fhir/ValueSet/appointmentstatus";
  static final String EHEALTH_VS = "http://ehealth.sundhed.dk/vs/appointmenttype-codes";
  static final String EHEALTH_CS = "http://ehealth.sundhed.dk/cs/appointmenttype-codes";

  static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static JsonNode ok(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Json.parse(r.body());
  }

  static JsonNode get(String path) {
    return ok(Http.get(BASE + path));
  }

  static JsonNode post(String path, String body) {
    return ok(Http.post(BASE + path, body, "Content-Type", JSON));
  }

  /** The value of the output parameter {@code name} (its value[x] node), or null. */
  static JsonNode param(JsonNode parameters, String name) {
    for (JsonNode p : parameters.get("parameter")) {
      if (p.get("name").asText().equals(name)) {
        var it = p.fieldNames();
        while (it.hasNext()) {
          String f = it.next();
          if (f.startsWith("value")) {
            return p.get(f);
          }
        }
        return p;
      }
    }
    return null;
  }

  static List<JsonNode> params(JsonNode parameters, String name) {
    List<JsonNode> out = new ArrayList<>();
    parameters.get("parameter").forEach(p -> {
      if (p.get("name").asText().equals(name)) {
        out.add(p);
      }
    });
    return out;
  }

  static List<String> codes(JsonNode expansion) {
    List<String> out = new ArrayList<>();
    JsonNode contains = expansion.get("expansion").get("contains");
    if (contains != null) {
      contains.forEach(c -> out.add(c.get("code").asText()));
    }
    return out;
  }

  static String vs(String id, String url, String compose) {
    return "{\"resourceType\":\"ValueSet\",\"id\":\"" + id + "\",\"url\":\"" + url + "\",\"status\":\"active\","
        + "\"compose\":" + compose + "}";
  }

  @BeforeAll
  static void writeTerminology() {
    String cs = "{\"resourceType\":\"CodeSystem\",\"id\":\"animals-" + RUN + "\",\"url\":\"" + CS + "\","
        + "\"version\":\"1\",\"name\":\"Animals\",\"status\":\"active\",\"content\":\"complete\","
        + "\"hierarchyMeaning\":\"is-a\",\"property\":[{\"code\":\"size\",\"type\":\"code\"}],"
        + "\"concept\":[{\"code\":\"animal\",\"display\":\"Animal\",\"concept\":["
        + "{\"code\":\"mammal\",\"display\":\"Mammal\",\"concept\":["
        + "{\"code\":\"dog\",\"display\":\"Dog\",\"property\":[{\"code\":\"size\",\"valueCode\":\"medium\"}]},"
        + "{\"code\":\"cat\",\"display\":\"Cat\",\"property\":[{\"code\":\"size\",\"valueCode\":\"small\"}]}]},"
        + "{\"code\":\"bird\",\"display\":\"Bird\",\"concept\":["
        + "{\"code\":\"parrot\",\"display\":\"Parrot\",\"property\":[{\"code\":\"size\",\"valueCode\":\"small\"}]}]}]}]}";
    assertThat(Http.put(BASE + "/CodeSystem/animals-" + RUN, cs).statusCode()).isEqualTo(201);
    put("ValueSet", "mammals-" + RUN, vs("mammals-" + RUN, VS_MAMMALS, "{\"include\":[{\"system\":\"" + CS
        + "\",\"filter\":[{\"property\":\"concept\",\"op\":\"is-a\",\"value\":\"mammal\"}]}]}"));
    put("ValueSet", "nested-" + RUN, vs("nested-" + RUN, VS_NESTED, "{\"include\":[{\"valueSet\":[\"" + VS_MAMMALS
        + "\"]},{\"system\":\"" + CS + "\",\"concept\":[{\"code\":\"parrot\"}]}],\"exclude\":[{\"system\":\"" + CS
        + "\",\"concept\":[{\"code\":\"cat\"}]}]}"));
    put("ValueSet", "all-" + RUN, vs("all-" + RUN, VS_ALL, "{\"include\":[{\"system\":\"" + CS
        + "\",\"filter\":[{\"property\":\"concept\",\"op\":\"descendent-of\",\"value\":\"animal\"}]}]}"));
    put("ValueSet", "small-" + RUN, vs("small-" + RUN, VS_SMALL, "{\"include\":[{\"system\":\"" + CS
        + "\",\"filter\":[{\"property\":\"size\",\"op\":\"=\",\"value\":\"small\"}]}]}"));
    put("ConceptMap", "animals-" + RUN, "{\"resourceType\":\"ConceptMap\",\"id\":\"animals-" + RUN + "\",\"url\":\""
        + CM + "\",\"status\":\"active\",\"sourceUri\":\"" + VS_ALL + "\",\"targetUri\":\"http://example.org/vs/dyr\","
        + "\"group\":[{\"source\":\"" + CS + "\",\"target\":\"" + OTHER + "\",\"element\":["
        + "{\"code\":\"dog\",\"target\":[{\"code\":\"hund\",\"display\":\"Hund\",\"equivalence\":\"equivalent\"}]},"
        + "{\"code\":\"cat\",\"target\":[{\"code\":\"kat\",\"equivalence\":\"wider\"}]}]}]}");
  }

  static void put(String type, String id, String json) {
    HttpResponse<String> r = Http.put(BASE + "/" + type + "/" + id, json);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  @Test
  void builtInDstu3ValueSetAndCodeSystem() {
    JsonNode valid = get("/ValueSet/$validate-code?url=" + q(APPOINTMENT_STATUS)
        + "&system=http://hl7.org/fhir/appointmentstatus&code=booked");
    assertThat(param(valid, "result").asBoolean()).isTrue();
    assertThat(param(valid, "display").asText()).isEqualTo("Booked");
    JsonNode wrong = get("/ValueSet/$validate-code?url=" + q(APPOINTMENT_STATUS)
        + "&system=http://hl7.org/fhir/appointmentstatus&code=no-such-status");
    assertThat(param(wrong, "result").asBoolean()).isFalse();
    assertThat(param(wrong, "message").asText()).isNotBlank();
    JsonNode badDisplay = get("/ValueSet/$validate-code?url=" + q(APPOINTMENT_STATUS)
        + "&system=http://hl7.org/fhir/appointmentstatus&code=booked&display=Cancelled");
    assertThat(param(badDisplay, "result").asBoolean()).isFalse();
    assertThat(param(badDisplay, "message").asText()).contains("Cancelled");

    JsonNode expansion = get("/ValueSet/$expand?url=" + q(APPOINTMENT_STATUS));
    assertThat(codes(expansion)).contains("proposed", "booked", "cancelled", "noshow");
    assertThat(expansion.get("expansion").get("total").asInt()).isEqualTo(codes(expansion).size());

    JsonNode lookup = get("/CodeSystem/$lookup?system=http://hl7.org/fhir/appointmentstatus&code=booked");
    assertThat(param(lookup, "display").asText()).isEqualTo("Booked");
    assertThat(param(lookup, "name")).isNotNull();
  }

  @Test
  void ehealthValueSetFromTheIg() {
    JsonNode valid = get("/ValueSet/$validate-code?url=" + q(EHEALTH_VS) + "&system=" + q(EHEALTH_CS) + "&code=CHECKUP");
    assertThat(param(valid, "result").asBoolean()).as(valid.toString()).isTrue();
    JsonNode invalid = get("/ValueSet/$validate-code?url=" + q(EHEALTH_VS) + "&system=" + q(EHEALTH_CS) + "&code=NOPE");
    assertThat(param(invalid, "result").asBoolean()).isFalse();
    assertThat(codes(get("/ValueSet/$expand?url=" + q(EHEALTH_VS)))).contains("CHECKUP", "EMERGENCY", "ROUTINE");
    JsonNode lookup = get("/CodeSystem/$lookup?system=" + q(EHEALTH_CS) + "&code=CHECKUP");
    assertThat(param(lookup, "display")).isNotNull();
  }

  @Test
  void expandFollowsHierarchyNestingFiltersAndPaging() {
    assertThat(codes(get("/ValueSet/$expand?url=" + q(VS_MAMMALS)))).containsExactlyInAnyOrder("mammal", "dog", "cat");
    assertThat(codes(get("/ValueSet/$expand?url=" + q(VS_NESTED)))).containsExactlyInAnyOrder("mammal", "dog", "parrot");
    assertThat(codes(get("/ValueSet/$expand?url=" + q(VS_SMALL)))).containsExactlyInAnyOrder("cat", "parrot");
    JsonNode all = get("/ValueSet/$expand?url=" + q(VS_ALL));
    assertThat(codes(all)).containsExactlyInAnyOrder("mammal", "dog", "cat", "bird", "parrot");

    JsonNode page = get("/ValueSet/$expand?url=" + q(VS_ALL) + "&count=2&offset=1");
    assertThat(codes(page)).hasSize(2).isEqualTo(codes(all).subList(1, 3));
    assertThat(page.get("expansion").get("total").asInt()).isEqualTo(5);
    assertThat(page.get("expansion").get("offset").asInt()).isEqualTo(1);
    assertThat(codes(get("/ValueSet/$expand?url=" + q(VS_ALL) + "&filter=PARR"))).containsExactly("parrot");
    assertThat(codes(get("/ValueSet/$expand?url=" + q(VS_ALL) + "&offset=5"))).isEmpty();

    // the instance, and a value set in the body (POST)
    assertThat(codes(get("/ValueSet/nested-" + RUN + "/$expand"))).containsExactlyInAnyOrder("mammal", "dog", "parrot");
    String body = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"valueSet\",\"resource\":"
        + vs("inline", "http://example.org/vs/inline", "{\"include\":[{\"system\":\"" + CS
        + "\",\"filter\":[{\"property\":\"concept\",\"op\":\"is-a\",\"value\":\"bird\"}]}]}")
        + "},{\"name\":\"count\",\"valueInteger\":1}]}";
    JsonNode inline = post("/ValueSet/$expand", body);
    assertThat(inline.get("expansion").get("total").asInt()).isEqualTo(2);
    assertThat(codes(inline)).hasSize(1);
  }

  @Test
  void validateCodeInWrittenValueSetsAllForms() {
    JsonNode dog = get("/ValueSet/$validate-code?url=" + q(VS_NESTED) + "&system=" + q(CS) + "&code=dog");
    assertThat(param(dog, "result").asBoolean()).isTrue();
    assertThat(param(dog, "display").asText()).isEqualTo("Dog");
    JsonNode cat = get("/ValueSet/$validate-code?url=" + q(VS_NESTED) + "&system=" + q(CS) + "&code=cat");
    assertThat(param(cat, "result").asBoolean()).as("excluded").isFalse();
    JsonNode instance = get("/ValueSet/mammals-" + RUN + "/$validate-code?system=" + q(CS) + "&code=cat");
    assertThat(param(instance, "result").asBoolean()).isTrue();

    String coding = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"url\",\"valueUri\":\"" + VS_SMALL
        + "\"},{\"name\":\"coding\",\"valueCoding\":{\"system\":\"" + CS + "\",\"code\":\"parrot\"}}]}";
    assertThat(param(post("/ValueSet/$validate-code", coding), "result").asBoolean()).isTrue();
    String concept = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"url\",\"valueUri\":\"" + VS_SMALL
        + "\"},{\"name\":\"codeableConcept\",\"valueCodeableConcept\":{\"coding\":[{\"system\":\"" + CS
        + "\",\"code\":\"dog\"},{\"system\":\"" + CS + "\",\"code\":\"cat\"}]}}]}";
    assertThat(param(post("/ValueSet/$validate-code", concept), "result").asBoolean()).isTrue();
    String dogOnly = concept.replace(",{\"system\":\"" + CS + "\",\"code\":\"cat\"}", "");
    assertThat(param(post("/ValueSet/$validate-code", dogOnly), "result").asBoolean()).isFalse();
  }

  @Test
  void lookupAndSubsumesWalkTheHierarchy() {
    JsonNode mammal = get("/CodeSystem/$lookup?system=" + q(CS) + "&code=mammal");
    assertThat(param(mammal, "display").asText()).isEqualTo("Mammal");
    assertThat(properties(mammal, "parent")).containsExactly("animal");
    assertThat(properties(mammal, "child")).containsExactlyInAnyOrder("dog", "cat");
    JsonNode onlyParent = get("/CodeSystem/$lookup?system=" + q(CS) + "&code=dog&property=parent");
    assertThat(properties(onlyParent, "parent")).containsExactly("mammal");
    assertThat(properties(onlyParent, "child")).isEmpty();
    String coding = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"coding\",\"valueCoding\":{\"system\":\""
        + CS + "\",\"code\":\"parrot\"}}]}";
    assertThat(param(post("/CodeSystem/$lookup", coding), "display").asText()).isEqualTo("Parrot");

    assertThat(subsumes("animal", "dog")).isEqualTo("subsumes");
    assertThat(subsumes("dog", "animal")).isEqualTo("subsumed-by");
    assertThat(subsumes("dog", "cat")).isEqualTo("not-subsumed");
    assertThat(subsumes("dog", "dog")).isEqualTo("equivalent");
    assertThat(param(get("/CodeSystem/animals-" + RUN + "/$subsumes?codeA=bird&codeB=parrot"), "outcome").asText())
        .isEqualTo("subsumes");
    String codings = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"codingA\",\"valueCoding\":{\"system\":\""
        + CS + "\",\"code\":\"cat\"}},{\"name\":\"codingB\",\"valueCoding\":{\"system\":\"" + CS + "\",\"code\":\"mammal\"}}]}";
    assertThat(param(post("/CodeSystem/$subsumes", codings), "outcome").asText()).isEqualTo("subsumed-by");
  }

  static String subsumes(String a, String b) {
    return param(get("/CodeSystem/$subsumes?system=" + q(CS) + "&codeA=" + a + "&codeB=" + b), "outcome").asText();
  }

  static List<String> properties(JsonNode parameters, String code) {
    List<String> out = new ArrayList<>();
    for (JsonNode p : params(parameters, "property")) {
      String c = null;
      String v = null;
      for (JsonNode part : p.get("part")) {
        if (part.get("name").asText().equals("code")) {
          c = part.get("valueCode").asText();
        } else if (part.get("name").asText().equals("value")) {
          v = part.get("valueCode").asText();
        }
      }
      if (code.equals(c)) {
        out.add(v);
      }
    }
    return out;
  }

  @Test
  void translateForwardAndReverse() {
    JsonNode dog = get("/ConceptMap/$translate?url=" + q(CM) + "&system=" + q(CS) + "&code=dog");
    assertThat(param(dog, "result").asBoolean()).isTrue();
    JsonNode match = params(dog, "match").get(0);
    assertThat(match.toString()).contains("\"valueCode\":\"equivalent\"").contains("\"code\":\"hund\"")
        .contains(OTHER).contains(CM);

    JsonNode reverse = get("/ConceptMap/$translate?system=" + q(OTHER) + "&code=kat&reverse=true");
    assertThat(param(reverse, "result").asBoolean()).isTrue();
    assertThat(params(reverse, "match").get(0).toString()).contains("\"code\":\"cat\"").contains("narrower");

    String coding = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"coding\",\"valueCoding\":{\"system\":\""
        + CS + "\",\"code\":\"parrot\"}},{\"name\":\"targetsystem\",\"valueUri\":\"" + OTHER + "\"}]}";
    JsonNode none = post("/ConceptMap/animals-" + RUN + "/$translate", coding);
    assertThat(param(none, "result").asBoolean()).isFalse();
    assertThat(params(none, "match")).isEmpty();
    assertThat(param(get("/ConceptMap/$translate?source=" + q(VS_ALL) + "&system=" + q(CS) + "&code=cat"), "result")
        .asBoolean()).isTrue();
    assertThat(param(get("/ConceptMap/$translate?source=http://example.org/vs/none&system=" + q(CS) + "&code=cat"),
        "result").asBoolean()).isFalse();
  }

  @Test
  void writtenCodeSystemIsUsedAtOnceAfterAChange() {
    String id = "changing-" + RUN;
    String url = "http://example.org/cs/changing-" + RUN;
    String cs = "{\"resourceType\":\"CodeSystem\",\"id\":\"" + id + "\",\"url\":\"" + url
        + "\",\"status\":\"active\",\"content\":\"complete\",\"concept\":[{\"code\":\"a\"}]}";
    put("CodeSystem", id, cs);
    assertThat(Http.get(BASE + "/CodeSystem/$lookup?system=" + q(url) + "&code=b").statusCode()).isEqualTo(404);
    assertThat(Http.put(BASE + "/CodeSystem/" + id, cs.replace("{\"code\":\"a\"}", "{\"code\":\"a\"},{\"code\":\"b\"}"))
        .statusCode()).isEqualTo(200);
    assertThat(Http.get(BASE + "/CodeSystem/$lookup?system=" + q(url) + "&code=b").statusCode()).isEqualTo(200);
  }

  @Test
  void tooLargeExpansionIsRefusedButItsCodesStillValidate() {
    String url = "http://example.org/cs/large-" + RUN;
    StringBuilder concepts = new StringBuilder();
    for (int i = 0; i <= 10_000; i++) {
      concepts.append(i == 0 ? "" : ",").append("{\"code\":\"c").append(i).append("\"}");
    }
    put("CodeSystem", "large-" + RUN, "{\"resourceType\":\"CodeSystem\",\"id\":\"large-" + RUN + "\",\"url\":\"" + url
        + "\",\"status\":\"active\",\"content\":\"complete\",\"concept\":[" + concepts + "]}");
    String vsUrl = "http://example.org/vs/large-" + RUN;
    put("ValueSet", "large-" + RUN, vs("large-" + RUN, vsUrl, "{\"include\":[{\"system\":\"" + url + "\"}]}"));
    HttpResponse<String> r = Http.get(BASE + "/ValueSet/$expand?url=" + q(vsUrl) + "&count=10");
    assertStatus(r, 400);
    assertThat(r.body()).contains("too-costly").contains("10000");
    JsonNode valid = get("/ValueSet/$validate-code?url=" + q(vsUrl) + "&system=" + q(url) + "&code=c9999");
    assertThat(param(valid, "result").asBoolean()).isTrue();
  }

  @Test
  void badRequestsUnknownUrlsAndPrivileges() throws Exception {
    assertStatus(Http.get(BASE + "/ValueSet/$validate-code?url=" + q(VS_ALL)), 400); // no code
    assertStatus(Http.get(BASE + "/ValueSet/$expand"), 400); // no value set
    assertStatus(Http.get(BASE + "/ValueSet/$expand?url=" + q(VS_ALL) + "&count=-1"), 400);
    assertStatus(Http.get(BASE + "/ValueSet/$expand?url=" + q(VS_ALL) + "&count=many"), 400);
    assertStatus(Http.get(BASE + "/CodeSystem/$lookup?code=dog"), 400); // no system
    assertStatus(Http.get(BASE + "/CodeSystem/$subsumes?system=" + q(CS) + "&codeA=dog"), 400);
    assertStatus(Http.get(BASE + "/ValueSet/$expand?url=http://example.org/vs/unknown"), 404);
    assertStatus(Http.get(BASE + "/ValueSet/$validate-code?url=http://example.org/vs/unknown&system=x&code=y"), 404);
    assertStatus(Http.get(BASE + "/ConceptMap/$translate?url=http://example.org/cm/unknown&system=x&code=y"), 404);
    assertStatus(Http.get(BASE + "/CodeSystem/$lookup?system=" + q(CS) + "&code=unicorn"), 404);
    assertStatus(Http.get(BASE + "/CodeSystem/$lookup?system=http://example.org/cs/unknown&code=x"), 404);
    assertStatus(Http.get(BASE + "/CodeSystem/$subsumes?system=" + q(CS) + "&codeA=dog&codeB=unicorn"), 404);
    assertStatus(Http.get(BASE + "/ValueSet/no-such-value-set/$expand"), 404);

    String readOnly = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("ValueSet.read"), Map.of(), null, 300);
    assertStatus(Http.get(BASE + "/ValueSet/$expand?url=" + q(VS_ALL), "Authorization", readOnly), 403);
    String expandOnly = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("ValueSet$expand"), Map.of(),
        null, 300);
    assertStatus(Http.get(BASE + "/ValueSet/$expand?url=" + q(VS_ALL), "Authorization", expandOnly), 200);
    // the instance is read: that needs the read privilege too
    assertStatus(Http.get(BASE + "/ValueSet/all-" + RUN + "/$expand", "Authorization", expandOnly), 403);
    assertStatus(Http.get(BASE + "/CodeSystem/$lookup?system=" + q(CS) + "&code=dog", "Authorization", expandOnly), 403);
    String all = "Bearer " + Tokens.sign(TestServer.dataDir(), "SYSTEM", List.of("ValueSet.*"), Map.of(), null, 300);
    assertStatus(Http.get(BASE + "/ValueSet/all-" + RUN + "/$expand", "Authorization", all), 200);
  }

  @Test
  void operationsAreAudited() throws Exception {
    String practitioner = "Bearer " + Tokens.sign(TestServer.dataDir(), "PRACTITIONER",
        List.of("ValueSet$validate-code", "ConceptMap$translate"),
        Map.of("care_team_id", "http://organization.fut.trifork.com/fhir/CareTeam/35102"), null, 300);
    String trace = UUID.randomUUID().toString().replace("-", "");
    HttpResponse<String> r = Http.get(BASE + "/ValueSet/$validate-code?url=" + q(VS_ALL) + "&system=" + q(CS)
        + "&code=dog", "Authorization", practitioner, "X-B3-TraceId", trace);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<JsonNode> events = AuditTrail.eventsOf(trace, 1);
    assertThat(events).isNotEmpty();
    assertThat(events.get(0).toString()).contains("$validate-code");
  }

  static void assertStatus(HttpResponse<String> r, int status) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    if (status >= 400) {
      assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    }
  }
}
