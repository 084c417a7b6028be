//! Plain data that server functions send to the browser: the wire
//! vocabulary both sides share. One file per feature, named like its api
//! and service modules; everything is re-exported here, so the rest of the
//! code says `model::X` whichever file X lives in.

use serde::Serialize;

mod accounts;
mod api_clients;
mod appointments;
mod audit;
mod availability;
mod bookings;
mod change_requests;
mod clinic_settings;
mod dashboard;
mod notifications;
mod portal;
mod proposals;
mod reminders;
mod requests;
mod schedule;
mod waitlist;

pub use accounts::*;
pub use api_clients::*;
pub use appointments::*;
pub use audit::*;
pub use availability::*;
pub use bookings::*;
pub use change_requests::*;
pub use clinic_settings::*;
pub use dashboard::*;
pub use notifications::*;
pub use portal::*;
#[allow(unused_imports)]
pub use proposals::*;
#[allow(unused_imports)]
pub use reminders::*;
pub use requests::*;
pub use schedule::*;
#[allow(unused_imports)]
pub use waitlist::*;

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

/// "$12.50" from cents (the clinic's currency symbol is not modelled yet).
pub fn money(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
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
