//! Who hears about what: the notification events, the channels, the rule
//! that picks each event's recipients, and the delivery retry schedule.
//! Pure: the service layer supplies the people, this decides.

use serde::{Deserialize, Serialize};

/// The events a care-team member may choose to hear about (Account >
/// Notifications), each by email and/or SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyEvent {
    AppointmentCreated,
    AppointmentCancelled,
    AppointmentRescheduled,
    Invited,
    InviteeDeclined,
    RequestReceived,
    RequestAnswered,
    ChangeRequestReceived,
    ProposalMade,
    ProposalAnswered,
    /// Nobody answered a proposed time by its deadline (issue 15).
    ProposalExpired,
}

impl NotifyEvent {
    pub const ALL: [NotifyEvent; 11] = [
        NotifyEvent::AppointmentCreated,
        NotifyEvent::AppointmentCancelled,
        NotifyEvent::AppointmentRescheduled,
        NotifyEvent::Invited,
        NotifyEvent::InviteeDeclined,
        NotifyEvent::RequestReceived,
        NotifyEvent::RequestAnswered,
        NotifyEvent::ChangeRequestReceived,
        NotifyEvent::ProposalMade,
        NotifyEvent::ProposalAnswered,
        NotifyEvent::ProposalExpired,
    ];

    /// The stored code (notification_preference.event, outbox.event).
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::AppointmentCreated => "appointment_created",
            NotifyEvent::AppointmentCancelled => "appointment_cancelled",
            NotifyEvent::AppointmentRescheduled => "appointment_rescheduled",
            NotifyEvent::Invited => "invited",
            NotifyEvent::InviteeDeclined => "invitee_declined",
            NotifyEvent::RequestReceived => "request_received",
            NotifyEvent::RequestAnswered => "request_answered",
            NotifyEvent::ChangeRequestReceived => "change_request_received",
            NotifyEvent::ProposalMade => "proposal_made",
            NotifyEvent::ProposalAnswered => "proposal_answered",
            NotifyEvent::ProposalExpired => "proposal_expired",
        }
    }

    pub fn parse(s: &str) -> Option<NotifyEvent> {
        NotifyEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// What the settings page calls it.
    pub fn label(self) -> &'static str {
        match self {
            NotifyEvent::AppointmentCreated => "Appointment created",
            NotifyEvent::AppointmentCancelled => "Appointment cancelled",
            NotifyEvent::AppointmentRescheduled => "Appointment rescheduled",
            NotifyEvent::Invited => "Invited to another host's appointment",
            NotifyEvent::InviteeDeclined => "An invited provider declined",
            NotifyEvent::RequestReceived => "Request received",
            NotifyEvent::RequestAnswered => "Request answered",
            NotifyEvent::ChangeRequestReceived => "Change request received",
            NotifyEvent::ProposalMade => "Proposal made",
            NotifyEvent::ProposalAnswered => "Proposal answered",
            NotifyEvent::ProposalExpired => "Proposal expired unanswered",
        }
    }

    /// Whether the patient concerned is always emailed (DESIGN §1: patients
    /// always hear about their requests, reschedules, proposals and
    /// cancellations, whatever any setting says). An invitation or a
    /// colleague's decline is between providers.
    pub fn patient_emailed(self) -> bool {
        !matches!(self, NotifyEvent::Invited | NotifyEvent::InviteeDeclined)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Email, Channel::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Email => "Email",
            Channel::Sms => "SMS",
        }
    }
}

/// The care-team side of an event: who acted, who hosts, who is invited
/// (and has not declined), which providers a request is addressed to, and
/// the clinic's admins and schedulers.
#[derive(Debug, Clone, Default)]
pub struct Parties {
    pub actor: i64,
    pub host: Option<i64>,
    pub invitees: Vec<i64>,
    pub addressed: Vec<i64>,
    /// The clinic's admins: they oversee every appointment of the clinic.
    pub admins: Vec<i64>,
    /// The clinic's schedulers: they act for every provider of the clinic.
    pub schedulers: Vec<i64>,
}

/// The staff members an event concerns, before their own settings filter
/// it. Nobody is told about what they just did themselves, except the host
/// who cancels or moves their own appointment: they get the confirmation
/// the patient gets.
pub fn staff_audience(event: NotifyEvent, p: &Parties) -> Vec<i64> {
    use NotifyEvent::*;
    let host = p.host.into_iter();
    let admins = p.admins.iter().copied();
    let mut out: Vec<i64> = match event {
        // The host learns of a booking someone else made for them; the
        // invited providers get their own "invited" event.
        AppointmentCreated | ChangeRequestReceived | ProposalAnswered | ProposalExpired => {
            host.chain(admins).collect()
        }
        RequestAnswered | ProposalMade | InviteeDeclined => host.collect(),
        AppointmentCancelled | AppointmentRescheduled => host
            .chain(p.invitees.iter().copied())
            .chain(admins)
            .collect(),
        Invited => p.invitees.clone(),
        // Schedulers book for every provider, so a request for a named
        // provider is theirs too.
        RequestReceived => p
            .addressed
            .iter()
            .chain(&p.schedulers)
            .copied()
            .chain(admins)
            .collect(),
    };
    let confirms =
        matches!(event, AppointmentCancelled | AppointmentRescheduled) && p.host == Some(p.actor);
    if !confirms {
        out.retain(|id| *id != p.actor);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Delivery attempts before a message is marked failed (for an admin to
/// retry from the Outbox page).
pub const MAX_ATTEMPTS: i64 = 8;

/// Seconds to wait before attempt `attempts + 1`, after `attempts` failed
/// ones: 30 s doubling to at most an hour (30 s, 1 min, 2 min, ... 1 h), so
/// a receiving system that is down for a while is not hammered and one that
/// comes back soon is caught up quickly.
pub fn retry_delay(attempts: i64) -> i64 {
    let doublings = (attempts.max(1) - 1).min(20) as u32;
    (30i64 << doublings).min(3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_code_reads_back() {
        for e in NotifyEvent::ALL {
            assert_eq!(NotifyEvent::parse(e.as_str()), Some(e));
            assert!(!e.label().is_empty());
        }
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        assert_eq!(NotifyEvent::parse("appointment_deleted"), None);
        assert_eq!(Channel::parse("fax"), None);
    }

    fn parties() -> Parties {
        Parties {
            actor: 1,
            host: Some(2),
            invitees: vec![3, 4],
            addressed: vec![2, 5],
            admins: vec![8],
            schedulers: vec![1, 9],
        }
    }

    #[test]
    fn cancellations_reach_host_invitees_and_admins_and_confirm_to_the_host() {
        assert_eq!(
            staff_audience(NotifyEvent::AppointmentCancelled, &parties()),
            vec![2, 3, 4, 8]
        );
        // The host who cancels or moves gets the confirmation.
        let by_host = Parties {
            actor: 2,
            ..parties()
        };
        assert_eq!(
            staff_audience(NotifyEvent::AppointmentCancelled, &by_host),
            vec![2, 3, 4, 8]
        );
        assert_eq!(
            staff_audience(NotifyEvent::AppointmentRescheduled, &by_host),
            vec![2, 3, 4, 8]
        );
        // An admin who cancels is not told what they did.
        let by_admin = Parties {
            actor: 8,
            ..parties()
        };
        assert_eq!(
            staff_audience(NotifyEvent::AppointmentCancelled, &by_admin),
            vec![2, 3, 4]
        );
    }

    #[test]
    fn each_event_has_its_own_audience() {
        let p = parties();
        assert_eq!(
            staff_audience(NotifyEvent::AppointmentCreated, &p),
            vec![2, 8]
        );
        assert_eq!(staff_audience(NotifyEvent::Invited, &p), vec![3, 4]);
        assert_eq!(staff_audience(NotifyEvent::InviteeDeclined, &p), vec![2]);
        // Addressed providers, the other scheduler (1 made it) and admins.
        assert_eq!(
            staff_audience(NotifyEvent::RequestReceived, &p),
            vec![2, 5, 8, 9]
        );
        assert_eq!(
            staff_audience(NotifyEvent::ProposalAnswered, &p),
            vec![2, 8]
        );
        assert_eq!(staff_audience(NotifyEvent::ProposalMade, &p), vec![2]);
        // Expiry: the timer acts for nobody (0), so nobody is left out.
        let timer = Parties {
            actor: 0,
            ..p.clone()
        };
        assert_eq!(
            staff_audience(NotifyEvent::ProposalExpired, &timer),
            vec![2, 8]
        );
        // A provider who books for themselves is not told about it.
        let own = Parties {
            actor: 2,
            ..parties()
        };
        assert_eq!(
            staff_audience(NotifyEvent::AppointmentCreated, &own),
            vec![8]
        );
    }

    #[test]
    fn patients_hear_about_everything_but_provider_to_provider_events() {
        let emailed: Vec<_> = NotifyEvent::ALL
            .into_iter()
            .filter(|e| !e.patient_emailed())
            .collect();
        assert_eq!(
            emailed,
            vec![NotifyEvent::Invited, NotifyEvent::InviteeDeclined]
        );
    }

    #[test]
    fn retries_back_off_from_30_seconds_to_an_hour() {
        assert_eq!(retry_delay(0), 30);
        assert_eq!(retry_delay(1), 30);
        assert_eq!(retry_delay(2), 60);
        assert_eq!(retry_delay(3), 120);
        assert_eq!(retry_delay(7), 1920);
        assert_eq!(retry_delay(8), 3600);
        assert_eq!(retry_delay(1000), 3600);
        let mut last = 0;
        for n in 0..40 {
            assert!(retry_delay(n) >= last, "never shorter than the last wait");
            last = retry_delay(n);
        }
    }
}
