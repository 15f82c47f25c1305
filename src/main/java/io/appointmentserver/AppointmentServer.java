package io.appointmentserver;

import ca.uhn.fhir.context.FhirContext;
import io.appointmentserver.rest.CapabilitySearchParameters;
import io.appointmentserver.rest.FhirRestServer;
import io.appointmentserver.interaction.References;
import io.appointmentserver.rest.ServerCapabilities;
import io.appointmentserver.interaction.ResourceCodec;
import io.appointmentserver.interaction.WritePolicy;
import io.appointmentserver.ehealth.AppointmentPlugin;
import io.appointmentserver.ehealth.CommunicationPlugin;
import io.appointmentserver.ehealth.RelatedPersonPlugin;
import io.appointmentserver.ehealth.PatientPlugin;
import io.appointmentserver.ehealth.RemotePersonRegister;
import io.appointmentserver.http.HealthServlet;
import io.appointmentserver.http.HttpServer;
import io.appointmentserver.http.MetricsServlet;
import io.appointmentserver.interaction.Access;
import io.appointmentserver.interaction.DeclaredSurface;
import io.appointmentserver.interaction.Interactions;
import io.appointmentserver.plugin.Plugins;
import io.appointmentserver.plugin.TypePlugin;
import io.appointmentserver.http.ServerMetrics;
import io.appointmentserver.notify.Notifications;
import io.appointmentserver.search.Criteria;
import io.appointmentserver.search.Extractor;
import io.appointmentserver.search.Reindexer;
import io.appointmentserver.search.SearchIndex;
import io.appointmentserver.search.SearchParameters;
import io.appointmentserver.search.Searcher;
import io.appointmentserver.security.AuditLog;
import io.appointmentserver.security.TokenAuthenticator;
import io.appointmentserver.store.Database;
import io.appointmentserver.store.ReadCache;
import io.appointmentserver.store.ReadCacheLease;
import io.appointmentserver.store.ResourceHistory;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.TransactionScope;
import io.appointmentserver.validation.IgLoader;
import io.appointmentserver.validation.ProfileValidator;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.hl7.fhir.dstu3.model.CapabilityStatement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires the layers together: database, store, FHIR server, HTTP. */
public final class AppointmentServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AppointmentServer.class);

  private final Database db;
  private final HttpServer http;
  private final AuditLog audit;
  private final String baseUrl;
  private final ProfileValidator validator;
  private final Reindexer reindexer;
  private final ReadCacheLease lease;
  private final ReadCache cache;
  private final ServerMetrics metrics;
  private final Notifications notifications;

  private AppointmentServer(Database db, HttpServer http, AuditLog audit, String baseUrl, ProfileValidator validator,
      Reindexer reindexer, ReadCacheLease lease, ReadCache cache, ServerMetrics metrics, Notifications notifications) {
    this.notifications = notifications;
    this.metrics = metrics;
    this.lease = lease;
    this.cache = cache;
    this.db = db;
    this.http = http;
    this.audit = audit;
    this.baseUrl = baseUrl;
    this.validator = validator;
    this.reindexer = reindexer;
  }

  public static AppointmentServer start(Config config) throws Exception {
    long t0 = System.nanoTime();
    // the FHIR model and the database start side by side: both take a second or two
    CompletableFuture<FhirContext> ctxFuture = CompletableFuture.supplyAsync(FhirServerContext::create);
    Database db = Database.open(new Database.Login(config.dbUrl(), config.dbUser(), config.dbPassword()),
        config.dataDir(), config.dbPoolSize(), config.embeddedFsync());
    ReadCache cache = config.readCacheMb() > 0 ? new ReadCache(config.readCacheMb() << 20) : null;
    ReadCacheLease lease = null;
    ServerMetrics metrics = new ServerMetrics();
    Reindexer reindexer = null;
    Notifications notifications = null;
    try {
      db.bindMetrics(metrics.registry());
      if (cache != null) {
        cache.bindMetrics(metrics.registry());
      }
      // before anything is served or written: no other process may be answering from its cache
      lease = ReadCacheLease.acquire(db::connect, cache);
      FhirContext ctx = ctxFuture.join();
      // a failure names the setting and the file (StartupFailure.describe makes it serve's one line)
      List<IgLoader.Loaded> ig = IgLoader.load(ctx, config.builtInIg(), config.igPaths());
      SearchParameters searchParams = new SearchParameters(ctx, ig.stream().map(IgLoader.Loaded::resource).toList());
      SearchIndex searchIndex = new SearchIndex(new Extractor(ctx, searchParams, config.timeZone()));
      // the store and the searcher take part in a transaction of several calls (conditional writes)
      TransactionScope transactions = new TransactionScope(db.dataSource());
      ResourceStore store = new ResourceStore(transactions, Clock.systemUTC(), config.appointmentOverlap(),
          searchIndex, cache);
      reindexer = new Reindexer(db.dataSource(), searchIndex, searchParams, storedSearchParameters(ctx, store));
      reindexer.bindMetrics(metrics.registry());
      reindexer.start();
      Searcher searcher = new Searcher(transactions, searchParams, config.timeZone(), Clock.systemUTC(),
          config.searchMaxIncludes());
      ResourceCodec codec = new ResourceCodec(ctx, config.timeZone());
      // references to the public base (configured, or http://localhost:PORT/fhir by default) or
      // to the base a request was sent to are stored relative
      String defaultBase = config.effectiveBaseUrl(config.port());
      Config.SubscriptionDelivery sd = config.subscriptions();
      notifications = new Notifications(new Notifications.Parts(ctx, store, db.dataSource(), db::connect,
          criteria -> Criteria.parse(searchParams, config.timeZone(), List.of(defaultBase), criteria)),
          new Notifications.Settings(sd.endpoints(),
              Notifications.Settings.delivery(sd.senders(), sd.attempts(),
                  Duration.ofMillis(sd.retryMs()), Duration.ofMillis(sd.retryMaxMs()), Duration.ofSeconds(sd.leaseSeconds())), 16L << 20,
              config.broker()));
      // what each resource type adds to the generic server: registered here, and only here
      Plugins plugins = new Plugins(List.of(
          notifications.plugin(),
          new AppointmentPlugin(config.videoMeetingBaseUrl()),
          new CommunicationPlugin(),
          new RelatedPersonPlugin(),
          new PatientPlugin(personRegister(ctx, config.personRegister())),
          TypePlugin.afterCommit(Reindexer.SEARCH_PARAMETER, reindexer::changed)));
      // every write's transaction records the notifications of the Subscriptions it matches
      notifications.bind(searchIndex, plugins.accessPolicy());
      notifications.start();
      ProfileValidator validator = validator(ctx, config, store, ig, plugins.assignedIdentifierSystems());
      validator.bindMetrics(metrics.registry());
      WritePolicy policy = new WritePolicy(new References(ctx), defaultBase, config.checkReferences(), plugins,
          validator);
      TokenAuthenticator authenticator = TokenAuthenticator.create(new TokenAuthenticator.Settings(
          config.authIssuers(), config.authAudience(), config.authClockSkewSeconds(), config.citizenPrivileges()),
          config.dataDir());
      // links and Location headers use the configured base, else the one the request was sent to
      String publicBase = config.baseUrl() == null ? null : defaultBase;
      AuditLog audit = new AuditLog(store, Clock.systemUTC());
      Interactions interactions = new Interactions(
          new Interactions.Parts(store, codec, policy, new Access(plugins, audit), searcher),
          new Interactions.Settings(transactions, defaultBase, config.conditionalDeleteMultiple(), config.expunge()),
          reindexer);
      FhirRestServer fhir = new FhirRestServer(ctx, interactions, plugins, publicBase, surface(ctx, config.service()));
      fhir.registerInterceptor(new CapabilitySearchParameters(searchParams));
      fhir.registerInterceptor(new ServerCapabilities(
          config.authIssuers().stream().map(io.appointmentserver.security.TrustedIssuer::issuer).toList(),
          config.conditionalDeleteMultiple()));
      HttpServer http = new HttpServer(
          new HttpServer.Settings(config.host(), config.port(), config.maxBodyBytes(), publicBase, defaultBase),
          new HttpServer.Parts(fhir, interactions.read(), authenticator, Map.of(
              "/health", new HealthServlet(db, reindexer::status),
              "/metrics", new MetricsServlet(metrics)), metrics, notifications.sockets()));
      http.start();
      String base = config.baseUrl() != null ? config.effectiveBaseUrl(http.port())
          : "http://" + config.host() + ":" + http.port() + "/fhir";
      log.info("FHIR DSTU3 server at {} (started in {} ms)", base, (System.nanoTime() - t0) / 1_000_000);
      if (config.devMode()) {
        log.warn("DEV MODE: FHIR_AUTH_ISSUER and FHIR_AUTH_JWKS are not set, so the server accepts only tokens"
            + " signed with its own dev key {} in {}; make one with: java -jar target/appointment-server.jar token",
            io.appointmentserver.security.DevKeys.load(config.dataDir()).getKeyID(),
            io.appointmentserver.security.DevKeys.file(config.dataDir()).toAbsolutePath().normalize());
      }
      return new AppointmentServer(db, http, audit, base, validator, reindexer, lease, cache, metrics, notifications);
    } catch (Exception | Error e) {
      if (notifications != null) {
        notifications.close();
      }
      if (reindexer != null) {
        reindexer.close(); // before the database goes
      }
      metrics.close();
      db.close();
      if (lease != null) {
        lease.close();
      }
      throw e;
    }
  }

  /**
   * The profile validator: the IG's conformance resources (built in, {@code FHIR_IG_PATH}), then those
   * stored through the API, so that profiles written before a restart are known after it.
   */
  private static ProfileValidator validator(FhirContext ctx, Config config, ResourceStore store,
      List<IgLoader.Loaded> ig, Set<String> assignedIdentifierSystems) {
    long t0 = System.nanoTime();
    ProfileValidator validator = new ProfileValidator(ctx, ig.stream().map(IgLoader.Loaded::resource).toList(),
        new ProfileValidator.Settings(config.validation(), assignedIdentifierSystems, config.allowUnknownProfiles()),
        new ProfileValidator.StoredConformance() {
          @Override
          public String fingerprint() {
            return store.history().fingerprint(ProfileValidator.CONFORMANCE_TYPES);
          }

          @Override
          public List<ResourceHistory.Current> changedSince(Instant since) {
            return store.history().changedSince(ProfileValidator.CONFORMANCE_TYPES, since);
          }
        });
    if (!ig.isEmpty() || validator.storedCount() > 0) {
      log.info("profile validation ({}): {} conformance resources from the IG{}, {} written through the API ({} ms)",
          config.validation().name().toLowerCase(java.util.Locale.ROOT), ig.size(),
          config.builtInIg() ? " (built-in eHealth 2020.8" + (config.igPaths().isEmpty() ? ")" : ", " + config.igPaths() + ")")
              : config.igPaths().isEmpty() ? " (none)" : " (" + config.igPaths() + ")",
          validator.storedCount(),
          (System.nanoTime() - t0) / 1_000_000);
    }
    return validator;
  }

  /** The SearchParameters written through the API, as the store has them now. */
  private static Reindexer.Source storedSearchParameters(FhirContext ctx, ResourceStore store) {
    List<String> types = List.of(Reindexer.SEARCH_PARAMETER);
    return new Reindexer.Source() {
      @Override
      public String fingerprint() {
        return store.history().fingerprint(types);
      }

      @Override
      public List<org.hl7.fhir.instance.model.api.IBaseResource> current() {
        List<org.hl7.fhir.instance.model.api.IBaseResource> out = new java.util.ArrayList<>();
        for (ResourceHistory.Current row : store.history().changedSince(types, Instant.EPOCH)) {
          if (!row.deleted()) {
            out.add(ctx.newJsonParser().parseResource(row.json()));
          }
        }
        return out;
      }
    };
  }

  /** What the server declares and answers: everything, or the eHealth patient service's CapabilityStatement. */
  private static DeclaredSurface surface(FhirContext ctx, Config.Service service) {
    return service == Config.Service.PATIENT
        ? DeclaredSurface.of((CapabilityStatement) IgLoader.builtInCapabilityStatement(ctx, PATIENT_SERVICE))
        : DeclaredSurface.ALL;
  }

  /** The eHealth patient service's CapabilityStatement, in the built-in IG. */
  static final String PATIENT_SERVICE = "http://ehealth.sundhed.dk/fhir/CapabilityStatement/patient";

  /** The person register reached over FHIR, or null when none is configured (the server's own Persons). */
  private static RemotePersonRegister personRegister(FhirContext ctx, Config.PersonRegister settings) {
    if (settings.url() == null) {
      return null;
    }
    java.time.Duration timeout = java.time.Duration.ofMillis(settings.timeoutMs());
    java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().connectTimeout(timeout).build();
    return new RemotePersonRegister(client, ctx,
        new RemotePersonRegister.Settings(settings.url(), settings.token(), timeout, settings.retries()));
  }

  /** Completes when the resources stored before the current search parameters are indexed. */
  public CompletableFuture<Long> reindexed() {
    return reindexer.startUp();
  }

  /**
   * Prepares profile validation in the background, so that the first resource claiming a profile
   * does not wait seconds for it (the serve command does; tests take the wait when they need it).
   */
  public void warmUpValidation() {
    validator.warmUpInBackground();
  }

  public int port() {
    return http.port();
  }

  /** The base URL the server listens on, e.g. {@code http://127.0.0.1:8080/fhir}. */
  public String baseUrl() {
    return baseUrl;
  }

  @Override
  public void close() throws Exception {
    try {
      reindexer.close(); // its batch done, before the database goes
      http.close();
      notifications.close(); // no request writes any more; what is in flight is sent or left to its lease
      audit.close(); // what was read until now is audited before the database goes
    } finally {
      metrics.close();
      db.close();
      lease.close(); // last: no write of this process is in flight any more
    }
  }

  /** Whether reads are answered from memory now (this process holds the read cache lease). */
  public boolean readCacheActive() {
    return cache != null && cache.active();
  }
}
