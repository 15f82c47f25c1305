package io.appointmentserver.security;

/**
 * An identity provider whose tokens the server accepts: tokens whose {@code iss} is {@code issuer}
 * are checked with the keys of {@code jwks} (an http(s) URL, or {@code file:}).
 */
public record TrustedIssuer(String issuer, String jwks) {
  /** Where Keycloak publishes a realm's keys: the JWKS of an issuer given without one. */
  public static TrustedIssuer keycloak(String issuer) {
    return new TrustedIssuer(issuer, issuer.replaceAll("/+$", "") + "/protocol/openid-connect/certs");
  }
}
