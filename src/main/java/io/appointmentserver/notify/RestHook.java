package io.appointmentserver.notify;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.EncodingEnum;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * The {@code rest-hook} channel (DSTU3): a POST to {@code channel.endpoint} with the
 * {@code channel.header} values, and the resource as {@code channel.payload} says (a FHIR JSON or
 * XML mime type; none: no body). Endpoints only under one of the configured prefixes
 * ({@code FHIR_SUBSCRIPTION_ENDPOINTS}), so a client cannot make the server call arbitrary addresses.
 */
final class RestHook implements Channel {
  static final String TYPE = "rest-hook";

  private final FhirContext ctx;
  private final List<String> allowedPrefixes;
  private final HttpClient client;
  private final Duration timeout;

  RestHook(FhirContext ctx, List<String> allowedPrefixes, Duration timeout) {
    this.ctx = ctx;
    this.allowedPrefixes = List.copyOf(allowedPrefixes);
    this.timeout = timeout;
    // HTTP/1.1 with kept-alive connections: no h2c upgrade attempt on every new connection
    this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String refusal(ActiveSubscription.ChannelSpec spec) {
    String endpoint = spec.endpoint();
    if (endpoint == null || endpoint.isBlank()) {
      return "A rest-hook Subscription needs channel.endpoint";
    }
    if (allowedPrefixes.stream().noneMatch(endpoint::startsWith)) {
      return "channel.endpoint " + endpoint + " is not one this server may call (FHIR_SUBSCRIPTION_ENDPOINTS)";
    }
    try {
      URI uri = URI.create(endpoint);
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
        return "channel.endpoint must be an http or https URL, not " + endpoint;
      }
    } catch (IllegalArgumentException e) {
      return "channel.endpoint is not a URL: " + endpoint;
    }
    for (String h : spec.headers()) {
      if (h == null || h.indexOf(':') <= 0) {
        return "channel.header must be 'Name: value', not " + h;
      }
    }
    if (spec.payload() != null && encoding(spec.payload()) == null) {
      return "channel.payload must be a FHIR JSON or XML mime type (or none), not " + spec.payload();
    }
    return null;
  }

  private static EncodingEnum encoding(String payload) {
    return EncodingEnum.forContentType(payload.split(";")[0].trim());
  }

  @Override
  public void send(Notification n) throws Exception {
    ActiveSubscription.ChannelSpec spec = n.subscription().channel();
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(spec.endpoint())).timeout(timeout);
    for (String h : spec.headers()) {
      int colon = h.indexOf(':');
      req.header(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
    }
    if (spec.payload() == null || n.json() == null) {
      req.POST(HttpRequest.BodyPublishers.noBody());
    } else if (encoding(spec.payload()) == EncodingEnum.XML) {
      req.header("Content-Type", spec.payload());
      req.POST(HttpRequest.BodyPublishers.ofString(
          ctx.newXmlParser().encodeResourceToString(ctx.newJsonParser().parseResource(n.json()))));
    } else {
      req.header("Content-Type", spec.payload());
      req.POST(HttpRequest.BodyPublishers.ofString(n.json()));
    }
    HttpResponse<Void> response = client.send(req.build(), HttpResponse.BodyHandlers.discarding());
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException("the endpoint answered " + response.statusCode());
    }
  }
}
