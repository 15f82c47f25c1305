package io.appointmentserver.interaction;

import io.appointmentserver.store.StoredResource;
import java.util.List;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.Bundle.SearchEntryMode;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The stored form of what an interaction answers with, carried by the answer itself: the resource
 * a write returns knows the version it became, a searchset's envelope the stored JSON of its
 * entries. The REST layer then sends those bytes as they are where the client wants plain JSON
 * ({@code rest.StoredResponses}), and renders the model otherwise.
 */
public final class StoredForm {
  private static final String VERSION = StoredForm.class.getName() + ".version";
  private static final String ENTRIES = StoredForm.class.getName() + ".entries";

  private StoredForm() {}

  /** A searchset entry: its resource as stored JSON ({@code fullUrl} null for an outcome). */
  public record Entry(String fullUrl, String json, SearchEntryMode mode) {}

  static void attach(IBaseResource resource, StoredResource stored) {
    resource.setUserData(VERSION, stored);
  }

  /** The version a write's resource became, or null when it is no such resource. */
  public static StoredResource of(IBaseResource resource) {
    return resource != null && resource.getUserData(VERSION) instanceof StoredResource s ? s : null;
  }

  static void attachEntries(Bundle envelope, List<Entry> entries) {
    envelope.setUserData(ENTRIES, entries);
  }

  /** The stored entries of a searchset envelope (which then has none of its own), or null. */
  @SuppressWarnings("unchecked")
  public static List<Entry> entries(IBaseResource envelope) {
    return envelope != null && envelope.getUserData(ENTRIES) instanceof List<?> l ? (List<Entry>) l : null;
  }
}
