-- SQLite twin of ../postgres/0002: the database backs up the rule that a
-- provider is never double-booked (writes are serialised by BEGIN IMMEDIATE,
-- so these checks cannot race).
CREATE TRIGGER appointment_no_double_booking_insert BEFORE INSERT ON appointment
WHEN NEW.status <> 'cancelled' AND EXISTS (
    SELECT 1 FROM appointment a
    WHERE a.host_provider_id = NEW.host_provider_id AND a.status <> 'cancelled'
      AND a.starts_at < NEW.ends_at AND NEW.starts_at < a.ends_at)
BEGIN
    SELECT RAISE(ABORT, 'appointment_no_double_booking');
END;
CREATE TRIGGER appointment_no_double_booking_update
BEFORE UPDATE OF starts_at, ends_at, status, host_provider_id ON appointment
WHEN NEW.status <> 'cancelled' AND EXISTS (
    SELECT 1 FROM appointment a
    WHERE a.id <> NEW.id AND a.host_provider_id = NEW.host_provider_id AND a.status <> 'cancelled'
      AND a.starts_at < NEW.ends_at AND NEW.starts_at < a.ends_at)
BEGIN
    SELECT RAISE(ABORT, 'appointment_no_double_booking');
END;
