package io.appointmentserver.security;

import java.util.Set;

/**
 * The eHealth privilege grammar: realm roles {@code <Type>.<op>} with op one of {@code read}
 * (read, vread, instance history), {@code search} (search, type history), {@code create},
 * {@code update}, {@code patch}, {@code delete}, {@code write} (any of the four) and {@code *}
 * (everything on the type); {@code <Type>$<operation>} for an operation on a type or its
 * instances; {@code $<operation>} for a system operation. Other roles are ignored.
 *
 * <p>A {@link #DESTRUCTIVE} operation is not among "everything on the type": {@code Type.*} is
 * what ordinary users and integrations hold, and removing data for good must be named
 * ({@code Type$expunge}, or {@code $expunge}, which covers every type).
 */
public final class Privileges {
  private Privileges() {}

  /** What an interaction needs, as the op part of a privilege. */
  public enum Op {
    READ("read"), SEARCH("search"), CREATE("create"), UPDATE("update"), PATCH("patch"), DELETE("delete");

    final String word;

    Op(String word) {
      this.word = word;
    }

    boolean isWrite() {
      return this == CREATE || this == UPDATE || this == PATCH || this == DELETE;
    }

    public String word() {
      return word;
    }
  }

  /** Operations that remove data for good: granted only by a privilege that names them. */
  public static final Set<String> DESTRUCTIVE = Set.of("$expunge");

  public static boolean allows(Set<String> roles, String type, Op op) {
    return roles.contains(type + "." + op.word)
        || roles.contains(type + ".*")
        || (op.isWrite() && roles.contains(type + ".write"));
  }

  /** An operation ({@code $name}) on a type or instance; {@code type} null for a system operation. */
  public static boolean allowsOperation(Set<String> roles, String type, String operation) {
    String op = operation.startsWith("$") ? operation : "$" + operation;
    if (type == null) {
      return roles.contains(op);
    }
    if (DESTRUCTIVE.contains(op)) {
      return roles.contains(type + op) || roles.contains(op);
    }
    return roles.contains(type + op) || roles.contains(type + ".*");
  }

  /** 403 with the eHealth code and message when {@code op} on {@code type} is not allowed. */
  public static void require(Principal p, String type, Op op) {
    if (!allows(p.roles(), type, op)) {
      throw new ForbiddenException("SECURITY_TOKEN_INSUFFICIENT_PERMISSION: Insufficient permission for "
          + op.word + " for " + type);
    }
  }

  public static void requireOperation(Principal p, String type, String operation) {
    if (!allowsOperation(p.roles(), type, operation)) {
      throw new ForbiddenException("SECURITY_TOKEN_INSUFFICIENT_PERMISSION: Insufficient permission for "
          + operation + (type == null ? "" : " for " + type));
    }
  }
}
