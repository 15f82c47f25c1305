package io.appointmentserver.store;

import java.time.Instant;

/**
 * Which version of which resource, and when it was written: what {@link StoredResource} and
 * {@link StoredJson} know of a version besides its content.
 *
 * @param number  the version number, from 1
 * @param deleted true for a deletion (tombstone)
 */
public record Version(String type, String id, long number, Instant lastUpdated, boolean deleted) {
  /** What knows its version: its parts by name. */
  public interface Of {
    Version at();

    default String type() {
      return at().type();
    }

    default String id() {
      return at().id();
    }

    default long version() {
      return at().number();
    }

    default Instant lastUpdated() {
      return at().lastUpdated();
    }

    default boolean deleted() {
      return at().deleted();
    }
  }
}
