package io.appointmentserver.security;

/** The request carries no acceptable token: 401. */
public final class AuthenticationException extends RuntimeException {
  public AuthenticationException(String message) {
    super(message, null, false, false);
  }
}
