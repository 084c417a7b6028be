//! API clients (issue 16, part 1): a clinic admin gives an integrator a
//! bearer token for the FHIR API, scoped to read, or to read and write
//! (book). The rules here are pure: scopes, names, the token's shape and
//! when its last use is worth writing down. The token itself is made and
//! hashed on the server (`server::auth::new_token`, `token_hash`).

use serde::{Deserialize, Serialize};

/// What a token lets its holder do in its clinic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiScope {
    /// Read and search.
    Read,
    /// Read, search, hold and book.
    ReadWrite,
}

impl ApiScope {
    pub const ALL: [ApiScope; 2] = [ApiScope::Read, ApiScope::ReadWrite];

    /// The stored (and wire) name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiScope::Read => "read",
            ApiScope::ReadWrite => "read_write",
        }
    }

    pub fn parse(s: &str) -> Option<ApiScope> {
        ApiScope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ApiScope::Read => "Read only",
            ApiScope::ReadWrite => "Read and write",
        }
    }

    /// Whether the token may change anything (hold or book a slot).
    pub fn allows_write(self) -> bool {
        matches!(self, ApiScope::ReadWrite)
    }
}

/// Every token starts with this, so a leaked one is recognisable (secret
/// scanners, logs) and cannot be mistaken for a session or feed token.
pub const TOKEN_PREFIX: &str = "swk_";

/// The random part's length: 32 bytes in unpadded base64url.
const RANDOM_LEN: usize = 43;

/// The longest name an admin may give a client.
pub const NAME_MAX: usize = 80;

/// The token for a random part (from `server::auth::new_token`).
pub fn token_from(random: &str) -> String {
    format!("{TOKEN_PREFIX}{random}")
}

/// Whether a string has the shape of a token: the prefix, then 43 base64url
/// characters. Anything else is refused before the database is asked.
pub fn well_formed(token: &str) -> bool {
    token.strip_prefix(TOKEN_PREFIX).is_some_and(|r| {
        r.len() == RANDOM_LEN
            && r.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The token in an `Authorization` header's value ("Bearer swk_…") or the
/// bare token; surrounding spaces are ignored.
pub fn bearer_token(value: &str) -> &str {
    let v = value.trim();
    match v.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => v,
    }
}

/// A client's name, trimmed, or what to fix.
pub fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Name the API client, for example after the system that will use it.".into());
    }
    if name.chars().count() > NAME_MAX {
        return Err(format!(
            "Keep the API client's name to {NAME_MAX} characters or fewer."
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("The API client's name cannot contain line breaks or tabs.".into());
    }
    Ok(name.to_string())
}

/// How stale `last_used_at` may get: a busy integrator calls many times a
/// second, and one write a minute is enough to tell "in use" from "idle".
pub const TOUCH_EVERY_SECS: i64 = 60;

/// Whether a use at `now` should be written down.
pub fn needs_touch(last_used_at: Option<i64>, now: i64) -> bool {
    last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_only_read_write_writes() {
        for s in ApiScope::ALL {
            assert_eq!(ApiScope::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::String(s.as_str().into()),
                "the wire name is the stored name"
            );
        }
        assert_eq!(ApiScope::parse("write"), None);
        assert_eq!(ApiScope::parse("Read"), None);
        assert!(ApiScope::ReadWrite.allows_write());
        assert!(!ApiScope::Read.allows_write());
        assert_eq!(ApiScope::Read.label(), "Read only");
    }

    #[test]
    fn tokens_have_the_prefix_and_43_base64url_characters() {
        let random = "A".repeat(42) + "_";
        let t = token_from(&random);
        assert!(t.starts_with("swk_"));
        assert!(well_formed(&t));
        assert!(!well_formed(&random), "no prefix");
        assert!(!well_formed(&format!("swk_{}", "A".repeat(42))), "short");
        assert!(!well_formed(&format!("swk_{}", "A".repeat(44))), "long");
        assert!(
            !well_formed(&format!("swk_{}+", "A".repeat(42))),
            "not url-safe"
        );
        assert!(!well_formed(""));
    }

    #[test]
    fn bearer_header_or_bare_token() {
        assert_eq!(bearer_token("Bearer swk_abc"), "swk_abc");
        assert_eq!(bearer_token("  bearer   swk_abc "), "swk_abc");
        assert_eq!(bearer_token("swk_abc"), "swk_abc");
        assert_eq!(bearer_token("Basic xyz"), "Basic xyz");
    }

    #[test]
    fn names_are_trimmed_bounded_and_single_line() {
        assert_eq!(check_name("  Front desk PMS ").unwrap(), "Front desk PMS");
        assert!(check_name("   ")
            .unwrap_err()
            .starts_with("Name the API client"));
        assert!(
            check_name(&"é".repeat(80)).is_ok(),
            "80 characters, not bytes"
        );
        assert!(check_name(&"x".repeat(81))
            .unwrap_err()
            .contains("80 characters"));
        assert!(check_name("a\nb").unwrap_err().contains("line breaks"));
    }

    #[test]
    fn last_use_is_written_at_most_once_a_minute() {
        assert!(needs_touch(None, 1_000));
        assert!(!needs_touch(Some(1_000), 1_059));
        assert!(needs_touch(Some(1_000), 1_060));
    }
}
