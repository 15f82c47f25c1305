package io.appointmentserver.store;

import java.util.List;

/**
 * A written version, whether the write created the resource (201) or not (200), and the other
 * appointments it overlaps (under {@link Bookings.Mode#WARN}); {@code unchanged}: an update with
 * the current content, answered with the current version and not written.
 */
public record WriteResult(StoredResource resource, boolean created, List<String> overlaps, boolean unchanged) {}
