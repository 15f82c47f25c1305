package io.appointmentserver.ehealth;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import io.appointmentserver.plugin.ExternalServiceException;
import io.appointmentserver.security.AuditLog;
import io.appointmentserver.security.Cpr;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.Identifier;
import org.hl7.fhir.dstu3.model.Person;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A person register reached over FHIR: its {@code Person} search by identifier, sent as
 * {@code POST [base]/Person/_search} so that the CPR number is in the body, not in a URL that
 * proxies and access logs keep. Each attempt is bounded by the timeout; a failed one (no
 * connection, no answer in time, a 5xx) is repeated {@code retries} times; then the operation fails
 * with a 502 (the register is away or failing) or a 504 (it did not answer in time).
 */
public final class RemotePersonRegister implements PersonRegister {
  private static final Logger log = LoggerFactory.getLogger(RemotePersonRegister.class);

  /** The register's base URL, the bearer token for it (null: none), one attempt's timeout, the retries. */
  public record Settings(String baseUrl, String token, Duration timeout, int retries) {}

  private final HttpClient client;
  private final FhirContext ctx;
  private final Settings settings;
  private final URI search;

  public RemotePersonRegister(HttpClient client, FhirContext ctx, Settings settings) {
    this.client = client;
    this.ctx = ctx;
    this.settings = settings;
    String base = settings.baseUrl().endsWith("/") ? settings.baseUrl() : settings.baseUrl() + "/";
    this.search = URI.create(base + "Person/_search");
  }

  @Override
  public Person find(String cpr) {
    HttpRequest.Builder b = HttpRequest.newBuilder(search).timeout(settings.timeout())
        .header("Accept", "application/fhir+json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("identifier="
            + URLEncoder.encode(Cpr.SYSTEM + "|" + cpr, StandardCharsets.UTF_8) + "&_count=2"));
    if (settings.token() != null) {
      b.header("Authorization", "Bearer " + settings.token());
    }
    HttpRequest request = b.build();
    String failure = null;
    boolean timedOut = false;
    for (int attempt = 0; attempt <= settings.retries(); attempt++) {
      if (attempt > 0) {
        pause(attempt);
      }
      try {
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          return person(response.body(), cpr);
        }
        failure = "answered " + response.statusCode();
        if (response.statusCode() < 500) {
          break; // it refuses the lookup itself: asking again changes nothing
        }
        timedOut = false;
      } catch (HttpTimeoutException e) {
        failure = "did not answer within " + settings.timeout().toMillis() + " ms";
        timedOut = true;
      } catch (IOException e) {
        failure = "could not be reached (" + e.getClass().getSimpleName() + ")";
        timedOut = false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ExternalServiceException(false, "The lookup in the person register was interrupted");
      }
      log.warn("person register lookup of {} {} (attempt {})", AuditLog.maskCpr(cpr), failure, attempt + 1);
    }
    throw new ExternalServiceException(timedOut, "The person register " + failure + "; nothing was changed."
        + " Retry later.");
  }

  /** The searchset's Person that carries {@code cpr}, or null. */
  private Person person(String body, String cpr) {
    try {
      Bundle bundle = ctx.newJsonParser().parseResource(Bundle.class, body);
      for (Bundle.BundleEntryComponent e : bundle.getEntry()) {
        if (e.getResource() instanceof Person p && carries(p, cpr)) {
          return p;
        }
      }
      return null;
    } catch (DataFormatException | ClassCastException e) {
      throw new ExternalServiceException(false, "The person register answered something other than a Bundle");
    }
  }

  private static boolean carries(Person p, String cpr) {
    for (Identifier i : p.getIdentifier()) {
      if (Cpr.SYSTEM.equals(i.getSystem()) && cpr.equals(i.getValue())) {
        return true;
      }
    }
    return false;
  }

  private static void pause(int attempt) {
    try {
      Thread.sleep(100L * attempt);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ExternalServiceException(false, "The lookup in the person register was interrupted");
    }
  }
}
