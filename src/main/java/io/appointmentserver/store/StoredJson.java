package io.appointmentserver.store;

/**
 * One version of a resource as the bytes that are sent: the stored JSON in UTF-8, exactly as
 * PostgreSQL returns it, without decoding it into a String and encoding it again. {@code json}
 * is null for a deletion (tombstone); {@code tags} are its access tags.
 */
public record StoredJson(Version at, byte[] json, String[] tags) implements Version.Of {}
