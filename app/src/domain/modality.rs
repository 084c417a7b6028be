//! How an appointment takes place (a service's modality), and the words and
//! details that follow from it: a video appointment is a "meeting" with a
//! join link, meeting ID and passcode; an in-person one is a "booking" at
//! the clinic's address; a phone one is a "booking" with a number to call
//! (or the clinic calls). Pages, emails and calendar files all ask here, so
//! they never disagree.

use serde::{Deserialize, Serialize};

/// The longest clinic address kept (a full postal address fits easily).
pub const MAX_ADDRESS: usize = 300;
/// The longest phone number for phone appointments.
pub const MAX_CALL_PHONE: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    #[default]
    Video,
    InPerson,
    Phone,
}

impl Modality {
    pub const ALL: [Self; 3] = [Self::Video, Self::InPerson, Self::Phone];

    /// The stored code (service.modality).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Video => "video",
            Self::InPerson => "in_person",
            Self::Phone => "phone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// A modality chosen in a form, with the message for anything else.
    pub fn from_form(s: &str) -> Result<Self, String> {
        Self::parse(s.trim()).ok_or_else(|| "Choose Video, In person or Phone.".to_string())
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Video => "Video",
            Self::InPerson => "In person",
            Self::Phone => "Phone",
        }
    }

    /// Only video appointments have a join link, meeting ID and passcode.
    pub fn has_meeting_link(self) -> bool {
        self == Self::Video
    }

    /// What one appointment is called: "meeting" (video) or "booking".
    pub fn noun(self) -> &'static str {
        match self {
            Self::Video => "meeting",
            Self::InPerson | Self::Phone => "booking",
        }
    }

    /// The cancel dialog's title and confirm button.
    pub fn cancel_title(self) -> &'static str {
        match self {
            Self::Video => "Cancel Meeting",
            Self::InPerson | Self::Phone => "Cancel Booking",
        }
    }

    /// A new request, in words ("video session request"), for subjects
    /// and headlines.
    pub fn request_kind(self) -> &'static str {
        match self {
            Self::Video => "video session request",
            Self::InPerson => "appointment request",
            Self::Phone => "phone appointment request",
        }
    }
}

/// Where an appointment happens, as the clinic set it up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Venue<'a> {
    pub modality: Modality,
    /// The clinic's street address (in person).
    pub address: &'a str,
    /// The number patients call (phone); blank: the clinic calls them.
    pub call_phone: &'a str,
    /// The appointment's own location as staff typed it: the room for an
    /// in-person appointment, a note for a video one.
    pub room: &'a str,
}

impl Venue<'_> {
    /// The one line that says where: the address and room, the number to
    /// call, or "Video (online)".
    pub fn place(&self) -> String {
        let room = self.room.trim();
        match self.modality {
            Modality::Video if room.is_empty() => "Video (online)".into(),
            Modality::Video => room.to_string(),
            Modality::InPerson => {
                let address = self.address.trim();
                match (address.is_empty(), room.is_empty()) {
                    (true, true) => "In person at the clinic".into(),
                    (true, false) => room.to_string(),
                    (false, true) => address.to_string(),
                    (false, false) => format!("{address} ({room})"),
                }
            }
            Modality::Phone => match self.call_phone.trim() {
                "" => "By phone: the clinic will call you".into(),
                n => format!("By phone: call {n}"),
            },
        }
    }

    /// The calendar LOCATION: the place, except a video call, which is
    /// where the link leads (a note typed by staff is kept).
    pub fn calendar_location(&self, join_url: &str) -> String {
        match self.modality {
            Modality::Video if self.room.trim().is_empty() => join_url.to_string(),
            _ => self.place(),
        }
    }
}

/// A clinic's address as an admin typed it: trimmed, at most
/// [`MAX_ADDRESS`] characters, lines joined by ", ".
pub fn clean_address(s: &str) -> Result<String, String> {
    let joined = s
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    if joined.chars().count() > MAX_ADDRESS {
        return Err(format!(
            "The address can be at most {MAX_ADDRESS} characters."
        ));
    }
    if joined.chars().any(char::is_control) {
        return Err("The address cannot contain control characters.".into());
    }
    Ok(joined)
}

/// The number patients call for phone appointments: blank, or digits with
/// spaces, dashes, brackets and a leading "+".
pub fn clean_call_phone(s: &str) -> Result<String, String> {
    let s = s.trim();
    let bad = || {
        format!("Enter the number to call as digits (with spaces, dashes or a leading +), at most {MAX_CALL_PHONE} characters, or leave it blank.")
    };
    if s.chars().count() > MAX_CALL_PHONE {
        return Err(bad());
    }
    let body = s.strip_prefix('+').unwrap_or(s);
    let ok = body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'));
    if !ok || (!s.is_empty() && body.chars().filter(char::is_ascii_digit).count() < 3) {
        return Err(bad());
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_is_refused() {
        for m in Modality::ALL {
            assert_eq!(Modality::parse(m.as_str()), Some(m));
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", m.as_str())
            );
        }
        assert_eq!(Modality::parse("hologram"), None);
        assert_eq!(
            Modality::from_form("hologram").unwrap_err(),
            "Choose Video, In person or Phone."
        );
        assert_eq!(Modality::from_form(" in_person "), Ok(Modality::InPerson));
    }

    #[test]
    fn a_video_appointment_is_a_meeting_the_others_bookings() {
        assert_eq!(Modality::Video.cancel_title(), "Cancel Meeting");
        assert_eq!(Modality::InPerson.cancel_title(), "Cancel Booking");
        assert_eq!(Modality::Phone.cancel_title(), "Cancel Booking");
        assert_eq!(Modality::InPerson.noun(), "booking");
        assert!(Modality::Video.has_meeting_link());
        assert!(!Modality::InPerson.has_meeting_link());
        assert!(!Modality::Phone.has_meeting_link());
        assert_eq!(Modality::Video.request_kind(), "video session request");
        assert_eq!(Modality::InPerson.request_kind(), "appointment request");
    }

    #[test]
    fn the_place_follows_the_modality() {
        let at = |modality, room| Venue {
            modality,
            address: "12 Wharf St, Sydney NSW 2000",
            call_phone: "",
            room,
        };
        assert_eq!(at(Modality::Video, "").place(), "Video (online)");
        assert_eq!(
            at(Modality::InPerson, "").place(),
            "12 Wharf St, Sydney NSW 2000"
        );
        assert_eq!(
            at(Modality::InPerson, "Room 2").place(),
            "12 Wharf St, Sydney NSW 2000 (Room 2)"
        );
        assert_eq!(
            at(Modality::Phone, "").place(),
            "By phone: the clinic will call you"
        );
        let phone = Venue {
            call_phone: "+61 2 5550 0199",
            ..at(Modality::Phone, "")
        };
        assert_eq!(phone.place(), "By phone: call +61 2 5550 0199");
        let nowhere = Venue {
            modality: Modality::InPerson,
            ..Venue::default()
        };
        assert_eq!(nowhere.place(), "In person at the clinic");
    }

    #[test]
    fn the_calendar_location_of_a_video_call_is_its_link() {
        let v = Venue::default();
        assert_eq!(v.calendar_location("https://meet/x"), "https://meet/x");
        let dental = Venue {
            modality: Modality::InPerson,
            address: "12 Wharf St",
            ..Venue::default()
        };
        assert_eq!(dental.calendar_location("https://meet/x"), "12 Wharf St");
    }

    #[test]
    fn addresses_are_bounded_and_one_line() {
        assert_eq!(
            clean_address(" 12 Wharf St\n\n Sydney NSW 2000 \n"),
            Ok("12 Wharf St, Sydney NSW 2000".into())
        );
        assert_eq!(clean_address("   "), Ok(String::new()));
        assert!(clean_address(&"a".repeat(MAX_ADDRESS)).is_ok());
        assert_eq!(
            clean_address(&"a".repeat(MAX_ADDRESS + 1)).unwrap_err(),
            "The address can be at most 300 characters."
        );
        assert!(clean_address("12 Wharf\u{7} St").is_err());
    }

    #[test]
    fn call_numbers_are_digits_or_blank() {
        assert_eq!(clean_call_phone(" "), Ok(String::new()));
        assert_eq!(
            clean_call_phone("+61 (2) 5550-0199"),
            Ok("+61 (2) 5550-0199".into())
        );
        assert!(clean_call_phone("call me").is_err());
        assert!(clean_call_phone("+").is_err());
        assert!(clean_call_phone(&"1".repeat(MAX_CALL_PHONE + 1)).is_err());
    }
}
