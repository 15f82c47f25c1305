package io.appointmentserver.store;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * One write, as {@link ResourceWrites} takes it: the resource it writes ({@link Target}), what the
 * new version holds ({@link Content}), what the version it replaces must allow ({@link Guard}),
 * and the audit events that record it ({@link AuditTrail}).
 */
public record Write(Target target, Content content, Guard guard, AuditTrail audit) {

  /**
   * A create of {@code type}: with a server-assigned id, or with {@code assigned} when the id had
   * to be known before (from {@link ResourceIds#newId}, for a transaction Bundle whose entries
   * refer to it). A create replaces nothing, so nothing guards it.
   */
  public static Write creating(String type, String assigned, Content content, AuditTrail audit) {
    return new Write(new Target(type, assigned, null), content, Guard.NONE, audit);
  }

  /** The delete of {@code target}: {@code bookings} are what it books afterwards ({@link Content#deletion}). */
  public static Write deleting(Target target, Bookings bookings, Guard guard, AuditTrail audit) {
    return new Write(target, Content.deletion(bookings), guard, audit);
  }

  /**
   * {@code type/id} ({@code id} null: a create's, server-assigned); {@code expectedVersion} (from
   * If-Match), when given, must be the current version.
   */
  public record Target(String type, String id, Long expectedVersion) {}

  /**
   * The new version: its JSON as {@code renderer} makes it once id, version and lastUpdated are
   * known, from {@code model} (the caller's object, handed to the {@link ResourceStore.Indexer};
   * may be null); its access {@code tags}; the local {@code references} ({@code Type/id}) whose
   * targets must exist; its {@code bookings} (null: the type books nobody).
   */
  public record Content(Renderer renderer, Object model, String[] tags, Collection<String> references,
      Bookings bookings) {
    /**
     * A deletion's: no resource (the tombstone keeps the access tags of the version it ends) and
     * {@code bookings} for what it leaves booked ({@link Bookings#NONE}, or null when the type books nobody).
     */
    public static Content deletion(Bookings bookings) {
      return new Content(null, null, null, Set.of(), bookings);
    }

    /** The same content, written as a new version even when it equals the current one (no {@link Frame}). */
    public Content alwaysWritten() {
      Renderer r = renderer;
      return new Content(r == null ? null : r::render, model, tags, references, bookings);
    }
  }

  /** Renders the JSON of a resource once its id, version and lastUpdated are known. */
  @FunctionalInterface
  public interface Renderer {
    String render(String id, long version, Instant lastUpdated);

    /**
     * What {@link #render} makes for {@code id} around the version and time, or null when it
     * cannot say (then an update always writes a new version).
     */
    default Frame frame(String id) {
      return null;
    }
  }

  /**
   * A rendered JSON is {@code head}, the version, {@code ","lastUpdated":"}, the time, then
   * {@code tail} (from the time's closing quote): an update whose current body has this frame
   * holds the same content, and keeps the current version.
   */
  public record Frame(String head, String tail) {}

  /**
   * What a write must know of the version it replaces: {@code allows(oldTags, oldJson)} is asked inside
   * the write's transaction, with the row locked; false rolls the write back.
   */
  @FunctionalInterface
  public interface Guard {
    Guard NONE = (oldTags, oldJson) -> true;

    /** False (or an exception) refuses the write; {@code oldJson} is null for a tombstone. */
    boolean allows(String[] oldTags, String oldJson);
  }

  /**
   * The audit events of a write, made once its id, version and access tags are known and stored
   * in the same transaction: acknowledged means audited.
   */
  @FunctionalInterface
  public interface AuditTrail {
    AuditTrail NONE = (written, tags) -> List.of();

    List<AuditEvents.Event> eventsFor(StoredResource written, String[] tags);

    /** The events of an update that wrote nothing, the content being {@code current}'s. */
    default List<AuditEvents.Event> eventsForUnchanged(StoredResource current, String[] tags) {
      return eventsFor(current, tags);
    }
  }
}
