-- How each service takes place (issue 12): video (join link, meeting ID and
-- passcode), in person (at the clinic's address) or by phone (a number the
-- patient calls; blank: the clinic calls the patient). Every existing
-- service was a video one.
ALTER TABLE service ADD COLUMN modality TEXT NOT NULL DEFAULT 'video'
    CHECK (modality IN ('video', 'in_person', 'phone'));
ALTER TABLE clinic ADD COLUMN address TEXT NOT NULL DEFAULT ''
    CHECK (length(address) <= 300);
ALTER TABLE clinic ADD COLUMN call_phone TEXT NOT NULL DEFAULT ''
    CHECK (length(call_phone) <= 40);
-- Whether staff must give a reason (from the fixed list) to cancel; until
-- now every clinic had to.
ALTER TABLE clinic ADD COLUMN cancel_reason_required BIGINT NOT NULL DEFAULT 1
    CHECK (cancel_reason_required IN (0, 1));
