package io.appointmentserver.http;

import java.util.Set;

/**
 * The FHIR interaction a request stands for, from its method and the shape of its path alone
 * (nothing is parsed twice): the {@code interaction} and {@code type} labels of the request
 * metrics. Types are only those the server knows, so a client cannot make up new label values.
 */
record Interaction(String name, String type) {
  static final String NONE = "none";

  static Interaction of(String method, String path, Set<String> types) {
    if (path == null || !path.startsWith("/fhir") || (path.length() > 5 && path.charAt(5) != '/')) {
      return new Interaction(switch (path == null ? "" : path) {
        case "/health" -> "health";
        case "/metrics" -> "metrics";
        default -> "other";
      }, NONE);
    }
    boolean read = method.equals("GET") || method.equals("HEAD");
    // the segments after /fhir: at most four matter
    String[] s = new String[5];
    int n = 0;
    int i = 6;
    while (i <= path.length() && n < s.length) {
      int slash = path.indexOf('/', i);
      int end = slash < 0 ? path.length() : slash;
      if (end > i) {
        s[n++] = path.substring(i, end);
      }
      i = end + 1;
    }
    if (n == 0) {
      return new Interaction(method.equals("POST") ? "transaction" : read ? "search-system" : "other", NONE);
    }
    if (n == 1 && s[0].equals("metadata")) {
      return new Interaction("capabilities", NONE);
    }
    if (s[0].startsWith("$")) {
      return new Interaction("operation", NONE);
    }
    if (s[0].equals("_history")) {
      return new Interaction(n == 1 ? "history-system" : "other", NONE);
    }
    String type = types.contains(s[0]) ? s[0] : "other";
    String name = switch (n) {
      case 1 -> switch (method) {
        case "GET", "HEAD" -> "search-type";
        case "POST" -> "create";
        case "PUT" -> "update";
        case "PATCH" -> "patch";
        case "DELETE" -> "delete";
        default -> "other";
      };
      case 2 -> s[1].equals("_search") ? "search-type"
          : s[1].equals("_history") ? "history-type"
          : s[1].startsWith("$") ? "operation"
          : switch (method) {
            case "GET", "HEAD" -> "read";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> "delete";
            default -> "other";
          };
      case 3 -> s[2].equals("_history") ? "history-instance" : s[2].startsWith("$") ? "operation" : "other";
      case 4 -> s[2].equals("_history") && read ? "vread" : "other";
      default -> "other";
    };
    return new Interaction(name, type);
  }
}
