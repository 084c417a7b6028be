-- How a clinic writes dates and times on pages and in messages (issue 12,
-- point 8): '24h' ("Mon 30 Nov 2026, 15:00", what every clinic had before,
-- hence the default), 'en-US' ("Mon, Nov 30, 2026, 3:00 PM") or 'en-AU'
-- ("Mon 30 Nov 2026, 3:00 pm"). domain::datetime_style::DateStyle reads it.
ALTER TABLE clinic ADD COLUMN date_style TEXT NOT NULL DEFAULT '24h'
    CHECK (date_style IN ('24h', 'en-US', 'en-AU'));
