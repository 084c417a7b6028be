//! What a provider's calendar feed says about each appointment: patient
//! names stay out of it (calendars are shared, synced to phones and shown
//! on lock screens) unless the provider opts in.

/// How often calendar apps are asked to fetch the feed again, in minutes.
pub const REFRESH_MINUTES: u32 = 15;

/// The calendar's name: "Dr Lee — Northside Telehealth" (clinics joined
/// by ", " for a provider of several; the provider alone for none).
pub fn calendar_name(provider: &str, clinics: &[String]) -> String {
    if clinics.is_empty() {
        provider.to_string()
    } else {
        format!("{provider} — {}", clinics.join(", "))
    }
}

/// One appointment's title and description in the feed. `patient` is the
/// patient's name when the provider opted in to showing it, else None.
pub fn event_text(
    service: &str,
    patient: Option<&str>,
    host: &str,
    invited: bool,
    join_url: &str,
) -> (String, String) {
    let invited = if invited { " (invited)" } else { "" };
    let (title, mut description) = match patient {
        Some(p) => (
            format!("{service}: {p}{invited}"),
            format!("{service} with {p}"),
        ),
        None => (
            format!("Appointment — {service}{invited}"),
            service.to_string(),
        ),
    };
    description.push_str(&format!("\nHost: {host}"));
    if !join_url.is_empty() {
        description.push_str(&format!("\nJoin: {join_url}"));
    }
    (title, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendar_is_named_for_the_provider_and_clinic() {
        assert_eq!(
            calendar_name("Dr Lee", &["Northside Telehealth".into()]),
            "Dr Lee — Northside Telehealth"
        );
        assert_eq!(
            calendar_name("Dr Lee", &["A".into(), "B".into()]),
            "Dr Lee — A, B"
        );
        assert_eq!(calendar_name("Dr Lee", &[]), "Dr Lee");
    }

    #[test]
    fn patient_names_only_after_opting_in() {
        let (title, desc) = event_text("Initial consultation", None, "Dr Lee", false, "");
        assert_eq!(title, "Appointment — Initial consultation");
        assert_eq!(desc, "Initial consultation\nHost: Dr Lee");
        let (title, desc) = event_text(
            "Initial consultation",
            Some("Ann Avery"),
            "Dr Lee",
            true,
            "https://meet.example/x",
        );
        assert_eq!(title, "Initial consultation: Ann Avery (invited)");
        assert_eq!(
            desc,
            "Initial consultation with Ann Avery\nHost: Dr Lee\nJoin: https://meet.example/x"
        );
    }
}
