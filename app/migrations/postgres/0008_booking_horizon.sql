-- How far ahead a clinic's patients may book, request or move an
-- appointment (issue 13): the server enforces it on every patient-facing
-- change, and the booking page offers free times up to it.
ALTER TABLE clinic ADD COLUMN booking_horizon_days BIGINT NOT NULL DEFAULT 90;
