package io.appointmentserver.rest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.appointmentserver.support.Appointments;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.text.StringEscapeUtils;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A browser (Accept: text/html first, as browsers send it) gets HTML pages whose links lead to
 * pages of this server; other clients get FHIR as before.
 */
class BrowserPagesTest {
  static final String BASE = TestServer.base();
  /** What Firefox and Chrome send for a page. */
  static final String BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
  static String id;

  @BeforeAll
  static void appointment() {
    ObjectNode a = Appointments.seed();
    id = a.get("id").asText();
    Http.put(BASE + "/Patient/240", "{\"resourceType\":\"Patient\",\"id\":\"240\",\"name\":[{\"family\":\"Hansen\"}]}");
    assertThat(Http.put(BASE + "/Appointment/" + id, a.toString()).statusCode()).isEqualTo(201);
  }

  static HttpResponse<String> page(String url, String... headers) {
    List<String> h = new ArrayList<>(List.of("Accept", BROWSER));
    h.addAll(List.of(headers));
    HttpResponse<String> r = Http.get(url, h.toArray(String[]::new));
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).as(url).startsWith("text/html");
    return r;
  }

  /** The links of a page to this server, as a browser reads them (entities decoded). */
  static List<String> links(String html) {
    List<String> links = new ArrayList<>();
    Matcher m = Pattern.compile("<a href=\"([^\"]+)\"").matcher(html);
    while (m.find()) {
      String href = StringEscapeUtils.unescapeHtml4(m.group(1));
      if (href.startsWith(BASE)) {
        links.add(href);
      }
    }
    return links;
  }

  @Test
  void aReadIsAPageWhoseReferencesAreWorkingLinks() {
    HttpResponse<String> r = page(BASE + "/Appointment/" + id);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("&quot;Appointment&quot;").contains(id).contains("HTTP 200 OK");
    assertThat(links(r.body())).contains(BASE + "/Patient/240");
    HttpResponse<String> patient = page(BASE + "/Patient/240");
    assertThat(patient.statusCode()).isEqualTo(200);
    assertThat(patient.body()).contains("&quot;Patient&quot;").contains("Hansen");
    // the bearer token is not shown on the page
    assertThat(r.body()).doesNotContain(TestServer.systemToken());
  }

  @Test
  void otherClientsStillGetJson() {
    HttpResponse<String> json = Http.get(BASE + "/Appointment/" + id);
    assertThat(json.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/fhir+json");
    assertThat(Json.parse(json.body()).get("id").asText()).isEqualTo(id);
    // a script that asks for HTML (X-Requested-With, or a cross-origin Origin) gets the resource
    HttpResponse<String> script = Http.get(BASE + "/Appointment/" + id, "Accept", BROWSER, "X-Requested-With", "XMLHttpRequest");
    assertThat(script.headers().firstValue("Content-Type").orElseThrow()).doesNotStartWith("text/html");
    // Accept: text/html alone is a page too, not the stored JSON
    assertThat(Http.get(BASE + "/Appointment/" + id, "Accept", "text/html").headers().firstValue("Content-Type")
        .orElseThrow()).startsWith("text/html");
  }

  @Test
  void aSearchPageLinksToItsEntriesAndItself() {
    String search = BASE + "/Appointment?_id=" + id + "&_count=5";
    HttpResponse<String> r = page(search);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("&quot;searchset&quot;");
    List<String> links = links(r.body());
    assertThat(links).contains(BASE + "/Appointment/" + id, BASE + "/Patient/240");
    String self = links.stream().filter(l -> l.startsWith(BASE + "/Appointment?")).findFirst().orElseThrow();
    HttpResponse<String> again = page(self);
    assertThat(again.statusCode()).as(self).isEqualTo(200);
    assertThat(again.body()).contains(id);
    HttpResponse<String> entry = page(BASE + "/Appointment/" + id);
    assertThat(entry.statusCode()).isEqualTo(200);
  }

  @Test
  void historyAndMetadataArePages() {
    HttpResponse<String> history = page(BASE + "/Appointment/" + id + "/_history");
    assertThat(history.statusCode()).isEqualTo(200);
    assertThat(history.body()).contains("&quot;history&quot;");
    assertThat(links(history.body())).contains(BASE + "/Appointment/" + id);
    HttpResponse<String> metadata = page(BASE + "/metadata", "Authorization", Http.NO_AUTH);
    assertThat(metadata.statusCode()).isEqualTo(200);
    assertThat(metadata.body()).contains("&quot;CapabilityStatement&quot;").contains("3.0.1");
  }

  @Test
  void theFormatLinksOfAPageWork() {
    HttpResponse<String> r = page(BASE + "/Appointment/" + id);
    for (String format : List.of("json", "xml", "html/json", "html/xml")) {
      assertThat(r.body()).contains("href=\"?_format=" + format + "\"");
      HttpResponse<String> f = Http.get(BASE + "/Appointment/" + id + "?_format=" + format, "Accept", BROWSER);
      assertThat(f.statusCode()).as(format).isEqualTo(200);
      assertThat(f.headers().firstValue("Content-Type").orElseThrow()).as(format)
          .startsWith(format.startsWith("html") ? "text/html" : "application/fhir+" + format);
      assertThat(f.body()).contains(id);
    }
    List<String> formats = new ArrayList<>();
    CapabilityStatementTest.metadata(BASE).get("format").forEach(f -> formats.add(f.asText()));
    assertThat(formats).contains("html/json", "html/xml");
  }

  @Test
  void errorsArePagesWithTheirStatus() {
    HttpResponse<String> missing = page(BASE + "/Appointment/no-such-appointment");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).contains("HTTP 404").contains("OperationOutcome");
    HttpResponse<String> bad = page(BASE + "/Appointment?no-such-parameter=1");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("no-such-parameter");
  }

  @Test
  void withoutATokenTheBrowserIsToldHowToSendOne() {
    HttpResponse<String> r = page(BASE + "/Appointment/" + id, "Authorization", Http.NO_AUTH);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("Bearer");
    assertThat(r.body()).contains("Authorization").contains("/fhir/metadata").doesNotContain(id + "\"");
    // the metadata link of the page works without a token
    Matcher m = Pattern.compile("<a href=\"(/[^\"]*metadata)\"").matcher(r.body());
    assertThat(m.find()).isTrue();
    String metadata = BASE.substring(0, BASE.indexOf("/fhir")) + m.group(1);
    assertThat(page(metadata, "Authorization", Http.NO_AUTH).statusCode()).isEqualTo(200);
    // a token in the URL is no token
    HttpResponse<String> inUrl = Http.get(BASE + "/Appointment/" + id + "?access_token=" + TestServer.systemToken(),
        "Accept", BROWSER, "Authorization", Http.NO_AUTH);
    assertThat(inUrl.statusCode()).isEqualTo(401);
    // and a FHIR client still gets its OperationOutcome
    HttpResponse<String> json = Http.get(BASE + "/Appointment/" + id, "Authorization", Http.NO_AUTH);
    assertThat(json.statusCode()).isEqualTo(401);
    assertThat(Json.parse(json.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
  }
}
