//! The demo clinics, people and calendar, as data. Everything refers to
//! everything else by key (`"north"`, `"lee"`, `"video"`); the loader in
//! `super` turns keys into ids. Days are counted from the clinic's today,
//! times are the clinic's wall clock.

use crate::domain::modality::Modality;
use crate::domain::notify::{Channel, NotifyEvent};
use crate::domain::role::Role;

pub(super) struct Clinic {
    pub key: &'static str,
    pub slug: &'static str,
    pub name: &'static str,
    pub time_zone: &'static str,
    pub phone: &'static str,
    pub late_cancel_fee_cents: i64,
    /// Where in-person appointments take place.
    pub address: &'static str,
    /// Staff must choose a reason to cancel.
    pub cancel_reason_required: bool,
    /// How the clinic writes dates and times (`DateStyle` code).
    pub date_style: &'static str,
}

pub(super) const CLINICS: &[Clinic] = &[
    Clinic {
        key: "north",
        slug: "northside",
        name: "Northside Telehealth",
        time_zone: "America/New_York",
        phone: "+1 212 555 0100",
        late_cancel_fee_cents: 5000,
        address: "",
        cancel_reason_required: true,
        // A US practice: "Mon, Nov 30, 2026, 3:00 PM".
        date_style: "en-US",
    },
    Clinic {
        key: "harbour",
        slug: "harbour",
        name: "Harbour Dental",
        time_zone: "Australia/Sydney",
        phone: "+61 2 5550 0100",
        late_cancel_fee_cents: 4000,
        // A dental practice: patients come in, and cancelling needs no reason.
        address: "Level 2, 18 Harbour Street, Sydney NSW 2000",
        cancel_reason_required: false,
        // An Australian practice: "Mon 30 Nov 2026, 3:00 pm".
        date_style: "en-AU",
    },
];

/// Both clinics ask new patients the same two questions.
pub(super) const PRE_REQUEST_FORM: &str = r#"[{"label":"What would you like to discuss?","kind":"text","required":true},{"label":"Is this your first visit?","kind":"choice","options":["Yes","No"],"required":false}]"#;

pub(super) struct Person {
    pub key: &'static str,
    pub email: &'static str,
    pub name: &'static str,
    pub mobile: &'static str,
    pub time_zone: &'static str,
    /// (clinic key, role), in the order the memberships are made.
    pub roles: &'static [(&'static str, Role)],
    /// How the login page describes the account.
    pub login: &'static str,
}

const NY: &str = "America/New_York";
const SYD: &str = "Australia/Sydney";

pub(super) const PEOPLE: &[Person] = &[
    Person {
        key: "admin_n",
        email: "admin@northside.test",
        name: "Alex Morgan",
        mobile: "+12125550101",
        time_zone: NY,
        roles: &[("north", Role::Admin)],
        login: "Admin, Northside Telehealth",
    },
    Person {
        key: "sched",
        email: "scheduler@northside.test",
        name: "Sam Rivera",
        mobile: "+12125550102",
        time_zone: NY,
        roles: &[("north", Role::Scheduler)],
        login: "Scheduler, Northside Telehealth",
    },
    Person {
        key: "lee",
        email: "dr.lee@northside.test",
        name: "Dr. Jordan Lee",
        mobile: "+12125550103",
        time_zone: NY,
        roles: &[("north", Role::Provider)],
        login: "Provider, Northside Telehealth",
    },
    Person {
        key: "patel",
        email: "dr.patel@northside.test",
        name: "Dr. Priya Patel",
        mobile: "+12125550104",
        time_zone: NY,
        roles: &[("north", Role::Provider)],
        login: "Provider, Northside Telehealth",
    },
    Person {
        key: "kim",
        email: "dr.kim@northside.test",
        name: "Dr. Min-jun Kim",
        mobile: "+12125550105",
        time_zone: NY,
        roles: &[("north", Role::Provider)],
        login: "Provider, Northside Telehealth",
    },
    Person {
        key: "admin_h",
        email: "admin@harbour.test",
        name: "Harper Quinn",
        mobile: "+61255500101",
        time_zone: SYD,
        roles: &[("harbour", Role::Admin)],
        login: "Admin, Harbour Dental",
    },
    Person {
        key: "nguyen",
        email: "dr.nguyen@harbour.test",
        name: "Dr. Linh Nguyen",
        mobile: "+61255500102",
        time_zone: SYD,
        roles: &[("harbour", Role::Provider)],
        login: "Provider, Harbour Dental",
    },
    Person {
        key: "ann",
        email: "ann@patients.test",
        name: "Ann Archer",
        mobile: "+12125550199",
        time_zone: NY,
        roles: &[("north", Role::Patient), ("harbour", Role::Patient)],
        login: "Patient",
    },
    Person {
        key: "ben",
        email: "ben@patients.test",
        name: "Ben Brooks",
        mobile: "+61255500199",
        time_zone: SYD,
        roles: &[("north", Role::Patient), ("harbour", Role::Patient)],
        login: "Patient",
    },
];

pub(super) struct Service {
    pub key: &'static str,
    pub clinic: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub minutes: i64,
    /// 0: no payment asked.
    pub price_cents: i64,
    pub modality: Modality,
}

pub(super) const SERVICES: &[Service] = &[
    Service {
        key: "video",
        clinic: "north",
        name: "Video consultation",
        description: "A 30-minute video visit with a clinician.",
        minutes: 30,
        price_cents: 0,
        modality: Modality::Video,
    },
    Service {
        key: "follow",
        clinic: "north",
        name: "Follow-up",
        description: "A short check-in after a previous visit.",
        minutes: 15,
        price_cents: 0,
        modality: Modality::Video,
    },
    Service {
        key: "assess",
        clinic: "north",
        name: "Initial assessment",
        description: "A full first assessment.",
        minutes: 60,
        price_cents: 12000,
        modality: Modality::Video,
    },
    Service {
        key: "checkup",
        clinic: "harbour",
        name: "Check-up",
        description: "Routine dental check-up.",
        minutes: 30,
        price_cents: 8000,
        modality: Modality::InPerson,
    },
    Service {
        key: "clean",
        clinic: "harbour",
        name: "Cleaning",
        description: "Scale and clean.",
        minutes: 45,
        price_cents: 11000,
        modality: Modality::InPerson,
    },
    Service {
        key: "emerg",
        clinic: "harbour",
        name: "Emergency visit",
        description: "Same-day care for dental pain.",
        minutes: 30,
        price_cents: 15000,
        modality: Modality::InPerson,
    },
];

/// A provider's weekly hours at a clinic.
pub(super) struct Hours {
    pub provider: &'static str,
    pub clinic: &'static str,
    /// 0 = Monday.
    pub weekdays: &'static [i64],
    pub from_hour: i64,
    pub to_hour: i64,
    /// Takes on-demand ("Now") sessions.
    pub now: bool,
}

pub(super) const HOURS: &[Hours] = &[
    Hours {
        provider: "lee",
        clinic: "north",
        weekdays: &[0, 1, 2, 3, 4],
        from_hour: 9,
        to_hour: 17,
        now: false,
    },
    Hours {
        provider: "patel",
        clinic: "north",
        weekdays: &[0, 1, 2, 3, 4],
        from_hour: 9,
        to_hour: 17,
        now: false,
    },
    // Dr Kim takes on-demand sessions, so Northside offers "Now".
    Hours {
        provider: "kim",
        clinic: "north",
        weekdays: &[0, 2, 4],
        from_hour: 12,
        to_hour: 18,
        now: true,
    },
    Hours {
        provider: "nguyen",
        clinic: "harbour",
        weekdays: &[0, 1, 2, 3, 4],
        from_hour: 8,
        to_hour: 16,
        now: false,
    },
];

/// One appointment; its length is its service's.
pub(super) struct Booking {
    pub clinic: &'static str,
    pub service: &'static str,
    pub host: &'static str,
    pub patient: &'static str,
    /// Days from the clinic's today.
    pub day: i64,
    pub at: (u32, u32),
    pub status: &'static str,
    pub invited: &'static [&'static str],
}

/// One row of `BOOKINGS`: the table reads best one booking a line.
#[allow(clippy::too_many_arguments)]
const fn booking(
    clinic: &'static str,
    service: &'static str,
    host: &'static str,
    patient: &'static str,
    day: i64,
    at: (u32, u32),
    status: &'static str,
    invited: &'static [&'static str],
) -> Booking {
    Booking {
        clinic,
        service,
        host,
        patient,
        day,
        at,
        status,
        invited,
    }
}

pub(super) const BOOKINGS: &[Booking] = &[
    booking(
        "north",
        "video",
        "lee",
        "ann",
        -2,
        (10, 0),
        "fulfilled",
        &[],
    ),
    booking(
        "north",
        "follow",
        "patel",
        "ben",
        -1,
        (14, 0),
        "booked",
        &[],
    ),
    booking(
        "north",
        "video",
        "kim",
        "ann",
        -1,
        (12, 30),
        "cancelled",
        &[],
    ),
    booking(
        "north",
        "assess",
        "lee",
        "ben",
        0,
        (15, 0),
        "booked",
        &["patel"],
    ),
    booking("north", "video", "patel", "ann", 1, (9, 30), "booked", &[]),
    booking(
        "north",
        "video",
        "lee",
        "ann",
        1,
        (13, 0),
        "booked",
        &["kim"],
    ),
    booking("north", "follow", "lee", "ben", 2, (16, 0), "pending", &[]),
    booking(
        "north",
        "video",
        "kim",
        "ben",
        3,
        (14, 0),
        "booked",
        &["lee"],
    ),
    booking(
        "harbour",
        "checkup",
        "nguyen",
        "ben",
        -1,
        (9, 0),
        "fulfilled",
        &[],
    ),
    booking(
        "harbour",
        "clean",
        "nguyen",
        "ann",
        1,
        (10, 0),
        "booked",
        &[],
    ),
    booking(
        "harbour",
        "checkup",
        "nguyen",
        "ben",
        2,
        (11, 30),
        "booked",
        &[],
    ),
];

/// A weekly series; meetings already over are fulfilled.
pub(super) struct Series {
    pub clinic: &'static str,
    pub service: &'static str,
    pub host: &'static str,
    pub patient: &'static str,
    pub first_day: i64,
    pub at: (u32, u32),
    pub weeks: u32,
}

/// Dr. Kim sees Ann at 17:00 New York time, starting two weeks ago, eight
/// weeks in all. Occurrences keep local time.
pub(super) const SERIES: &[Series] = &[Series {
    clinic: "north",
    service: "video",
    host: "kim",
    patient: "ann",
    first_day: -14,
    at: (17, 0),
    weeks: 8,
}];

/// A pending request.
pub(super) struct Request {
    pub clinic: &'static str,
    /// `new_session` or `reschedule`.
    pub kind: &'static str,
    pub requester: &'static str,
    pub service: &'static str,
    pub mode: Option<&'static str>,
    pub target: Option<&'static str>,
    /// Requested times: (day, wall-clock time).
    pub times: &'static [(i64, (u32, u32))],
    pub note: &'static str,
    /// The appointment a change request is about: an index into BOOKINGS.
    pub booking: Option<usize>,
    pub age_minutes: i64,
}

/// A Now request, two Scheduled ones, and a patient's reschedule request.
pub(super) const REQUESTS: &[Request] = &[
    Request {
        clinic: "north",
        kind: "new_session",
        requester: "ann",
        service: "video",
        mode: Some("now"),
        target: None,
        times: &[],
        note: "I have had a sore throat for three days.",
        booking: None,
        age_minutes: 3,
    },
    Request {
        clinic: "north",
        kind: "new_session",
        requester: "ben",
        service: "follow",
        mode: Some("scheduled"),
        target: Some("lee"),
        times: &[(1, (15, 0)), (2, (11, 0))],
        note: "Following up on my blood test results.",
        booking: None,
        age_minutes: 42,
    },
    Request {
        clinic: "harbour",
        kind: "new_session",
        requester: "ann",
        service: "checkup",
        mode: Some("scheduled"),
        target: None,
        times: &[(3, (9, 0))],
        note: "Tooth sensitivity on the left side.",
        booking: None,
        age_minutes: 15,
    },
    Request {
        clinic: "north",
        kind: "reschedule",
        requester: "ann",
        service: "video",
        mode: None,
        target: Some("patel"),
        times: &[(2, (10, 0))],
        note: "Could we move this to the morning?",
        booking: Some(4),
        age_minutes: 60,
    },
];

/// The answer every demo request's form carries.
pub(super) const FORM_ANSWERS: &str =
    r#"[{"label":"What would you like to discuss?","answer":"A follow-up on my last visit"}]"#;

/// Who hears about what, beyond the defaults: every provider hears about
/// everything by email (`PROVIDERS_HEAR_EVERYTHING`); Dr. Lee also wants a
/// text when a meeting is cancelled or a request arrives; the scheduler
/// hears about incoming requests.
pub(super) const PROVIDERS_HEAR_EVERYTHING: &[&str] = &["lee", "patel", "kim", "nguyen"];

pub(super) const PREFERENCES: &[(&str, NotifyEvent, Channel)] = &[
    ("lee", NotifyEvent::AppointmentCancelled, Channel::Sms),
    ("lee", NotifyEvent::RequestReceived, Channel::Sms),
    ("sched", NotifyEvent::RequestReceived, Channel::Email),
    ("sched", NotifyEvent::ChangeRequestReceived, Channel::Email),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn clinic(k: &str) -> bool {
        CLINICS.iter().any(|c| c.key == k)
    }
    fn person(k: &str) -> bool {
        PEOPLE.iter().any(|p| p.key == k)
    }
    /// A service of that clinic.
    fn service(clinic: &str, k: &str) -> bool {
        SERVICES.iter().any(|s| s.key == k && s.clinic == clinic)
    }

    #[test]
    fn every_key_names_something_of_the_right_clinic() {
        for p in PEOPLE {
            assert!(p.roles.iter().all(|(c, _)| clinic(c)), "{}", p.key);
        }
        for s in SERVICES {
            assert!(clinic(s.clinic), "{}", s.key);
        }
        for h in HOURS {
            assert!(person(h.provider) && clinic(h.clinic), "{}", h.provider);
        }
        for b in BOOKINGS {
            assert!(clinic(b.clinic) && service(b.clinic, b.service));
            assert!(person(b.host) && person(b.patient));
            assert!(b.invited.iter().all(|k| person(k)));
        }
        for s in SERIES {
            assert!(clinic(s.clinic) && service(s.clinic, s.service));
            assert!(person(s.host) && person(s.patient));
        }
        for r in REQUESTS {
            assert!(clinic(r.clinic) && service(r.clinic, r.service));
            assert!(person(r.requester) && r.target.is_none_or(person));
            assert!(r.booking.is_none_or(|i| i < BOOKINGS.len()));
        }
        for k in PROVIDERS_HEAR_EVERYTHING {
            assert!(person(k));
        }
        for (k, _, _) in PREFERENCES {
            assert!(person(k));
        }
    }

    #[test]
    fn keys_and_logins_are_unique() {
        let mut keys: Vec<&str> = CLINICS.iter().map(|c| c.key).collect();
        keys.extend(PEOPLE.iter().map(|p| p.key));
        keys.extend(SERVICES.iter().map(|s| s.key));
        let all = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), all);
        let mut emails: Vec<&str> = PEOPLE.iter().map(|p| p.email).collect();
        emails.sort_unstable();
        emails.dedup();
        assert_eq!(emails.len(), PEOPLE.len());
    }

    #[test]
    fn every_clinic_zone_is_known() {
        for c in CLINICS {
            assert!(
                c.time_zone.parse::<chrono_tz::Tz>().is_ok(),
                "{}",
                c.time_zone
            );
            assert!(
                crate::domain::datetime_style::DateStyle::parse(c.date_style).is_some(),
                "{}",
                c.date_style
            );
        }
    }
}
