package io.appointmentserver.security;

/**
 * The token is valid but does not allow this: 403. The message starts with the eHealth error
 * code ({@code SECURITY_TOKEN_INSUFFICIENT_PERMISSION}, {@code SECURITY_TOKEN_CONTEXT_MISSING},
 * {@code SECURITY_RESOURCE_NOT_MATCHING_TOKEN_CONTEXT}, ...).
 */
public final class ForbiddenException extends RuntimeException {
  public ForbiddenException(String message) {
    super(message, null, false, false);
  }
}
