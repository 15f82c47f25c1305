package io.appointmentserver.search;

import static io.appointmentserver.search.SearchData.BASE;
import static io.appointmentserver.search.SearchData.PA;
import static io.appointmentserver.search.SearchData.PB;
import static io.appointmentserver.search.SearchData.PR;
import static io.appointmentserver.search.SearchData.RUN;
import static io.appointmentserver.search.SearchData.SYS;
import static io.appointmentserver.search.SearchData.T1;
import static io.appointmentserver.search.SearchData.T2;
import static io.appointmentserver.search.SearchData.appointments;
import static io.appointmentserver.search.SearchData.ids;
import static io.appointmentserver.search.SearchData.pages;
import static io.appointmentserver.search.SearchData.patients;
import static io.appointmentserver.search.SearchData.put;
import static io.appointmentserver.search.SearchData.q;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Type search over HTTP, on resources the test writes, each expectation worked out by hand from
 * the DSTU3 search rules (search.html): which of the resources a query must return, and which
 * queries are refused. Every query is narrowed to this run's resources by an identifier system (or
 * a patient) of its own ({@link SearchData}).
 */
class SearchTest {
  @BeforeAll
  static void data() {
    SearchData.write();
  }

  // ---------------------------------------------------------------- string

  @Test
  void stringMatchesTheStartIgnoringCaseAndAccents() {
    // as HAPI compares: accents (marks) go, letters of their own such as ø stay
    assertThat(patients("family=sorensen")).containsExactly("p2");
    assertThat(patients("family=S%C3%98R")).containsExactly("p1");
    assertThat(patients("given=ASE")).containsExactly("p1");
    assertThat(patients("given=%C3%A5s")).containsExactly("p1");
    assertThat(patients("family=sen")).isEmpty();
    // name covers family and given
    assertThat(patients("name=s%C3%B8ren")).containsExactly("p1", "p3");
  }

  @Test
  void stringExactAndContains() {
    assertThat(patients("family:exact=S%C3%B8rensen")).containsExactly("p1");
    assertThat(patients("family:exact=s%C3%B8rensen")).isEmpty();
    assertThat(patients("family:contains=SEN")).containsExactly("p1", "p2", "p3", "p4");
    assertThat(patients("family:contains=n-s")).containsExactly("p4");
  }

  @Test
  void commasAreOrAndRepeatsAreAnd() {
    assertThat(patients("family=han,nielsen")).containsExactly("p3", "p4");
    assertThat(patients("family=s&given=bo")).containsExactly("p2");
    assertThat(patients("family=s&family=sorensen")).containsExactly("p2");
    assertThat(patients("family=hansen&family=sorensen")).isEmpty();
  }

  // ---------------------------------------------------------------- token

  @Test
  void tokenCodeSystemAndNot() {
    assertThat(patients("gender=male")).containsExactly("p2", "p3");
    assertThat(patients("gender=" + q("http://hl7.org/fhir/administrative-gender|female"))).containsExactly("p1");
    assertThat(patients("gender=" + q("http://hl7.org/fhir/administrative-gender|"))).containsExactly("p1", "p2", "p3");
    // |code is a code without a system: gender always has one
    assertThat(patients("gender=" + q("|male"))).isEmpty();
    assertThat(patients("gender=" + q("urn:other|male"))).isEmpty();
    // :not also returns the resources without any value
    assertThat(patients("gender:not=male")).containsExactly("p1", "p4");
    assertThat(patients("identifier=" + q(SYS + "|p2-" + RUN))).containsExactly("p2");
    assertThat(patients("active=true")).containsExactly("p1");
    assertThat(patients("active=false")).containsExactly("p2");
  }

  @Test
  void missing() {
    assertThat(patients("active:missing=true")).containsExactly("p3", "p4");
    assertThat(patients("active:missing=false")).containsExactly("p1", "p2");
    assertThat(patients("gender:missing=true")).containsExactly("p4");
    assertThat(patients("given:missing=true")).containsExactly("p4");
  }

  @Test
  void idParameter() {
    assertThat(patients("_id=p1-" + RUN + ",p3-" + RUN)).containsExactly("p1", "p3");
    assertThat(patients("_id:not=p1-" + RUN)).containsExactly("p2", "p3", "p4");
  }

  // ---------------------------------------------------------------- date

  @Test
  void datePrefixesOverThePrecisionOfTheValues() {
    // p1 1980-05-17, p2 1980-05 (all of May), p3 1975-12-31, p4 1980-05-18
    assertThat(patients("birthdate=1980-05-17")).containsExactly("p1");
    assertThat(patients("birthdate=eq1980-05")).containsExactly("p1", "p2", "p4");
    assertThat(patients("birthdate=1980")).containsExactly("p1", "p2", "p4");
    assertThat(patients("birthdate=ne1980-05")).containsExactly("p3");
    assertThat(patients("birthdate=lt1980")).containsExactly("p3");
    // gt: the range after the value's overlaps the resource's; ge also: the value's range contains it
    assertThat(patients("birthdate=gt1980-05-17")).containsExactly("p2", "p4");
    assertThat(patients("birthdate=ge1980-05-18")).containsExactly("p2", "p4");
    assertThat(patients("birthdate=le1980-05-17")).containsExactly("p1", "p2", "p3");
    assertThat(patients("birthdate=lt1980-05-17")).containsExactly("p2", "p3");
    // sa: starts after the value ends; eb: ends before the value starts
    assertThat(patients("birthdate=sa1980-05-17")).containsExactly("p4");
    assertThat(patients("birthdate=eb1980-05-18")).containsExactly("p1", "p3");
    assertThat(patients("birthdate=ge1980-01-01&birthdate=lt1980-05-18")).containsExactly("p1", "p2");
    // ap: within a tenth of the distance from now (which decades ago is years)
    assertThat(patients("birthdate=ap1980-05-17")).contains("p1", "p2", "p4");
    assertThat(patients("birthdate=ap1900")).isEmpty();
  }

  @Test
  void dateTimesCompareAsInstantsAndDaysInTheServersZone() {
    // a3 starts 2026-12-01T23:30+01:00, which is 22:30 UTC: still 1 December in Copenhagen
    assertThat(appointments("date=2026-12-01")).containsExactly("a1", "a3");
    assertThat(appointments("date=ge2026-12-02")).containsExactly("a2");
    assertThat(appointments("date=" + q("2026-12-01T09:00:00+01:00"))).containsExactly("a1");
    assertThat(appointments("date=" + q("2026-12-01T08:00:00Z"))).containsExactly("a1");
    assertThat(appointments("date=" + q("gt2026-12-01T09:00:00+01:00"))).containsExactly("a2", "a3");
    assertThat(appointments("date=2026-11")).isEmpty();
  }

  @Test
  void theBundleIsStampedInTheServersZoneLikeItsResources() {
    JsonNode page = pages(BASE + "/Patient?identifier=" + q(SYS + "|")).get(0);
    String bundle = page.get("meta").get("lastUpdated").asText();
    String resource = page.get("entry").get(0).get("resource").get("meta").get("lastUpdated").asText();
    // both end in the offset of FHIR_TIMEZONE (the seed's "+01:00" in Copenhagen winter time)
    assertThat(bundle.substring(bundle.length() - 6)).isEqualTo(resource.substring(resource.length() - 6));
  }

  @Test
  void lastUpdated() {
    assertThat(patients("_lastUpdated=gt2000-01-01")).containsExactly("p1", "p2", "p3", "p4");
    assertThat(patients("_lastUpdated=lt2000-01-01")).isEmpty();
  }

  // ---------------------------------------------------------------- reference and eHealth

  @Test
  void referenceByIdTypeAndIdAbsoluteUrlAndTypeModifier() {
    assertThat(appointments("patient=" + PA)).containsExactly("a1", "a2");
    assertThat(appointments("patient=Patient/" + PA)).containsExactly("a1", "a2");
    assertThat(appointments("patient=" + q(BASE + "/Patient/" + PA))).containsExactly("a1", "a2");
    assertThat(appointments("actor:Patient=" + PB)).containsExactly("a3");
    assertThat(appointments("actor=Practitioner/" + PR)).containsExactly("a1", "a2", "a3");
    // the practitioner parameter only looks at practitioners
    assertThat(appointments("practitioner=" + PA)).isEmpty();
    assertThat(appointments("patient=" + PA + "," + PB)).containsExactly("a1", "a2", "a3");
  }

  @Test
  void ehealthAppointmentParameters() {
    assertThat(appointments("patient=" + PA + "&date=ge2026-12-01&status=booked")).containsExactly("a1");
    assertThat(appointments("responsible=" + q(T1))).containsExactly("a1", "a3");
    assertThat(appointments("careteamParticipant=" + q(T2))).containsExactly("a2");
    assertThat(appointments("appointmentGroupId=g-" + RUN)).containsExactly("a1", "a3");
    assertThat(appointments("part-status=needs-action&status=cancelled")).containsExactly("a2");
    assertThat(appointments("status:not=booked")).containsExactly("a2");
  }

  @Test
  void numberQuantityAndUri() {
    put("RiskAssessment", "ra-" + RUN, "{\"resourceType\":\"RiskAssessment\",\"id\":\"ra-" + RUN + "\",\"status\":\"final\","
        + "\"identifier\":{\"system\":\"" + SYS + "\",\"value\":\"ra\"},\"prediction\":[{\"probabilityDecimal\":0.25}]}");
    // 0.25 is within [0.245, 0.255) of 0.25; 0.3 means [0.25, 0.35)
    assertThat(ids("RiskAssessment?identifier=" + q(SYS + "|") + "&probability=0.25")).containsExactly("ra");
    assertThat(ids("RiskAssessment?identifier=" + q(SYS + "|") + "&probability=0.3")).containsExactly("ra");
    assertThat(ids("RiskAssessment?identifier=" + q(SYS + "|") + "&probability=0.2")).isEmpty();
    assertThat(ids("RiskAssessment?identifier=" + q(SYS + "|") + "&probability=gt0.2")).containsExactly("ra");
    assertThat(ids("RiskAssessment?identifier=" + q(SYS + "|") + "&probability=lt0.25")).isEmpty();

    put("Observation", "ob-" + RUN, "{\"resourceType\":\"Observation\",\"id\":\"ob-" + RUN + "\",\"status\":\"final\","
        + "\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\"ob\"}],\"code\":{\"text\":\"weight\"},"
        + "\"valueQuantity\":{\"value\":72.5,\"unit\":\"kg\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"kg\"}}");
    String obs = "Observation?identifier=" + q(SYS + "|") + "&value-quantity=";
    assertThat(ids(obs + q("72.5|http://unitsofmeasure.org|kg"))).containsExactly("ob");
    assertThat(ids(obs + q("72.5||kg"))).containsExactly("ob");
    assertThat(ids(obs + q("72.5||g"))).isEmpty();
    assertThat(ids(obs + "72")).isEmpty();
    assertThat(ids(obs + "ge72.5")).containsExactly("ob");
    assertThat(ids(obs + "gt72.5")).isEmpty();

    String url = "http://example.org/fhir/Questionnaire/" + RUN + "/intake";
    put("Questionnaire", "qu-" + RUN, "{\"resourceType\":\"Questionnaire\",\"id\":\"qu-" + RUN + "\",\"status\":\"draft\","
        + "\"identifier\":[{\"system\":\"" + SYS + "\",\"value\":\"qu\"}],\"url\":\"" + url + "\"}");
    String qs = "Questionnaire?identifier=" + q(SYS + "|") + "&url";
    assertThat(ids(qs + "=" + q(url))).containsExactly("qu");
    assertThat(ids(qs + "=" + q("http://example.org/fhir/Questionnaire/" + RUN))).isEmpty();
    assertThat(ids(qs + ":below=" + q("http://example.org/fhir/Questionnaire/" + RUN))).containsExactly("qu");
    assertThat(ids(qs + ":above=" + q(url + "/v2"))).containsExactly("qu");
    assertThat(ids(qs + ":above=" + q("http://example.org/fhir/"))).isEmpty();
  }

  // ---------------------------------------------------------------- errors

  @Test
  void unknownParameterIs400NamingItUnlessLenient() {
    HttpResponse<String> r = Http.get(BASE + "/Patient?identifier=" + q(SYS + "|") + "&colour=blue");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(r.body()).contains("colour");
    assertThat(ids("Patient?identifier=" + q(SYS + "|") + "&colour=blue", "Prefer", "handling=lenient"))
        .containsExactly("p1", "p2", "p3", "p4");
  }

  @Test
  void badValuesAre400() {
    for (String query : List.of("birthdate=yesterday", "birthdate=ge1980-13", "active:missing=maybe", "gender:exact=male",
        "_count=many", "_count=-1", "_sort=colour", "_cursor=nonsense", "general-practitioner:Observation=1",
        "organization.colour=x", "organization.name.family=x", "_include=Patient:colour", "_revinclude=*",
        "_include:deep=Patient:organization", "_has:Observation:subject", "_has:Observation:colour:code=x")) {
      HttpResponse<String> r = Http.get(BASE + "/Patient?" + query.replace("[", "%5B"));
      assertThat(r.statusCode()).as(query + " -> " + r.body()).isEqualTo(400);
      assertThat(Json.parse(r.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    }
  }

  @Test
  void postSearchTakesFormParameters() {
    HttpResponse<String> r = Http.send("POST", BASE + "/Patient/_search", "identifier=" + q(SYS + "|") + "&family=sorensen",
        "Content-Type", "application/x-www-form-urlencoded");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode bundle = Json.parse(r.body());
    assertThat(bundle.get("total").asInt()).isEqualTo(1);
    assertThat(bundle.get("entry").get(0).get("resource").get("id").asText()).isEqualTo("p2-" + RUN);
  }
}
