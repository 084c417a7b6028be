-- The Bookings patient-name search finds the matching patients first, then
-- their appointments through this index. It carries every column the
-- search's filter and count read, so counting thousands of matches (a short
-- fragment like "son") does not visit the table rows. It replaces the plain
-- (patient_id, starts_at) index, which it extends.
CREATE INDEX appointment_patient_cover
    ON appointment (patient_id, starts_at, status, ends_at, clinic_id, host_provider_id);
DROP INDEX appointment_patient;
