-- AuditEvent search by patient (and date): one more B-tree entry per event that concerns a patient,
-- none for the others. Searches by the other parameters read the events' JSON on the rows the
-- date and patient conditions leave, so the insert path stays as cheap as it was.
CREATE INDEX audit_event_patient ON audit_event (patient, recorded) WHERE patient IS NOT NULL;
