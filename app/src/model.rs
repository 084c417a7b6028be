//! Plain data that server functions send to the browser.

use crate::domain::request::{RequestMode, RequestStatus};
use crate::domain::role::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub clinic_id: i64,
    pub clinic_name: String,
    pub role: Role,
}

/// The logged-in user as the views need them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub memberships: Vec<Membership>,
}

impl Me {
    pub fn is_staff(&self) -> bool {
        self.memberships.iter().any(|m| m.role.is_staff())
    }
    pub fn staff_clinics(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .memberships
            .iter()
            .filter(|m| m.role.is_staff())
            .map(|m| m.clinic_id)
            .collect();
        v.dedup();
        v
    }
    /// A short description of the user's roles for the user menu.
    pub fn roles_label(&self) -> String {
        let mut roles: Vec<Role> = self.memberships.iter().map(|m| m.role).collect();
        roles.sort();
        roles.dedup();
        roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Pending work shown as badges in the staff navigation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCounts {
    /// New session requests waiting for dispatch.
    pub dispatch: i64,
    /// Reschedule and cancellation requests waiting for the practice.
    pub changes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicOption {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub time_zone: String,
    pub services: Vec<ServiceOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceOption {
    pub id: i64,
    pub name: String,
    pub duration_minutes: i64,
}

/// A request as its requester sees it in the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRequest {
    pub id: i64,
    pub clinic_name: String,
    pub clinic_slug: String,
    pub service_name: String,
    pub mode: RequestMode,
    pub status: RequestStatus,
    /// The preferred times, in the clinic's zone ("Mon 23 Nov, 09:00").
    pub times: Vec<String>,
    /// Who it was addressed to: a provider's name or the host group.
    pub request_to: String,
    pub note: String,
    pub response: Option<String>,
    pub responder: Option<String>,
    pub created_at: i64,
    /// The meeting, once accepted.
    pub meeting: Option<MyMeeting>,
}

/// The meeting a request became, as the patient sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyMeeting {
    pub appointment_id: i64,
    /// In the clinic's zone, zone named.
    pub when: String,
    pub provider: String,
    pub status: crate::domain::appointment::AppointmentStatus,
    pub video_url: String,
    pub meeting_id: String,
    pub passcode: String,
}

/// The Dispatch board: pending requests with the server's clock, so the
/// browser's "Pending For" counter does not depend on the browser's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchBoard {
    pub now: i64,
    /// Clinics the viewer dispatches for (id, name), for the filter.
    pub clinics: Vec<(i64, String)>,
    pub rows: Vec<DispatchRow>,
}

/// A pending request as dispatch sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchRow {
    pub id: i64,
    pub clinic_id: i64,
    pub clinic_name: String,
    pub requestor: String,
    pub mode: RequestMode,
    pub patient_group: String,
    pub host_group: String,
    pub request_to: String,
    pub service_name: String,
    /// The requested times in the clinic's zone.
    pub times: Vec<String>,
    pub note: String,
    pub answers: Vec<crate::domain::form::Answer>,
    pub created_at: i64,
}

/// What the Assign dialog shows for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignOptions {
    pub request_id: i64,
    pub mode: RequestMode,
    pub requestor: String,
    pub service_name: String,
    pub duration_minutes: i64,
    pub time_zone: String,
    pub request_to: String,
    /// The requested times (none for a Now request).
    pub times: Vec<TimeChoice>,
    pub providers: Vec<AssignProvider>,
    pub note: String,
    pub answers: Vec<crate::domain::form::Answer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeChoice {
    pub start: i64,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignProvider {
    pub id: i64,
    pub name: String,
    pub available: bool,
    /// Why: "Available now", "Free at Mon 23 Nov, 09:00", "Not in their slots", …
    pub availability: String,
    /// Possible Conflicting Sessions: their sessions within 2 hours of a
    /// requested time (or of now, for a Now request).
    pub conflicts: Vec<String>,
    /// The request was addressed to this provider.
    pub addressed: bool,
}

/// A clinic's public booking page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingPageInfo {
    pub clinic_id: i64,
    pub slug: String,
    pub name: String,
    pub time_zone: String,
    pub phone: String,
    pub host_group: String,
    pub services: Vec<PublicService>,
    pub providers: Vec<PublicProvider>,
    pub questions: Vec<crate::domain::form::Question>,
    /// Someone can take a Now request at this moment.
    pub available_now: bool,
    pub logged_in: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicService {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub duration_minutes: i64,
    pub payment_required: bool,
    pub price_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicProvider {
    pub id: i64,
    pub name: String,
    pub available_now: bool,
}

/// Free slots by local day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotDay {
    /// "Mon 23 Nov".
    pub label: String,
    pub slots: Vec<TimeChoice>,
}

/// One provider's availability as the Availability page edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityView {
    pub clinic_id: i64,
    pub clinic_name: String,
    pub time_zone: String,
    /// Clinics where the viewer may edit someone's availability.
    pub clinics: Vec<(i64, String)>,
    pub provider_id: i64,
    pub provider_name: String,
    /// Providers the viewer may edit (just themself for a provider).
    pub providers: Vec<(i64, String)>,
    pub windows: Vec<WindowRow>,
    pub time_off: Vec<TimeOffRow>,
    pub available_now: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowRow {
    pub id: i64,
    pub weekday: u8,
    pub start_minute: u32,
    pub end_minute: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeOffRow {
    pub id: i64,
    /// "Mon 23 Nov 2026, 09:00 – Tue 24 Nov 2026, 17:00" in the clinic's zone.
    pub label: String,
    pub reason: String,
}

/// A clinic's settings as its admins edit them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicSettings {
    pub clinic_id: i64,
    pub name: String,
    pub slug: String,
    pub time_zone: String,
    /// Clinics where the viewer is admin.
    pub clinics: Vec<(i64, String)>,
    pub patient_group_name: String,
    pub host_group_name: String,
    pub services: Vec<ServiceRow>,
    pub questions: Vec<crate::domain::form::Question>,
    pub policy: crate::domain::policy::Policy,
    pub pms_connector: crate::domain::pms::PmsConnector,
    pub pms_url: String,
    /// Whether a signing secret is set (the secret itself is never sent back).
    pub pms_secret_set: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub duration_minutes: i64,
    pub payment_required: bool,
    pub price_cents: i64,
    pub active: bool,
}

/// Which list of the portal's "My appointments" an appointment is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MyAppointmentTab {
    Upcoming,
    Tentative,
    Past,
    Cancelled,
}

impl MyAppointmentTab {
    pub const ALL: [Self; 4] = [Self::Upcoming, Self::Tentative, Self::Past, Self::Cancelled];
    pub fn label(self) -> &'static str {
        match self {
            Self::Upcoming => "Upcoming",
            Self::Tentative => "Tentative",
            Self::Past => "Past",
            Self::Cancelled => "Cancelled",
        }
    }
}

/// One of the patient's appointments in the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAppointment {
    pub id: i64,
    pub tab: MyAppointmentTab,
    pub status: crate::domain::appointment::AppointmentStatus,
    pub clinic_name: String,
    pub clinic_phone: String,
    pub service: String,
    pub provider: String,
    /// In the clinic's zone, zone named.
    pub when_clinic: String,
    /// In the patient's own zone, when it differs from the clinic's.
    pub when_mine: Option<String>,
    pub video_url: String,
    pub meeting_id: String,
    pub passcode: String,
    pub location: String,
    /// What cancelling or rescheduling online would mean now (None once it
    /// has started or is cancelled).
    pub cancel: Option<crate::domain::policy::Decision>,
    pub reschedule: Option<crate::domain::policy::Decision>,
    /// When the late-notice windows begin, in the clinic's zone.
    pub cancel_deadline: String,
    /// The cancellation's reason and message, for a cancelled appointment.
    pub cancellation: Option<String>,
    /// After a cancellation that invites rebooking: book again with the
    /// same provider.
    pub rebook_link: Option<String>,
    /// The patient's change request waiting for the clinic, in words.
    pub pending_change: Option<String>,
    /// The clinic's latest answer to a change request: outcome, reason and
    /// message.
    pub clinic_answer: Option<String>,
    /// A Tentative appointment: the time the clinic proposes replaces this
    /// original one, once the patient approves.
    pub proposed_instead_of: Option<String>,
}

/// What a patient's cancel or reschedule did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeOutcome {
    /// Done at once (outside the window, direct policy).
    Done,
    /// Sent to the practice's Appointment Requests; flagged when it falls
    /// inside the late-notice window.
    Requested {
        request_id: i64,
        within_window: bool,
    },
}

/// One pending patient change request in Appointment Requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRequestRow {
    pub id: i64,
    pub kind: crate::domain::request::RequestKind,
    pub clinic_name: String,
    pub patient: String,
    pub service: String,
    pub provider: String,
    /// The appointment's time now, in the clinic's zone.
    pub original: String,
    /// The time the patient asks for (a reschedule).
    pub requested: Option<String>,
    /// Inside the late-notice window when the patient asked.
    pub within_window: bool,
    /// The late-cancellation fee approval would record ("$50.00").
    pub fee: Option<String>,
    pub note: String,
    pub created_at: i64,
    /// Prefill for Propose Changes / Update Appointment ("2026-03-05T10:00",
    /// local to the clinic).
    pub default_start: String,
    pub time_zone: String,
}

/// The Appointment Requests queue, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeQueue {
    pub rows: Vec<ChangeRequestRow>,
    /// Anchors the "Pending For" clocks to the server's time.
    pub server_now: i64,
}

/// A unit enum's name on the wire (its serde name), for an `<option>`'s
/// value or a link; `from_wire` reads it back. One spelling, serde's.
pub fn wire_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The unit enum value named `s` on the wire, if any (see `wire_name`).
pub fn from_wire<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    use serde::de::IntoDeserializer;
    let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> = s.into_deserializer();
    T::deserialize(de).ok()
}

#[cfg(test)]
mod wire_tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for f in BookingStatusFilter::ALL
            .into_iter()
            .chain([BookingStatusFilter::Active])
        {
            assert_eq!(from_wire::<BookingStatusFilter>(&wire_name(&f)), Some(f));
        }
        assert_eq!(wire_name(&BookingStatusFilter::NoShow), "noshow");
        assert_eq!(from_wire::<ScheduleMode>("day"), Some(ScheduleMode::Day));
        assert_eq!(from_wire::<ScheduleMode>("Day"), None);
        assert_eq!(wire_name(&OutboxFilter::Failed), "failed");
        assert_eq!(wire_name(&AvailabilityEntry::TimeOff), "time_off");
    }
}

/// "$12.50" from cents (the clinic's currency symbol is not modelled yet).
pub fn money(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// Demo accounts listed on the login page when the server runs in demo mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoLogin {
    pub email: String,
    pub description: String,
}

/// Which bookings the Bookings list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BookingStatusFilter {
    #[default]
    Upcoming,
    /// Consultations' "Active and Pending": in progress, upcoming, tentative.
    Active,
    Tentative,
    Past,
    Cancelled,
    NoShow,
}

impl BookingStatusFilter {
    pub const ALL: [Self; 5] = [
        Self::Upcoming,
        Self::Tentative,
        Self::Past,
        Self::Cancelled,
        Self::NoShow,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Self::Upcoming => "Upcoming",
            Self::Active => "Active and Pending",
            Self::Tentative => "Tentative",
            Self::Past => "Past",
            Self::Cancelled => "Cancelled",
            Self::NoShow => "FTA/DNA",
        }
    }
}

/// One row of the Bookings list, with what may be done to it and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingRow {
    pub id: i64,
    pub clinic_name: String,
    pub time_zone: String,
    pub patient: String,
    pub practitioner: String,
    pub service: String,
    /// "Fri 6 Mar 2026, 11:00–11:30" in the clinic's zone.
    pub when: String,
    pub status_label: String,
    pub in_series: bool,
    /// None when Cancel is allowed; otherwise the reason it is not.
    pub cancel_blocked: Option<String>,
    pub noshow_blocked: Option<String>,
    pub cancel_reason: Option<String>,
    /// The viewer's own invitation to this meeting, if they are invited
    /// ("needs-action", "accepted" or "declined").
    pub my_invitation: Option<String>,
    pub host_id: i64,
    /// FHIR status code ("booked", "cancelled", ...), for colouring.
    pub status: String,
    pub reschedule_blocked: Option<String>,
    /// Invited providers and their answers, so the host sees declines.
    pub participants: Vec<Invitee>,
    pub location: String,
    pub video_url: String,
    pub meeting_id: String,
    pub passcode: String,
    /// The start as a local date ("2026-03-06") and time ("11:00") in the
    /// clinic's zone, for the reschedule form.
    pub start_date: String,
    pub start_time: String,
    pub minutes: i64,
    /// The appointment's PMS sync state: "none", "pending", "synced" or "failed".
    pub pms_sync: String,
    /// The clinic's PMS connector lacks automatic cancellation: the cancel
    /// dialog says "Manual update required".
    pub pms_manual_cancel: bool,
}

/// An invited provider and their answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitee {
    pub provider_id: i64,
    pub name: String,
    /// "needs-action", "accepted" or "declined".
    pub status: String,
}

impl Invitee {
    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "declined" => "declined",
            "accepted" => "accepted",
            _ => "invited",
        }
    }
}

/// Week (a column per day) or Day (a column per provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleMode {
    #[default]
    Week,
    Day,
}

/// One appointment placed on the Schedule grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleItem {
    pub booking: BookingRow,
    /// Minutes from the column's local midnight (clipped to the day).
    pub start_minute: i64,
    pub end_minute: i64,
    /// Side-by-side placement of overlapping items within the column.
    pub lane: u32,
    pub lanes: u32,
    /// The column provider's invitation, when they are invited rather than host.
    pub invitation: Option<String>,
    /// An invited provider is busy elsewhere at this time.
    pub overlap_warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleColumn {
    pub label: String,
    pub date: String,
    pub provider_id: Option<i64>,
    pub items: Vec<ScheduleItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderChoice {
    pub id: i64,
    pub name: String,
    pub shown: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleView {
    pub clinic_id: i64,
    pub clinic_name: String,
    pub time_zone: String,
    /// Every clinic where the viewer is staff (id, name).
    pub clinics: Vec<(i64, String)>,
    pub mode: ScheduleMode,
    /// The anchor date (YYYY-MM-DD) and the dates one step back and forward.
    pub date: String,
    pub prev: String,
    pub next: String,
    pub today: String,
    pub title: String,
    pub first_hour: u32,
    pub last_hour: u32,
    pub columns: Vec<ScheduleColumn>,
    pub providers: Vec<ProviderChoice>,
    /// Admins and schedulers choose which providers to show.
    pub choose_providers: bool,
}

/// What the create form offers for one clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOptions {
    pub clinic_id: i64,
    pub time_zone: String,
    pub providers: Vec<(i64, String)>,
    pub patients: Vec<(i64, String)>,
    pub services: Vec<ServiceOption>,
    /// Set when the viewer may only book for themself.
    pub only_provider: Option<i64>,
    pub today: String,
}

/// The result of a create or reschedule: how many meetings, and warnings
/// about invited providers who are busy at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct WriteOutcome {
    pub count: usize,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BookingPage {
    pub rows: Vec<BookingRow>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

/// The New appointment form as submitted. Date and times are local to the
/// clinic; no `end` takes the service's length; `repeat` makes it a weekly
/// series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentForm {
    pub clinic_id: i64,
    pub provider_id: i64,
    pub patient_id: i64,
    pub service_id: i64,
    pub date: chrono::NaiveDate,
    pub start: chrono::NaiveTime,
    #[serde(default)]
    pub end: Option<chrono::NaiveTime>,
    pub location: String,
    /// Invited providers.
    #[serde(default)]
    pub invited: Vec<i64>,
    #[serde(default)]
    pub repeat: Option<crate::domain::recurrence::Weekly>,
}

/// Which meetings a staff cancel ends: this one, or the rest of its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CancelScope {
    This,
    Series,
}

/// Which meetings a staff reschedule moves: this one, or this and every
/// later one of its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RescheduleScope {
    This,
    Future,
}

/// The patient's answer to a time the clinic proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposalAnswer {
    Approve,
    Cancel,
}

/// What the Availability page removes: a weekly slot or a time-off entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityEntry {
    Slot,
    TimeOff,
}

/// A change to the pre-request form's question list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionEdit {
    Remove,
    Up,
}

/// Which Outbox messages the admins' Outbox lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OutboxFilter {
    #[default]
    All,
    Pending,
    Sent,
    Failed,
}

/// One ticked box of Account > Notifications: this event by this channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NotifyChoice {
    pub event: crate::domain::notify::NotifyEvent,
    pub channel: crate::domain::notify::Channel,
}

/// Account > Notifications for one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub mobile: String,
    pub rows: Vec<NotificationRow>,
    /// The people a clinic admin may pick (themselves first); empty for
    /// everyone else.
    pub choices: Vec<(i64, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRow {
    /// The event's code (`NotifyEvent::as_str`).
    pub event: String,
    pub label: String,
    pub email: bool,
    pub sms: bool,
}

/// The admins' Outbox page for one clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxView {
    pub clinic_id: i64,
    pub clinics: Vec<(i64, String)>,
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    pub rows: Vec<OutboxEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub created: String,
    pub channel: String,
    pub event: String,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// smtp, http or mailbox (once sent).
    pub transport: String,
    pub sent: Option<String>,
    pub next_attempt: Option<String>,
}

/// A message kept in the dev mailbox, as the recipient would see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxMessage {
    pub id: i64,
    pub channel: String,
    pub event: String,
    pub to: String,
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The iCalendar attachment, if any.
    pub attachment: Option<String>,
    /// A second calendar (the earlier part of a split series).
    pub attachment_extra: Option<String>,
    pub at: String,
}
