package io.appointmentserver.search;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.fhir.parser.DataFormatException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import org.hl7.fhir.dstu3.model.BaseDateTimeType;
import org.hl7.fhir.dstu3.model.DateTimeType;

/**
 * The range {@code [lo, hi)} a date, dateTime or instant covers at its precision
 * (<a href="https://hl7.org/fhir/STU3/search.html#date">DSTU3 date search</a>): {@code 2019-07}
 * is all of July. Values without a time of day are days in the server's time zone.
 */
public record DateRange(Instant lo, Instant hi) {
  /** For open period ends, and anything outside years 1 to 9999: PostgreSQL's infinities. */
  public static final Instant MIN = Instant.parse("0001-01-01T00:00:00Z");
  public static final Instant MAX = Instant.parse("9999-12-31T00:00:00Z");

  public static DateRange of(BaseDateTimeType v, ZoneId zone) {
    if (v == null || v.getValue() == null) {
      return null;
    }
    TemporalPrecisionEnum precision = v.getPrecision();
    String s = v.getValueAsString();
    switch (precision) {
      case YEAR, MONTH, DAY -> {
        int year = Integer.parseInt(s.substring(0, 4));
        int month = precision == TemporalPrecisionEnum.YEAR ? 1 : Integer.parseInt(s.substring(5, 7));
        int day = precision == TemporalPrecisionEnum.DAY ? Integer.parseInt(s.substring(8, 10)) : 1;
        LocalDate start = LocalDate.of(year, month, day);
        LocalDate end = switch (precision) {
          case YEAR -> start.plusYears(1);
          case MONTH -> start.plusMonths(1);
          default -> start.plusDays(1);
        };
        return new DateRange(start.atStartOfDay(zone).toInstant(), end.atStartOfDay(zone).toInstant());
      }
      default -> {
        Instant lo = v.getValue().toInstant();
        long unitMillis = switch (precision) {
          case MINUTE -> 60_000;
          case SECOND -> 1_000;
          default -> 1;
        };
        return new DateRange(lo, lo.plusMillis(unitMillis));
      }
    }
  }

  /** A search value such as {@code 2019-07-01} or {@code 2019-07-01T09:00:00+02:00}; null if it is not a date. */
  public static DateRange parse(String value, ZoneId zone) {
    try {
      DateTimeType dt = new DateTimeType(value);
      return of(dt, zone);
    } catch (DataFormatException | IllegalArgumentException | StringIndexOutOfBoundsException e) {
      return null;
    }
  }
}
