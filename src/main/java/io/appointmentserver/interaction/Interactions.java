package io.appointmentserver.interaction;

import io.appointmentserver.plugin.OperationContext;
import io.appointmentserver.search.Reindexer;
import io.appointmentserver.search.Searcher;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.TransactionScope;

/**
 * The FHIR interactions of the server, one object each, built once: what the REST layer's
 * providers and the Bundle entries call.
 */
public final class Interactions {
  /** What the interactions are made of. */
  public record Parts(ResourceStore store, ResourceCodec codec, WritePolicy policy, Access access, Searcher searcher) {}

  /**
   * @param defaultBase    the base URL references to which count as local when no other is configured
   * @param deleteMultiple whether a conditional delete may delete several resources
   * @param expunge        whether {@code $expunge} is served ({@code FHIR_EXPUNGE})
   */
  public record Settings(TransactionScope transactions, String defaultBase, boolean deleteMultiple, boolean expunge) {}

  private final Parts parts;
  private final Settings settings;
  private final Read read;
  private final Create create;
  private final Update update;
  private final Patch patch;
  private final Delete delete;
  private final History history;
  private final Searches search;
  private final ConditionalWrites conditional;
  private final Validate validate;
  private final ResourceCounts counts;
  private final Meta meta;
  private final Everything everything;
  private final Snapshot snapshot;
  private final TerminologyOperations terminology;
  private final Expunge expunge;
  private final Reindexing reindexing;
  private final SuggestKeywords keywords;

  /** {@code reindexer}: the search index's background job, which the reindexing operations drive. */
  public Interactions(Parts parts, Settings settings, Reindexer reindexer) {
    this.parts = parts;
    this.settings = settings;
    Writes writes = new Writes(parts.store(), parts.codec(), parts.policy(), parts.access(), settings.transactions());
    this.search = new Searches(parts.searcher(), parts.codec(), parts.access(), settings.defaultBase(),
        HistoryQueries.MAX_PAGE_SIZE);
    this.conditional = new ConditionalWrites(settings.transactions(), search, settings.defaultBase(),
        settings.deleteMultiple());
    this.read = new Read(parts.store(), parts.codec(), parts.access());
    this.create = new Create(writes, conditional);
    this.update = new Update(writes, conditional);
    this.patch = new Patch(writes, conditional, read);
    this.delete = new Delete(writes, conditional);
    this.history = new History(parts.store(), new HistoryQueries(parts.store(), parts.codec()), parts.access());
    this.validate = new Validate(writes, parts.policy(), read);
    this.counts = new ResourceCounts(parts.store(), parts.access());
    this.everything = new Everything(search, parts.searcher(), read, parts.access(), parts.codec());
    this.snapshot = new Snapshot(parts.policy().validator(), parts.codec(), parts.access(), read);
    this.meta = new Meta(parts.store(), parts.codec(), parts.access(), read, parts.searcher());
    this.terminology = new TerminologyOperations(
        new TerminologyInputs(read, parts.codec(), parts.access(), parts.policy()::terminology));
    this.expunge = new Expunge(parts.store(), parts.access(), settings.expunge());
    this.reindexing = new Reindexing(reindexer, parts.access(), parts.codec().context().getResourceTypes());
    this.keywords = new SuggestKeywords(parts.searcher(), parts.access());
  }

  public Read read() {
    return read;
  }

  public Create create() {
    return create;
  }

  public Update update() {
    return update;
  }

  public Patch patch() {
    return patch;
  }

  public Delete delete() {
    return delete;
  }

  public History history() {
    return history;
  }

  public Validate validate() {
    return validate;
  }

  public Meta meta() {
    return meta;
  }

  public Everything everything() {
    return everything;
  }

  public Snapshot snapshot() {
    return snapshot;
  }

  public TerminologyOperations terminology() {
    return terminology;
  }

  public Expunge expunge() {
    return expunge;
  }

  public Reindexing reindexing() {
    return reindexing;
  }

  public ResourceCounts counts() {
    return counts;
  }

  public SuggestKeywords keywords() {
    return keywords;
  }

  public Searches search() {
    return search;
  }

  ConditionalWrites conditional() {
    return conditional;
  }

  ResourceStore store() {
    return parts.store();
  }

  public ResourceCodec codec() {
    return parts.codec();
  }

  public Access access() {
    return parts.access();
  }

  /** What the plug-ins' operations use of the server. */
  public OperationContext operationContext() {
    return new OperationServer(this, parts.searcher(), settings.defaultBase());
  }
}
