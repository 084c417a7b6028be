//! Input rules shared by the forms (for early hints) and the server (which
//! decides). Each returns the message a user should see.

pub const MAX_EMAIL: usize = 254;
pub const MIN_PASSWORD: usize = 10;
pub const MAX_PASSWORD: usize = 256;
pub const MAX_NAME: usize = 100;
pub const MAX_NOTE: usize = 1000;

/// The years a date may be in. Nothing a clinic schedules is outside them,
/// and every calculation on a date inside them (weeks, series, time zones)
/// stays far from chrono's limits, where it would panic.
pub const FIRST_YEAR: i32 = 2000;
pub const LAST_YEAR: i32 = 2100;

/// A date entered by someone, if it is within `FIRST_YEAR..=LAST_YEAR`.
pub fn date_in_range(d: chrono::NaiveDate) -> Result<chrono::NaiveDate, String> {
    use chrono::Datelike;
    if (FIRST_YEAR..=LAST_YEAR).contains(&d.year()) {
        Ok(d)
    } else {
        Err(format!(
            "Enter a date between {FIRST_YEAR} and {LAST_YEAR}."
        ))
    }
}

/// Trims and lower-cases an email address, or says what is wrong with it.
pub fn email(raw: &str) -> Result<String, String> {
    let e = raw.trim().to_lowercase();
    if e.is_empty() {
        return Err("Enter your email address.".into());
    }
    if e.len() > MAX_EMAIL {
        return Err("That email address is too long.".into());
    }
    let Some((local, domain)) = e.split_once('@') else {
        return Err("Enter a valid email address, like name@example.com.".into());
    };
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(e)
    } else {
        Err("Enter a valid email address, like name@example.com.".into())
    }
}

pub fn new_password(p: &str) -> Result<(), String> {
    let n = p.chars().count();
    if n < MIN_PASSWORD {
        Err(format!(
            "Choose a password of at least {MIN_PASSWORD} characters."
        ))
    } else if p.len() > MAX_PASSWORD {
        Err(format!(
            "Passwords can be at most {MAX_PASSWORD} characters."
        ))
    } else {
        Ok(())
    }
}

pub fn person_name(raw: &str) -> Result<String, String> {
    let n = raw.trim();
    if n.is_empty() {
        Err("Enter your name.".into())
    } else if n.chars().count() > MAX_NAME {
        Err(format!("Names can be at most {MAX_NAME} characters."))
    } else if n.chars().any(|c| c.is_control()) {
        Err("Names cannot contain control characters.".into())
    } else {
        Ok(n.to_string())
    }
}

pub fn note(raw: &str) -> Result<String, String> {
    let n = raw.trim();
    if n.chars().count() > MAX_NOTE {
        Err(format!("Notes can be at most {MAX_NOTE} characters."))
    } else {
        Ok(n.to_string())
    }
}

/// A mobile number for text messages, E.164-like: an optional leading `+`
/// and country code, 8 to 15 digits; spaces, dots, dashes and brackets
/// people type are dropped. Empty means "no mobile" (no texts).
pub fn mobile(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(String::new());
    }
    let bad =
        || Err("Enter a mobile number with its country code, like +1 212 555 0100.".to_string());
    let rest = t.strip_prefix('+').unwrap_or(t);
    let mut digits = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' => {}
            _ => return bad(),
        }
    }
    // Without "+" a number is read as already carrying its country code
    // (SMS providers need one); a leading 0 is a national trunk prefix.
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return bad();
    }
    Ok(format!("+{digits}"))
}

/// An IANA time zone name ("Australia/Sydney"), in its canonical spelling.
/// Server only: the zone database stays out of the browser bundles.
#[cfg(feature = "ssr")]
pub fn time_zone(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    let tz = t.parse::<chrono_tz::Tz>().ok().or_else(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|z| z.name().eq_ignore_ascii_case(t))
            .copied()
    });
    match tz {
        Some(tz) if !t.is_empty() => Ok(tz.name().to_string()),
        _ => Err("Choose a time zone by its IANA name, like America/New_York.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_outside_the_years_are_refused() {
        let d = |y| chrono::NaiveDate::from_ymd_opt(y, 3, 1).unwrap();
        assert!(date_in_range(d(2000)).is_ok());
        assert!(date_in_range(d(2100)).is_ok());
        for y in [1999, 2101, 9999, 262_142, -5] {
            assert_eq!(
                date_in_range(d(y)),
                Err("Enter a date between 2000 and 2100.".into()),
                "{y}"
            );
        }
    }

    #[test]
    fn emails_are_normalised() {
        assert_eq!(email("  Ann@Patients.TEST ").unwrap(), "ann@patients.test");
    }

    #[test]
    fn bad_emails_are_refused() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.test",
            "ann@test",
            "a b@x.test",
            "a@.x",
            "a@x.",
        ] {
            assert!(email(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(email(&format!("{}@x.test", "a".repeat(260))).is_err());
    }

    #[test]
    fn password_length_rules() {
        assert!(new_password("short").is_err());
        assert!(new_password("ten chars!").is_ok());
        assert!(new_password(&"x".repeat(257)).is_err());
    }

    #[test]
    fn names_and_notes() {
        assert_eq!(person_name("  Ann Smith ").unwrap(), "Ann Smith");
        assert!(person_name("   ").is_err());
        assert!(person_name(&"n".repeat(101)).is_err());
        assert!(note(&"n".repeat(1001)).is_err());
        assert_eq!(note(" hi ").unwrap(), "hi");
    }

    #[test]
    fn mobiles_are_normalised_to_e164() {
        assert_eq!(mobile(" +1 (212) 555-0100 ").unwrap(), "+12125550100");
        assert_eq!(mobile("61 412.345.678").unwrap(), "+61412345678");
        assert_eq!(mobile("  ").unwrap(), "");
        for bad in [
            "+1 555",
            "0412 345 678",
            "+1 212 555 0100 ext 2",
            "++12125550100",
            "+1234567890123456",
            "call me",
        ] {
            assert!(mobile(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(time_zone(" Australia/Sydney ").unwrap(), "Australia/Sydney");
        assert_eq!(time_zone("america/new_york").unwrap(), "America/New_York");
        for bad in ["", "Mars/Olympus", "GMT+25", "EST5EDT;DROP"] {
            assert!(time_zone(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
