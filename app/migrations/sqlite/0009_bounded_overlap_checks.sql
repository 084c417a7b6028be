-- The double-booking triggers of 0002 looked at every appointment of the
-- provider that starts before the new one ends: the whole history, so each
-- insert got slower as a clinic's calendar grew. No appointment lasts more
-- than 12 hours (booking::LONGEST_APPOINTMENT_SECS, now also refused here),
-- so one that overlaps starts at most 12 hours before the new one: the
-- index range scanned stays a day wide however many years are stored.
DROP TRIGGER appointment_no_double_booking_insert;
DROP TRIGGER appointment_no_double_booking_update;
CREATE TRIGGER appointment_no_double_booking_insert BEFORE INSERT ON appointment
WHEN NEW.status <> 'cancelled' AND EXISTS (
    SELECT 1 FROM appointment a
    WHERE a.host_provider_id = NEW.host_provider_id AND a.status <> 'cancelled'
      AND a.starts_at < NEW.ends_at AND a.starts_at > NEW.starts_at - 43200
      AND NEW.starts_at < a.ends_at)
BEGIN
    SELECT RAISE(ABORT, 'appointment_no_double_booking');
END;
CREATE TRIGGER appointment_no_double_booking_update
BEFORE UPDATE OF starts_at, ends_at, status, host_provider_id ON appointment
WHEN NEW.status <> 'cancelled' AND EXISTS (
    SELECT 1 FROM appointment a
    WHERE a.id <> NEW.id AND a.host_provider_id = NEW.host_provider_id AND a.status <> 'cancelled'
      AND a.starts_at < NEW.ends_at AND a.starts_at > NEW.starts_at - 43200
      AND NEW.starts_at < a.ends_at)
BEGIN
    SELECT RAISE(ABORT, 'appointment_no_double_booking');
END;
CREATE TRIGGER appointment_at_most_12_hours_insert BEFORE INSERT ON appointment
WHEN NEW.ends_at - NEW.starts_at > 43200
BEGIN
    SELECT RAISE(ABORT, 'appointment_at_most_12_hours');
END;
CREATE TRIGGER appointment_at_most_12_hours_update BEFORE UPDATE OF starts_at, ends_at ON appointment
WHEN NEW.ends_at - NEW.starts_at > 43200
BEGIN
    SELECT RAISE(ABORT, 'appointment_at_most_12_hours');
END;
