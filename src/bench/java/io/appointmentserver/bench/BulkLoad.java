package io.appointmentserver.bench;

import ca.uhn.fhir.context.FhirContext;
import io.appointmentserver.FhirServerContext;
import io.appointmentserver.interaction.ResourceCodec;
import io.appointmentserver.ehealth.AppointmentBookings;
import io.appointmentserver.ehealth.EhealthAppointment;
import io.appointmentserver.search.Extractor;
import io.appointmentserver.search.SearchIndex;
import io.appointmentserver.search.SearchParameters;
import io.appointmentserver.security.AccessTags;
import io.appointmentserver.store.Bookings;
import io.appointmentserver.store.Database;
import io.appointmentserver.store.ReadCacheLease;
import io.appointmentserver.store.ResourceStore;
import io.appointmentserver.store.ResourceWrites;
import io.appointmentserver.store.Write;
import java.time.Clock;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.hl7.fhir.dstu3.model.Appointment;
import org.hl7.fhir.dstu3.model.Extension;
import org.hl7.fhir.dstu3.model.Patient;
import org.hl7.fhir.dstu3.model.Reference;
import org.hl7.fhir.instance.model.api.IBaseResource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Loads the search benchmark's data (issue 5: 1,000,000 Appointments over 50,000 Patients)
 * through the server's own write path: {@link ResourceWrites#update} with the {@link SearchIndex},
 * the access tags and the bookings, as a PUT does, without HTTP, validation and audit. Several
 * threads, one transaction per resource. Patients are {@code Patient/bp<n>}; appointment
 * {@code Appointment/ba<i>} belongs to patient {@code i % patients}, care team
 * {@code CareTeam/bt<i % 100>}, a half-hour slot in 2026, status booked (3 in 5), cancelled or
 * proposed. Ids are fixed, so a second run writes new versions of the same resources.
 */
@Command(name = "bulk-load", mixinStandardHelpOptions = true,
    description = "Writes the search benchmark's Patients and Appointments through the store")
public final class BulkLoad implements Callable<Integer> {
  static final String TEAM = "http://organization.example.org/fhir/CareTeam/bt";

  @Option(names = "--db-url", required = true, description = "JDBC URL of the server's database")
  String dbUrl;

  @Option(names = "--db-user", defaultValue = "postgres")
  String dbUser;

  @Option(names = "--patients", defaultValue = "50000")
  int patients;

  @Option(names = "--appointments", defaultValue = "1000000")
  int appointments;

  @Option(names = "--threads", defaultValue = "4")
  int threads;

  public static void main(String[] args) {
    System.exit(new CommandLine(new BulkLoad()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    FhirContext ctx = FhirServerContext.create();
    ZoneId zone = ZoneId.of("Europe/Copenhagen");
    try (Database db = Database.open(new Database.Login(dbUrl, dbUser, ""), null, threads + 1, true);
         // a writer beside the server: no server process may answer from its cache meanwhile
         ReadCacheLease lease = ReadCacheLease.acquire(db::connect, null)) {
      SearchIndex index = new SearchIndex(new Extractor(ctx, new SearchParameters(ctx, List.of()), zone));
      ResourceStore store = new ResourceStore(db.dataSource(), Clock.systemUTC(), Bookings.Mode.WARN, index);
      ResourceCodec codec = new ResourceCodec(ctx, zone);
      AccessTags tags = new AccessTags(ctx, Map.of("Appointment", EhealthAppointment::addTags));
      run("Patient", patients, i -> {
        Patient p = new Patient();
        p.setId("bp" + i);
        p.addIdentifier().setSystem("urn:bench:patient").setValue("bp" + i);
        p.addName().setFamily("Bench" + (i % 1000)).addGiven("P" + i);
        return p;
      }, store, codec, tags);
      run("Appointment", appointments, BulkLoad::appointment, store, codec, tags);
    }
    return 0;
  }

  static Appointment appointment(long i) {
    SplittableRandom rnd = new SplittableRandom(i);
    Appointment a = new Appointment();
    a.setId("ba" + i);
    String team = TEAM + (i % 100);
    a.addExtension(new Extension("http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-responsible",
        new Reference(team)));
    int r = rnd.nextInt(5);
    a.setStatus(r < 3 ? Appointment.AppointmentStatus.BOOKED
        : r == 3 ? Appointment.AppointmentStatus.CANCELLED : Appointment.AppointmentStatus.PROPOSED);
    long slot = rnd.nextInt(365 * 20); // half-hour slots, 08:00 to 18:00, over 2026
    java.time.Instant start = java.time.LocalDate.of(2026, 1, 1).plusDays(slot / 20)
        .atTime(8, 0).plusMinutes(30 * (slot % 20)).atZone(ZoneId.of("Europe/Copenhagen")).toInstant();
    a.setStart(java.util.Date.from(start));
    a.setEnd(java.util.Date.from(start.plusSeconds(1800)));
    a.addParticipant().setStatus(Appointment.ParticipationStatus.ACCEPTED).addExtension(new Extension(
        "http://ehealth.sundhed.dk/fhir/StructureDefinition/ehealth-ext-careteam", new Reference(team)));
    a.addParticipant().setStatus(Appointment.ParticipationStatus.ACCEPTED)
        .setActor(new Reference("Patient/bp" + (i % PATIENTS.get())));
    return a;
  }

  /** The number of patients, for {@link #appointment} (set before the appointments are made). */
  private static final AtomicLong PATIENTS = new AtomicLong(1);

  private void run(String type, int n, java.util.function.LongFunction<IBaseResource> make, ResourceStore store,
      ResourceCodec codec, AccessTags tags) throws InterruptedException {
    PATIENTS.set(patients);
    AtomicLong next = new AtomicLong();
    AtomicLong done = new AtomicLong();
    long t0 = System.nanoTime();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(() -> {
        for (long i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
          IBaseResource res = make.apply(i);
          String id = res.getIdElement().getIdPart();
          Bookings bookings = type.equals("Appointment") ? AppointmentBookings.of(res) : null;
          Write.Content content = new Write.Content((rid, version, at) -> codec.stamp(res, type, rid, version, at), res,
              tags.of(type, res), Set.of(), bookings);
          store.writes().update(new Write(new Write.Target(type, id, null), content, Write.Guard.NONE,
              Write.AuditTrail.NONE));
          done.incrementAndGet();
        }
      }, "bulk-" + t);
      w.start();
      workers.add(w);
    }
    long lastReport = System.nanoTime();
    while (workers.stream().anyMatch(Thread::isAlive)) {
      Thread.sleep(200);
      if (System.nanoTime() - lastReport > 10_000_000_000L) {
        lastReport = System.nanoTime();
        System.out.printf("%s: %d of %d, %.0f/s%n", type, done.get(), n, done.get() / ((lastReport - t0) / 1e9));
      }
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf("RESULT type=%s n=%d seconds=%.1f per_second=%.0f%n", type, done.get(), secs, done.get() / secs);
  }
}
