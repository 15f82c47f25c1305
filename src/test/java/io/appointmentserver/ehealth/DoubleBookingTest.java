package io.appointmentserver.ehealth;

import static org.assertj.core.api.Assertions.assertThat;

import io.appointmentserver.AppointmentServer;
import io.appointmentserver.store.Bookings;
import io.appointmentserver.support.Http;
import io.appointmentserver.support.Json;
import io.appointmentserver.support.TestServer;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** Double-booking detection: warn by default, reject (enforced by PostgreSQL) when configured. */
class DoubleBookingTest {
  static final String BASE = TestServer.base();

  static String uid() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  static String patient() {
    String id = "db-" + uid();
    Http.put(BASE + "/Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}");
    return "Patient/" + id;
  }

  static String appointment(String id, String status, String start, String end, String patient, String practitioner,
      String practitionerStatus) {
    return "{\"resourceType\":\"Appointment\",\"id\":\"" + id + "\",\"status\":\"" + status + "\",\"start\":\"" + start
        + "\",\"end\":\"" + end + "\",\"participant\":[{\"actor\":{\"reference\":\"" + patient + "\"},\"status\":\"accepted\"},"
        + "{\"actor\":{\"reference\":\"" + practitioner + "\"},\"status\":\"" + practitionerStatus + "\"}]}";
  }

  static HttpResponse<String> put(String base, String id, String body) {
    return Http.put(base + "/Appointment/" + id, body, "Prefer", "return=OperationOutcome");
  }

  static final String NINE = "2027-03-01T09:00:00+01:00";
  static final String TEN = "2027-03-01T10:00:00+01:00";
  static final String NINE_THIRTY = "2027-03-01T09:30:00+01:00";
  static final String ELEVEN = "2027-03-01T11:00:00+01:00";

  @Test
  void byDefaultAnOverlapIsStoredWithAWarningNamingTheOtherAppointment() {
    String p = patient();
    String doctor = "http://org.example.org/fhir/Practitioner/" + uid();
    String first = "db-a-" + uid();
    String second = "db-b-" + uid();
    assertThat(put(BASE, first, appointment(first, "booked", NINE, TEN, p, doctor, "accepted")).statusCode()).isEqualTo(201);
    HttpResponse<String> r = put(BASE, second, appointment(second, "booked", NINE_THIRTY, ELEVEN, patient(), doctor, "accepted"));
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(r.body()).contains("\"severity\":\"warning\"").contains("Appointment/" + first);
    assertThat(r.headers().firstValue("Warning").orElseThrow()).contains("Appointment/" + first);

    // adjacent times do not overlap; a declined participant is not booked
    String third = "db-c-" + uid();
    HttpResponse<String> adjacent = put(BASE, third, appointment(third, "booked", TEN, ELEVEN, p, "http://org.example.org/fhir/Practitioner/x-" + uid(), "accepted"));
    assertThat(adjacent.statusCode()).isEqualTo(201);
    assertThat(adjacent.headers().firstValue("Warning")).isEmpty();
    String fourth = "db-d-" + uid();
    HttpResponse<String> declined = put(BASE, fourth, appointment(fourth, "booked", NINE, TEN, patient(), doctor, "declined"));
    assertThat(declined.statusCode()).isEqualTo(201);
    assertThat(declined.headers().firstValue("Warning")).isEmpty();
  }

  @Test
  void underRejectAnOverlapIs409NamingTheOtherAndNothingIsWritten() throws Exception {
    try (AppointmentServer reject = TestServer.another(c -> c.withAppointmentOverlap(Bookings.Mode.REJECT))) {
      String base = reject.baseUrl();
      String p = patient();
      String first = "db-r1-" + uid();
      String second = "db-r2-" + uid();
      assertThat(put(base, first, appointment(first, "booked", NINE, TEN, p, "http://org.example.org/fhir/Practitioner/a-" + uid(), "accepted"))
          .statusCode()).isEqualTo(201);
      HttpResponse<String> r = put(base, second, appointment(second, "arrived", NINE_THIRTY, ELEVEN, p,
          "http://org.example.org/fhir/Practitioner/b-" + uid(), "accepted"));
      assertThat(r.statusCode()).isEqualTo(409);
      assertThat(Json.parse(r.body()).at("/issue/0/diagnostics").asText()).contains("Appointment/" + first);
      assertThat(Http.get(base + "/Appointment/" + second).statusCode()).isEqualTo(404);

      // a proposal may overlap; once the first is cancelled the slot is free
      assertThat(put(base, second, appointment(second, "proposed", NINE_THIRTY, ELEVEN, p, "http://org.example.org/fhir/Practitioner/b", "accepted"))
          .statusCode()).isEqualTo(201);
      assertThat(put(base, first, appointment(first, "cancelled", NINE, TEN, p, "http://org.example.org/fhir/Practitioner/a", "accepted"))
          .statusCode()).isEqualTo(200);
      assertThat(put(base, second, appointment(second, "booked", NINE_THIRTY, ELEVEN, p, "http://org.example.org/fhir/Practitioner/b", "accepted"))
          .statusCode()).isEqualTo(200);
      // deleting frees it as well
      Http.send("DELETE", base + "/Appointment/" + second, null);
      String third = "db-r3-" + uid();
      assertThat(put(base, third, appointment(third, "booked", NINE, ELEVEN, p, "http://org.example.org/fhir/Practitioner/c", "accepted"))
          .statusCode()).isEqualTo(201);
    }
  }

  @Test
  void underRejectConcurrentOverlappingBookingsOnTwoServersLetExactlyOneWin() throws Exception {
    try (AppointmentServer one = TestServer.another(c -> c.withAppointmentOverlap(Bookings.Mode.REJECT));
         AppointmentServer two = TestServer.another(c -> c.withAppointmentOverlap(Bookings.Mode.REJECT))) {
      String doctor = "http://org.example.org/fhir/Practitioner/busy-" + uid();
      List<String> patients = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        patients.add(patient());
      }
      List<Integer> statuses = Collections.synchronizedList(new ArrayList<>());
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String base = (i % 2 == 0 ? one : two).baseUrl();
        String id = "db-c" + i + "-" + uid();
        String body = appointment(id, "booked", NINE, TEN, patients.get(i), doctor, "accepted");
        Thread t = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            return;
          }
          statuses.add(put(base, id, body).statusCode());
        });
        threads.add(t);
        t.start();
      }
      go.countDown();
      for (Thread t : threads) {
        t.join();
      }
      assertThat(statuses).hasSize(8).containsOnly(201, 409);
      assertThat(statuses.stream().filter(s -> s == 201).count()).isEqualTo(1);
    }
  }
}
