package io.appointmentserver.ehealth;

import io.appointmentserver.plugin.OperationContext;
import io.appointmentserver.security.Cpr;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.dstu3.model.Person;

/**
 * The person register (in Denmark the CPR register): who a CPR number names. Reached over FHIR
 * ({@link RemotePersonRegister}), or, without one configured, the server's own Person resources
 * ({@link #local}).
 */
public interface PersonRegister {
  /** The register's Person with CPR number {@code cpr}, or null when it has none. */
  Person find(String cpr);

  /** The server's own Person resources as the register (loaded by a SYSTEM user holding Person.write). */
  static PersonRegister local(OperationContext server) {
    return cpr -> {
      List<OperationContext.Stored> found = server.find("Person", byCpr(cpr), 1);
      return found.isEmpty() ? null : (Person) found.get(0).resource();
    };
  }

  /** The search criteria of the resources that carry {@code cpr}. */
  static Map<String, String[]> byCpr(String cpr) {
    return Map.of("identifier", new String[] {Cpr.SYSTEM + "|" + cpr});
  }
}
