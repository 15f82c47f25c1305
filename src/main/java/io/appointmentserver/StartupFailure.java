package io.appointmentserver;

/**
 * Why the server cannot start, in one line that names the setting to look at; {@code serve}
 * prints it and exits non-zero.
 */
final class StartupFailure {
  private StartupFailure() {}

  /** The one line for {@code e}, thrown while starting with {@code config} (null if it could not be read). */
  static String describe(Throwable e, Config config) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof io.appointmentserver.store.DataDirectoryInUseException
          || t instanceof io.appointmentserver.store.Database.DatabaseUnreachableException) {
        return t.getMessage();
      }
      if (t instanceof java.net.BindException && config != null) {
        return "FHIR_PORT " + config.port() + " on FHIR_HOST " + config.host() + " cannot be used: "
            + t.getMessage() + " (another process listens there; choose another FHIR_PORT)";
      }
    }
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    // the cause, unless the message already quotes it
    return root == e || (root.getMessage() != null && what.contains(root.getMessage())) ? what
        : what + " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
  }
}
