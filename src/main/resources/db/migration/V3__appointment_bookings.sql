-- Who is booked when: one row per Patient or Practitioner participant of an appointment that is
-- not cancelled, noshow or entered-in-error (declined participants left out), written in the
-- appointment's own transaction. Under FHIR_APPOINTMENT_OVERLAP=reject the rows of booked and
-- arrived appointments are 'enforced', and PostgreSQL itself refuses two enforced rows of one
-- participant whose times overlap, whichever server process writes them.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE appointment_booking (
  res_type    text      NOT NULL,
  res_id      text      NOT NULL,
  participant text      NOT NULL,
  period      tstzrange NOT NULL,
  enforced    boolean   NOT NULL,
  CONSTRAINT appointment_booking_no_overlap
    EXCLUDE USING gist (participant WITH =, period WITH &&) WHERE (enforced)
);
CREATE INDEX appointment_booking_resource ON appointment_booking (res_type, res_id);
CREATE INDEX appointment_booking_overlap ON appointment_booking USING gist (participant, period);
