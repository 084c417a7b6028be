-- Issue 16, point 5: a provider's calendar feed keeps patient names out of
-- event titles ("Appointment — Initial consultation") unless the provider
-- opts in under Account › Notifications › Calendar feed (1).
ALTER TABLE app_user ADD COLUMN feed_patient_names BIGINT NOT NULL DEFAULT 0
    CHECK (feed_patient_names IN (0, 1));

-- Issue 16, point 2: "Patient unwell" was stored (and sent to PMSs) as
-- 'pat-fb', which HL7 defines as "Patient: Feeling Better". It has a code
-- of our own now (domain::booking::REASONS) and is told to a PMS as HL7's
-- 'pat'; no other reason ever used 'pat-fb'.
UPDATE appointment SET cancel_reason_code = 'unwell' WHERE cancel_reason_code = 'pat-fb';
