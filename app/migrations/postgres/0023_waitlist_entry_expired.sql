-- A waitlist entry whose last date has passed (in the clinic's zone) can
-- never be offered a time again; the timers mark it 'expired' (issue 16,
-- gaps) so it stops counting as waiting: it no longer blocks joining the
-- same waitlist again and is shown to the patient and staff as ended.
ALTER TABLE waitlist_entry DROP CONSTRAINT waitlist_entry_status_check;
ALTER TABLE waitlist_entry ADD CONSTRAINT waitlist_entry_status_check
    CHECK (status IN ('waiting', 'booked', 'removed', 'expired'));
-- The timers look for waiting entries past their last date on every poll.
CREATE INDEX waitlist_entry_due ON waitlist_entry (date_to) WHERE status = 'waiting';
