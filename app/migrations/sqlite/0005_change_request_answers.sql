-- How the practice answered a patient's change request (Appointment
-- Requests): approved, denied, proposed (a new time the patient must
-- approve), cancelled or updated; the message the patient receives; and the
-- appointment's start before the answer moved it.
ALTER TABLE request ADD COLUMN outcome TEXT;
ALTER TABLE request ADD COLUMN response_message TEXT;
ALTER TABLE request ADD COLUMN original_start BIGINT;
