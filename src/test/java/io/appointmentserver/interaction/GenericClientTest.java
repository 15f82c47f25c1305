package io.appointmentserver.interaction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import io.appointmentserver.support.TestServer;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.hl7.fhir.dstu3.model.Basic;
import org.hl7.fhir.dstu3.model.Bundle;
import org.hl7.fhir.dstu3.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.dstu3.model.Bundle.HTTPVerb;
import org.hl7.fhir.dstu3.model.CodeableConcept;
import org.hl7.fhir.dstu3.model.IdType;
import org.hl7.fhir.dstu3.model.Patient;
import org.hl7.fhir.instance.model.api.IIdType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server as HAPI's generic client sees it (the client most eHealth callers use): create,
 * read, vread, version-aware update, 412 on a stale update, history paged with the client's
 * {@code loadPage()}, delete and 410. The client reads {@code /metadata} once, as it does by
 * default, and checks that the server speaks DSTU3.
 */
class GenericClientTest {
  private static FhirContext ctx;
  private static IGenericClient client;

  @BeforeAll
  static void client() {
    ctx = FhirContext.forDstu3();
    client = ctx.newRestfulGenericClient(TestServer.base());
    client.registerInterceptor(new BearerTokenAuthInterceptor(TestServer.systemToken()));
  }

  private static Patient patient(String family) {
    Patient p = new Patient();
    p.addName().setFamily(family);
    return p;
  }

  @Test
  void createReadVreadAndVersionAwareUpdate() {
    MethodOutcome created = client.create().resource(patient("Jensen")).execute();
    assertThat(created.getCreated()).isTrue();
    IIdType id = created.getId();
    assertThat(id.getResourceType()).isEqualTo("Patient");
    assertThat(id.getVersionIdPart()).isEqualTo("1");

    Patient read = client.read().resource(Patient.class).withId(id.getIdPart()).execute();
    assertThat(read.getNameFirstRep().getFamily()).isEqualTo("Jensen");
    assertThat(read.getIdElement().getIdPart()).isEqualTo(id.getIdPart());
    assertThat(read.getMeta().getVersionId()).isEqualTo("1");
    assertThat(read.getMeta().getLastUpdated()).isNotNull();

    // the id of what was read carries version 1: the client sends If-Match "1" with it
    read.getNameFirstRep().setFamily("Jensen-Holm");
    MethodOutcome updated = client.update().resource(read).execute();
    assertThat(updated.getId().getIdPart()).isEqualTo(id.getIdPart());
    assertThat(updated.getId().getVersionIdPart()).isEqualTo("2");
    assertThat(updated.getCreated()).isNotEqualTo(Boolean.TRUE);

    // an explicit If-Match on top of an id without version
    Patient v3 = patient("Holm");
    v3.setId(id.getIdPart());
    MethodOutcome third = client.update().resource(v3).withId(id.toUnqualifiedVersionless())
        .withAdditionalHeader("If-Match", "W/\"2\"").execute();
    assertThat(third.getId().getVersionIdPart()).isEqualTo("3");

    Patient version1 = client.read().resource(Patient.class).withIdAndVersion(id.getIdPart(), "1").execute();
    assertThat(version1.getNameFirstRep().getFamily()).isEqualTo("Jensen");
    assertThat(version1.getMeta().getVersionId()).isEqualTo("1");
    Patient version2 = client.read().resource(Patient.class).withIdAndVersion(id.getIdPart(), "2").execute();
    assertThat(version2.getNameFirstRep().getFamily()).isEqualTo("Jensen-Holm");
    Patient current = client.read().resource(Patient.class).withId(id.getIdPart()).execute();
    assertThat(current.getNameFirstRep().getFamily()).isEqualTo("Holm");
    assertThat(current.getMeta().getVersionId()).isEqualTo("3");
  }

  @Test
  void staleVersionAwareUpdateIsRefusedWith412AndChangesNothing() {
    IIdType id = client.create().resource(patient("Berg")).execute().getId();
    Patient first = client.read().resource(Patient.class).withId(id.getIdPart()).execute();
    Patient second = client.read().resource(Patient.class).withId(id.getIdPart()).execute();

    first.getNameFirstRep().setFamily("Berg A");
    assertThat(client.update().resource(first).execute().getId().getVersionIdPart()).isEqualTo("2");

    // second was read at version 1 too: its update is based on a version that is gone
    second.getNameFirstRep().setFamily("Berg B");
    assertThatThrownBy(() -> client.update().resource(second).execute())
        .isInstanceOf(PreconditionFailedException.class)
        .satisfies(e -> assertThat(((PreconditionFailedException) e).getStatusCode()).isEqualTo(412));

    // the same with an explicit If-Match header
    Patient third = patient("Berg C");
    third.setId(id.getIdPart());
    assertThatThrownBy(() -> client.update().resource(third).withId(id.toUnqualifiedVersionless())
        .withAdditionalHeader("If-Match", "W/\"1\"").execute())
        .isInstanceOf(PreconditionFailedException.class);

    Patient current = client.read().resource(Patient.class).withId(id.getIdPart()).execute();
    assertThat(current.getMeta().getVersionId()).isEqualTo("2");
    assertThat(current.getNameFirstRep().getFamily()).isEqualTo("Berg A");
  }

  @Test
  void instanceHistoryPagesThroughEveryVersionOnceNewestFirst() {
    IIdType id = client.create().resource(patient("v1")).execute().getId().toUnqualifiedVersionless();
    int versions = 7;
    for (int v = 2; v <= versions; v++) {
      Patient p = patient("v" + v);
      p.setId(id);
      client.update().resource(p).execute();
    }

    Bundle page = client.history().onInstance(id).returnBundle(Bundle.class).count(3).execute();
    assertThat(page.getType()).isEqualTo(Bundle.BundleType.HISTORY);
    assertThat(page.getTotal()).isEqualTo(versions);
    List<BundleEntryComponent> entries = allPages(page, 3);

    List<String> seen = new ArrayList<>();
    for (BundleEntryComponent e : entries) {
      Patient p = (Patient) e.getResource();
      assertThat(p.getIdElement().getIdPart()).isEqualTo(id.getIdPart());
      String version = p.getMeta().getVersionId();
      assertThat(p.getNameFirstRep().getFamily()).isEqualTo("v" + version);
      assertThat(e.getRequest().getMethod()).isEqualTo(version.equals("1") ? HTTPVerb.POST : HTTPVerb.PUT);
      seen.add(version);
    }
    assertThat(seen).containsExactly("7", "6", "5", "4", "3", "2", "1");
  }

  /**
   * A client paging through a history while the resource changes still gets each version once:
   * the pages are pages of the history as it was when the first page was served (the server
   * stamps that moment as the bundle's time), not of a list that grows at the front meanwhile.
   */
  @Test
  void historyPagesShowEachVersionOnceWhenTheResourceChangesWhilePaging() {
    IIdType id = client.create().resource(patient("v1")).execute().getId().toUnqualifiedVersionless();
    for (int v = 2; v <= 4; v++) {
      Patient p = patient("v" + v);
      p.setId(id);
      client.update().resource(p).execute();
    }
    Bundle first = client.history().onInstance(id).returnBundle(Bundle.class).count(2).execute();
    assertThat(first.getTotal()).isEqualTo(4);

    Patient v5 = patient("v5");
    v5.setId(id);
    client.update().resource(v5).execute();

    List<String> seen = new ArrayList<>();
    for (BundleEntryComponent e : allPages(first, 2)) {
      seen.add(((Patient) e.getResource()).getMeta().getVersionId());
    }
    assertThat(seen).as("versions over all pages").doesNotHaveDuplicates().containsSubsequence("4", "3", "2", "1");
  }

  @Test
  void typeHistoryPagesThroughEveryVersionOnceNewestFirst() {
    // Basic with a code of this run's own: the type history holds other tests' Basics too, so
    // look from the first write of this test on and at this test's resources in it
    String marker = UUID.randomUUID().toString();
    Basic first = basic(marker, 1);
    MethodOutcome o = client.create().resource(first).execute();
    Date since = ((Basic) o.getResource()).getMeta().getLastUpdated();
    Set<String> written = new HashSet<>();
    written.add(o.getId().getIdPart() + "/1");
    for (int r = 0; r < 4; r++) {
      IIdType id = r == 0 ? o.getId().toUnqualifiedVersionless()
          : client.create().resource(basic(marker, 1)).execute().getId().toUnqualifiedVersionless();
      written.add(id.getIdPart() + "/1");
      for (int v = 2; v <= 3; v++) {
        Basic b = basic(marker, v);
        b.setId(id);
        client.update().resource(b).execute();
        written.add(id.getIdPart() + "/" + v);
      }
    }
    assertThat(written).hasSize(12);

    Bundle page = client.history().onType(Basic.class).returnBundle(Bundle.class).since(since).count(4).execute();
    List<BundleEntryComponent> entries = allPages(page, 4);

    List<String> mine = new ArrayList<>();
    Date previous = null;
    for (BundleEntryComponent e : entries) {
      Basic b = (Basic) e.getResource();
      Date lastUpdated = b.getMeta().getLastUpdated();
      assertThat(lastUpdated).isAfterOrEqualTo(since);
      if (previous != null) {
        assertThat(lastUpdated).as("newest first").isBeforeOrEqualTo(previous);
      }
      previous = lastUpdated;
      if (b.getCode().getText() != null && b.getCode().getText().startsWith(marker)) {
        mine.add(b.getIdElement().getIdPart() + "/" + b.getMeta().getVersionId());
      }
    }
    assertThat(mine).as("each version written, exactly once").containsExactlyInAnyOrderElementsOf(written);
    assertThat(page.getTotal()).isEqualTo(entries.size());
  }

  private static Basic basic(String marker, int version) {
    Basic b = new Basic();
    b.setCode(new CodeableConcept().setText(marker + " v" + version));
    return b;
  }

  @Test
  void deletedResourceIsGoneAndItsHistoryEndsWithTheDelete() {
    IIdType id = client.create().resource(patient("Dahl")).execute().getId().toUnqualifiedVersionless();
    Patient p = patient("Dahl 2");
    p.setId(id);
    client.update().resource(p).execute();

    MethodOutcome deleted = client.delete().resourceById(id).execute();
    assertThat(deleted).isNotNull();

    assertThatThrownBy(() -> client.read().resource(Patient.class).withId(id.getIdPart()).execute())
        .isInstanceOf(ResourceGoneException.class)
        .satisfies(e -> assertThat(((ResourceGoneException) e).getStatusCode()).isEqualTo(410));
    // the versions before the delete stay readable
    assertThat(client.read().resource(Patient.class).withIdAndVersion(id.getIdPart(), "2").execute()
        .getNameFirstRep().getFamily()).isEqualTo("Dahl 2");

    Bundle history = client.history().onInstance(id).returnBundle(Bundle.class).execute();
    assertThat(history.getTotal()).isEqualTo(3);
    List<BundleEntryComponent> entries = allPages(history, 100);
    assertThat(entries).hasSize(3);
    BundleEntryComponent newest = entries.get(0);
    assertThat(newest.getRequest().getMethod()).isEqualTo(HTTPVerb.DELETE);
    assertThat(newest.getRequest().getUrl()).contains("Patient/" + id.getIdPart());
    assertThat(newest.hasResource()).as("a delete entry has no resource").isFalse();
    assertThat(entries.get(1).getRequest().getMethod()).isEqualTo(HTTPVerb.PUT);
    assertThat(((Patient) entries.get(1).getResource()).getMeta().getVersionId()).isEqualTo("2");
    assertThat(entries.get(2).getRequest().getMethod()).isEqualTo(HTTPVerb.POST);

    // writing it again brings it back, as version 4
    Patient again = patient("Dahl 3");
    again.setId(id);
    MethodOutcome recreated = client.update().resource(again).execute();
    assertThat(recreated.getId().getVersionIdPart()).isEqualTo("4");
    assertThat(client.read().resource(Patient.class).withId(id.getIdPart()).execute()
        .getNameFirstRep().getFamily()).isEqualTo("Dahl 3");
  }

  /** Every entry of a history, following the next links with the client; each page at most pageSize. */
  private static List<BundleEntryComponent> allPages(Bundle first, int pageSize) {
    List<BundleEntryComponent> out = new ArrayList<>();
    Bundle page = first;
    for (int pages = 0; pages < 1000; pages++) {
      assertThat(page.getEntry().size()).as("entries on page " + (pages + 1)).isLessThanOrEqualTo(pageSize);
      out.addAll(page.getEntry());
      if (page.getLink(Bundle.LINK_NEXT) == null) {
        return out;
      }
      page = client.loadPage().next(page).execute();
    }
    throw new AssertionError("more than 1000 pages");
  }
}
