package io.appointmentserver.bench;

import ca.uhn.fhir.context.FhirContext;
import io.appointmentserver.FhirServerContext;
import io.appointmentserver.search.Extractor;
import io.appointmentserver.search.SearchParameters;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The CPU the search index's extraction costs per write, in one thread, by thread CPU time (less
 * sensitive to a busy machine than throughput): the seed appointment's JSON parsed again (what
 * the index did before it got the write's parsed resource) and the extraction itself.
 *
 * <pre>java -cp target/appointment-server-bench.jar:target/appointment-server.jar \
 *     io.appointmentserver.bench.IndexCost ../shared/seed/request-body.json</pre>
 */
public final class IndexCost {
  private IndexCost() {}

  public static void main(String[] args) throws Exception {
    String json = Files.readString(Path.of(args.length > 0 ? args[0] : "../shared/seed/request-body.json"));
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    FhirContext ctx = FhirServerContext.create();
    Extractor extractor = new Extractor(ctx, new SearchParameters(ctx, List.of()), ZoneId.of("Europe/Copenhagen"));
    IBaseResource parsed = ctx.newJsonParser().parseResource(json);
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    for (int round = 0; round < 3; round++) { // the first round warms the JIT up
      long t0 = cpu.getCurrentThreadCpuTime();
      int rows = 0;
      for (int i = 0; i < n; i++) {
        rows += ctx.newJsonParser().parseResource(json).getIdElement().getIdPart() == null ? 0 : 1;
      }
      long t1 = cpu.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        rows += extractor.extract("Appointment", parsed).size();
      }
      long t2 = cpu.getCurrentThreadCpuTime();
      System.out.printf("round %d: parse %.1f us, extract %.1f us per resource (%d)%n", round,
          (t1 - t0) / 1e3 / n, (t2 - t1) / 1e3 / n, rows);
    }
  }
}
