//! The FHIR R4 (4.0.1) scheduling API's pure rules: search parameters as
//! typed values, the OperationOutcome every error is, the searchset Bundle,
//! and (in `resources`) the resources we serve and the CapabilityStatement
//! that declares them. No I/O: the service layer feeds these plain data.

pub mod resources;

use serde_json::{json, Value};

/// Every answer of the API, errors included (R4 http.html#mime-type).
pub const CONTENT_TYPE: &str = "application/fhir+json";
pub const FHIR_VERSION: &str = "4.0.1";
/// Identifier system of our services (`HealthcareService`, `serviceType`
/// codings); the others (patient, practitioner, appointment) are the PMS
/// connector's (`domain::pms`), so both speak of one id the same way.
pub const SERVICE_ID_SYSTEM: &str = "urn:slotwise:service";
/// When a hold made by `$hold` lapses (valueInstant on the held Appointment).
pub const HOLD_EXPIRES_EXTENSION: &str = "urn:slotwise:fhir:extension:hold-expires";
/// The most matches a search answers; a broader one is refused (400,
/// `too-costly`) rather than silently cut, since we offer no paging links.
pub const MAX_MATCHES: usize = 1000;

/// How a search treats parameters it does not know (R4 search.html,
/// "Handling Errors": the client's `Prefer: handling=` header). We are
/// strict unless the client asks for lenient, and say so in the
/// CapabilityStatement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// Refuse the search with a 400 OperationOutcome naming the parameter.
    Strict,
    /// Ignore it, and list it in an OperationOutcome entry of the Bundle.
    Lenient,
}

impl Handling {
    /// From the `Prefer` header (`handling=lenient`, maybe among others).
    pub fn from_prefer(prefer: Option<&str>) -> Handling {
        let lenient = prefer.is_some_and(|p| {
            p.split([',', ';'])
                .any(|part| part.trim().eq_ignore_ascii_case("handling=lenient"))
        });
        if lenient {
            Handling::Lenient
        } else {
            Handling::Strict
        }
    }
}

/// A refusal, as FHIR says it: HTTP status, issue type code
/// (http://hl7.org/fhir/issue-type) and words for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    /// A bad search parameter or operation input (400, `invalid`).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "invalid", message)
    }
    /// The issue type that fits an HTTP status, for errors that carry
    /// only a status (the app's `AppError`).
    pub fn code_for(status: u16) -> &'static str {
        match status {
            400 => "invalid",
            401 => "login",
            403 => "forbidden",
            404 => "not-found",
            405 | 406 | 415 => "not-supported",
            409 => "conflict",
            410 => "expired",
            413 => "too-long",
            422 => "business-rule",
            429 => "throttled",
            503 => "transient",
            _ => "exception",
        }
    }
    pub fn outcome(&self) -> Value {
        operation_outcome("error", self.code, &self.message)
    }
}

/// An `OperationOutcome` with one issue.
pub fn operation_outcome(severity: &str, code: &str, diagnostics: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{ "severity": severity, "code": code, "diagnostics": diagnostics }],
    })
}

/// A searchset Bundle of every match (one page).
pub fn searchset(base: &str, self_url: &str, resources: Vec<Value>, ignored: &[String]) -> Value {
    let total = resources.len();
    searchset_page(base, (self_url, None), total, resources, ignored)
}

/// The search parameters a search's answer is paged by: `_count` matches
/// a page (0: only the total), from match `_offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub count: usize,
    pub offset: usize,
}

/// The names `Page` reads, accepted by every search.
pub const PAGING: [&str; 2] = ["_count", "_offset"];

impl Page {
    pub fn from_params(p: &Params) -> Result<Page, Refusal> {
        let num = |name: &str, default: usize| match p.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= MAX_MATCHES)
                .ok_or_else(|| {
                    Refusal::invalid(format!(
                        "'{name}' must be a whole number from 0 to {MAX_MATCHES}."
                    ))
                }),
        };
        Ok(Page {
            count: num("_count", MAX_MATCHES)?,
            offset: num("_offset", 0)?,
        })
    }

    /// This page's part of every match, and where the next page starts
    /// (None: this is the last, or only the total was asked for).
    pub fn slice(&self, all: Vec<Value>) -> (Vec<Value>, Option<usize>) {
        let total = all.len();
        let next = self.offset + self.count;
        let items = all.into_iter().skip(self.offset).take(self.count).collect();
        (items, (self.count > 0 && next < total).then_some(next))
    }
}

/// A searchset Bundle: `total` is every match, `resources` the page of
/// them, each entry with its absolute `fullUrl` and `search.mode` match;
/// links `self` and (when more follow) `next`; parameters a lenient
/// search ignored come back as an `outcome` entry.
pub fn searchset_page(
    base: &str,
    (self_url, next_url): (&str, Option<&str>),
    total: usize,
    resources: Vec<Value>,
    ignored: &[String],
) -> Value {
    let mut entry: Vec<Value> = resources
        .into_iter()
        .map(|r| match r["id"].as_str() {
            Some(id) => {
                let url = format!("{base}/{}/{id}", r["resourceType"].as_str().unwrap_or(""));
                json!({ "fullUrl": url, "resource": r, "search": { "mode": "match" } })
            }
            // What $find proposes is not stored, so it has no address.
            None => json!({ "resource": r, "search": { "mode": "match" } }),
        })
        .collect();
    let mut links = vec![json!({ "relation": "self", "url": self_url })];
    if let Some(next) = next_url {
        links.push(json!({ "relation": "next", "url": next }));
    }
    if !ignored.is_empty() {
        let words = format!("Ignored unknown search parameters: {}.", ignored.join(", "));
        entry.push(json!({
            "resource": operation_outcome("warning", "not-supported", &words),
            "search": { "mode": "outcome" },
        }));
    }
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entry,
    })
}

/// The search parameters a request carried, checked against the ones a
/// resource supports: repeats are allowed only where `repeatable` says so
/// (dates: each bound narrows), unknown names are refused or set aside as
/// `handling` says. `_format` is accepted for JSON only.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    pub ignored: Vec<String>,
}

impl Params {
    pub fn parse(
        query: &[(String, String)],
        known: &[&str],
        repeatable: &[&str],
        handling: Handling,
    ) -> Result<Params, Refusal> {
        let mut p = Params::default();
        for (k, v) in query {
            if k == "_format" {
                if !matches!(
                    v.as_str(),
                    "json" | "application/fhir+json" | "application/json"
                ) {
                    return Err(Refusal::new(
                        406,
                        "not-supported",
                        "Only JSON is served (_format=json).",
                    ));
                }
                continue;
            }
            // A modifier (`patient:missing`) is not supported either.
            if !known.contains(&k.as_str()) {
                match handling {
                    Handling::Strict => {
                        return Err(Refusal::invalid(format!(
                            "Unknown or unsupported search parameter '{k}'. This server refuses \
                             them unless asked with 'Prefer: handling=lenient'; it supports: {}.",
                            known.join(", ")
                        )))
                    }
                    Handling::Lenient => {
                        if !p.ignored.contains(k) {
                            p.ignored.push(k.clone());
                        }
                        continue;
                    }
                }
            }
            if !repeatable.contains(&k.as_str()) && p.pairs.iter().any(|(n, _)| n == k) {
                return Err(Refusal::invalid(format!(
                    "Give the search parameter '{k}' once."
                )));
            }
            if v.trim().is_empty() {
                return Err(Refusal::invalid(format!(
                    "The search parameter '{k}' has no value."
                )));
            }
            p.pairs.push((k.clone(), v.trim().to_string()));
        }
        Ok(p)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The parameters that were used, as a query string (the Bundle's
    /// `self` link names exactly what was applied).
    pub fn query_string(&self) -> String {
        self.pairs
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The query string with `_offset` set to `offset` (a page's link).
    pub fn query_string_at(&self, offset: usize) -> String {
        let mut p = self.clone();
        p.pairs.retain(|(k, _)| k != "_offset");
        p.pairs.push(("_offset".into(), offset.to_string()));
        p.query_string()
    }

    /// An id given as a reference (`Patient/7`, a full URL ending so, or a
    /// bare `7`), checked to be of `kind`.
    pub fn reference(&self, name: &str, kind: &str) -> Result<Option<String>, Refusal> {
        self.get(name).map(|v| reference_id(v, kind)).transpose()
    }

    /// The date parameters `name` gives (each bound narrows the others).
    pub fn dates(&self, name: &str) -> Result<Vec<DateParam>, Refusal> {
        self.all(name).map(DateParam::parse).collect()
    }

    /// A token's codes (`a,b`, each maybe `system|code`).
    pub fn codes(&self, name: &str, system: Option<&str>) -> Result<Vec<String>, Refusal> {
        let Some(v) = self.get(name) else {
            return Ok(Vec::new());
        };
        v.split(',')
            .map(|t| match t.split_once('|') {
                None => Ok(t.trim().to_string()),
                Some((s, c)) if s.is_empty() || Some(s) == system => Ok(c.trim().to_string()),
                Some((s, _)) => Err(Refusal::invalid(format!(
                    "'{name}' does not know the code system '{s}'."
                ))),
            })
            .collect()
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The id of a reference to a `kind` resource: `kind/id`, any URL ending
/// in `/kind/id`, or a bare id. A reference to another kind is refused.
pub fn reference_id(v: &str, kind: &str) -> Result<String, Refusal> {
    let v = v.trim();
    let id = match v.rsplit_once('/') {
        None => v,
        Some((head, id)) => {
            let head_kind = head.rsplit('/').next().unwrap_or("");
            if head_kind != kind {
                return Err(Refusal::invalid(format!(
                    "'{v}' is not a reference to a {kind}."
                )));
            }
            id
        }
    };
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(Refusal::invalid(format!("'{v}' is not a valid {kind} id.")));
    }
    Ok(id.to_string())
}

/// A numeric id (ours all are, or pairs of them joined by '-').
pub fn numeric_ids(id: &str, parts: usize) -> Option<Vec<i64>> {
    let ids: Vec<i64> = id
        .split('-')
        .map(|p| p.parse::<i64>().ok().filter(|n| *n > 0))
        .collect::<Option<_>>()?;
    (ids.len() == parts).then_some(ids)
}

/// Instants [from, to) a date search allows; None is unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bounds {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl Bounds {
    /// Both must hold (several date parameters narrow each other).
    pub fn and(self, o: Bounds) -> Bounds {
        Bounds {
            from: max_opt(self.from, o.from),
            to: min_opt(self.to, o.to),
        }
    }
    pub fn contains(&self, t: i64) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e)
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// A date search value: a prefix and the range its precision covers
/// (a year, month, day or second), [lo, hi).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateParam {
    pub prefix: Prefix,
    pub lo: i64,
    pub hi: i64,
    /// Given without a time (a year, month or day): `lo`/`hi` are the UTC
    /// reading until `in_zone` reads it as the clinic's days.
    pub dated: bool,
}

/// The bounds several date parameters set together, dates without a time
/// read as days in `tz` (the clinic's zone).
pub fn bounds_in<Z: chrono::TimeZone>(dates: &[DateParam], tz: &Z) -> Bounds {
    dates
        .iter()
        .fold(Bounds::default(), |b, d| b.and(d.in_zone(tz).bounds()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    Eq,
    Gt,
    Lt,
    Ge,
    Le,
}

impl DateParam {
    /// `[prefix]YYYY[-MM[-DD[Thh:mm[:ss][Z|±hh:mm]]]]`. A date without a
    /// time is read in the clinic's zone (`in_zone`; stated in the
    /// CapabilityStatement); a time must carry its offset. `ne`, `sa`,
    /// `eb` and `ap` are not supported and are refused.
    pub fn parse(v: &str) -> Result<DateParam, Refusal> {
        let bad = || {
            Refusal::invalid(format!(
                "'{v}' is not a date: use [eq|gt|lt|ge|le]YYYY-MM-DD or an instant with its \
                 offset, e.g. ge2026-03-04T09:00:00Z."
            ))
        };
        let (prefix, rest) = match v.get(..2) {
            Some("eq") => (Prefix::Eq, &v[2..]),
            Some("gt") => (Prefix::Gt, &v[2..]),
            Some("lt") => (Prefix::Lt, &v[2..]),
            Some("ge") => (Prefix::Ge, &v[2..]),
            Some("le") => (Prefix::Le, &v[2..]),
            Some("ne" | "sa" | "eb" | "ap") => {
                return Err(Refusal::invalid(format!(
                    "The date prefix '{}' is not supported; use eq, gt, lt, ge or le.",
                    &v[..2]
                )))
            }
            _ => (Prefix::Eq, v),
        };
        let (lo, hi) = date_range(rest).ok_or_else(bad)?;
        // Dates far outside what a clinic schedules are typos.
        if !(946_684_800..=4_102_444_800).contains(&lo) {
            return Err(Refusal::invalid(format!(
                "'{v}' is outside the years 2000-2100."
            )));
        }
        Ok(DateParam {
            prefix,
            lo,
            hi,
            dated: rest.len() <= 10,
        })
    }

    /// A date without a time as the days it names in `tz`: from the local
    /// midnight that starts it to the one that ends it (so a day is 23 or
    /// 25 hours long when the clocks change). An instant is unchanged.
    pub fn in_zone<Z: chrono::TimeZone>(&self, tz: &Z) -> DateParam {
        if !self.dated {
            return *self;
        }
        let local = |utc_midnight: i64| {
            let day = chrono::DateTime::from_timestamp(utc_midnight, 0)
                .unwrap_or_default()
                .naive_utc();
            // A zone whose clocks skip midnight starts that day at the
            // first instant that exists.
            let start = tz.from_local_datetime(&day).earliest().or_else(|| {
                tz.from_local_datetime(&(day + chrono::Duration::hours(1)))
                    .earliest()
            });
            start.map_or(utc_midnight, |t| t.timestamp())
        };
        DateParam {
            lo: local(self.lo),
            hi: local(self.hi),
            ..*self
        }
    }

    /// Where an instant must lie to match (R4 search.html#prefix, for a
    /// resource value that is an instant).
    pub fn bounds(&self) -> Bounds {
        let (lo, hi) = (Some(self.lo), Some(self.hi));
        match self.prefix {
            Prefix::Eq => Bounds { from: lo, to: hi },
            Prefix::Gt => Bounds { from: hi, to: None },
            Prefix::Ge => Bounds { from: lo, to: None },
            Prefix::Lt => Bounds { from: None, to: lo },
            Prefix::Le => Bounds { from: None, to: hi },
        }
    }
}

/// The instants a date of some precision covers.
fn date_range(s: &str) -> Option<(i64, i64)> {
    use chrono::{DateTime, Months, NaiveDate};
    let day = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    match s.len() {
        4 => {
            let y: i32 = s.parse().ok()?;
            let d = NaiveDate::from_ymd_opt(y, 1, 1)?;
            Some((day(d)?, day(d.checked_add_months(Months::new(12))?)?))
        }
        7 => {
            let d = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()?;
            Some((day(d)?, day(d.checked_add_months(Months::new(1))?)?))
        }
        10 => {
            let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
            Some((day(d)?, day(d.succ_opt()?)?))
        }
        _ => {
            // hh:mm without seconds is allowed by FHIR's dateTime search.
            let full = if s.len() >= 16 && s.as_bytes().get(16) != Some(&b':') {
                format!("{}:00{}", &s[..16], &s[16..])
            } else {
                s.to_string()
            };
            let t = DateTime::parse_from_rfc3339(&full).ok()?.timestamp();
            Some((t, t + 1))
        }
    }
}

/// A FHIR instant: to the second, UTC.
pub fn instant(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// An instant an operation input gives (`start`, `end`, Appointment.start).
pub fn parse_instant(v: &str, what: &str) -> Result<i64, Refusal> {
    chrono::DateTime::parse_from_rfc3339(v.trim())
        .map(|t| t.timestamp())
        .map_err(|_| {
            Refusal::invalid(format!(
                "'{what}' must be an instant with its offset, e.g. 2026-03-04T09:00:00Z."
            ))
        })
}

/// An operation's inputs (`Parameters`, R4 operations.html): each
/// parameter's value as text (a primitive `value[x]`, or a Reference's
/// `reference`), or its resource.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub values: Vec<(String, String)>,
    pub resources: Vec<(String, Value)>,
}

impl Inputs {
    /// A `Parameters` body. Anything else (not JSON, another resource, a
    /// parameter without a name or value) is refused naming what is wrong.
    pub fn from_body(body: &[u8]) -> Result<Inputs, Refusal> {
        let v: Value = serde_json::from_slice(body).map_err(|_| {
            Refusal::new(
                400,
                "structure",
                "The body is not JSON: send a Parameters resource.",
            )
        })?;
        if v["resourceType"] != "Parameters" {
            return Err(Refusal::new(
                400,
                "structure",
                "Send the operation's inputs as a Parameters resource.",
            ));
        }
        let mut out = Inputs::default();
        for p in v["parameter"].as_array().into_iter().flatten() {
            let Some(name) = p["name"].as_str() else {
                return Err(Refusal::new(
                    400,
                    "required",
                    "Every parameter needs a name.",
                ));
            };
            if let Some(r) = p.get("resource").filter(|r| r.is_object()) {
                out.resources.push((name.to_string(), r.clone()));
                continue;
            }
            let value = p.as_object().and_then(|o| {
                o.iter()
                    .find_map(|(k, v)| match (k.strip_prefix("value"), v) {
                        (Some(_), Value::String(s)) => Some(s.clone()),
                        (Some(_), Value::Number(n)) => Some(n.to_string()),
                        (Some("Reference"), r) => r["reference"].as_str().map(str::to_string),
                        _ => None,
                    })
            });
            let Some(value) = value else {
                return Err(Refusal::new(
                    400,
                    "required",
                    format!("The parameter '{name}' has no value."),
                ));
            };
            out.values.push((name.to_string(), value));
        }
        Ok(out)
    }

    pub fn resource(&self, name: &str) -> Option<&Value> {
        self.resources
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r)
    }
}

/// The time an Appointment given to `$hold` or `$book` asks for: which
/// service, provider and patient, and when it starts (its length is the
/// service's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    pub service_id: i64,
    pub provider_id: i64,
    pub patient_id: Option<i64>,
    pub start: i64,
}

impl Wanted {
    /// From an Appointment (one `$find` proposed, or written by hand):
    /// `start`, the service as a `serviceType` coding of
    /// urn:slotwise:service, a `Practitioner/<id>` participant and
    /// optionally a `Patient/<id>` one.
    pub fn from_appointment(a: &Value) -> Result<Wanted, Refusal> {
        if a["resourceType"] != "Appointment" {
            return Err(Refusal::new(
                400,
                "structure",
                "appointment-resource must be an Appointment.",
            ));
        }
        let start = a["start"]
            .as_str()
            .ok_or_else(|| Refusal::new(400, "required", "The Appointment needs its start."))
            .and_then(|s| parse_instant(s, "start"))?;
        let service = a["serviceType"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["coding"].as_array().into_iter().flatten())
            .find(|c| c["system"] == SERVICE_ID_SYSTEM)
            .and_then(|c| c["code"].as_str())
            .and_then(|c| c.parse::<i64>().ok())
            .ok_or_else(|| {
                Refusal::new(
                    400,
                    "required",
                    format!("The Appointment needs a serviceType coding of {SERVICE_ID_SYSTEM} (see HealthcareService)."),
                )
            })?;
        let actor = |kind: &str| -> Result<Option<i64>, Refusal> {
            let mut found = None;
            for p in a["participant"].as_array().into_iter().flatten() {
                let Some(r) = p["actor"]["reference"].as_str() else {
                    continue;
                };
                if r.starts_with(&format!("{kind}/")) {
                    let id = reference_id(r, kind)?;
                    let n = numeric_ids(&id, 1).ok_or_else(|| {
                        Refusal::invalid(format!("'{r}' is not a {kind} of ours."))
                    })?[0];
                    if found.replace(n).is_some_and(|f| f != n) {
                        return Err(Refusal::invalid(format!("Give one {kind} participant.")));
                    }
                }
            }
            Ok(found)
        };
        let provider_id = actor("Practitioner")?.ok_or_else(|| {
            Refusal::new(
                400,
                "required",
                "The Appointment needs a Practitioner participant.",
            )
        })?;
        Ok(Wanted {
            service_id: service,
            provider_id,
            patient_id: actor("Patient")?,
            start,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn unknown_parameters_are_refused_unless_lenient() {
        let known = ["patient", "date"];
        let e = Params::parse(&q(&[("colour", "red")]), &known, &[], Handling::Strict).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("'colour'"), "{}", e.message);
        let p = Params::parse(
            &q(&[("colour", "red"), ("patient", "Patient/3")]),
            &known,
            &[],
            Handling::Lenient,
        )
        .unwrap();
        assert_eq!(p.ignored, vec!["colour".to_string()]);
        assert_eq!(p.query_string(), "patient=Patient/3");
        assert_eq!(
            Handling::from_prefer(Some("return=minimal, handling=lenient")),
            Handling::Lenient
        );
        assert_eq!(
            Handling::from_prefer(Some("handling=strict")),
            Handling::Strict
        );
        assert_eq!(Handling::from_prefer(None), Handling::Strict);
        // Modifiers are unknown parameters too; repeats and empties refused.
        assert!(Params::parse(
            &q(&[("patient:missing", "true")]),
            &known,
            &[],
            Handling::Strict
        )
        .is_err());
        assert!(Params::parse(
            &q(&[("patient", "1"), ("patient", "2")]),
            &known,
            &[],
            Handling::Strict
        )
        .is_err());
        assert!(Params::parse(&q(&[("patient", " ")]), &known, &[], Handling::Strict).is_err());
        assert!(Params::parse(
            &q(&[("date", "ge2026"), ("date", "lt2027")]),
            &known,
            &["date"],
            Handling::Strict
        )
        .is_ok());
        assert_eq!(
            Params::parse(&q(&[("_format", "xml")]), &known, &[], Handling::Strict)
                .unwrap_err()
                .status,
            406
        );
    }

    #[test]
    fn references_name_their_kind() {
        assert_eq!(reference_id("Patient/7", "Patient").unwrap(), "7");
        assert_eq!(reference_id("7", "Patient").unwrap(), "7");
        assert_eq!(
            reference_id("https://x.test/fhir/Patient/7", "Patient").unwrap(),
            "7"
        );
        assert!(reference_id("Practitioner/7", "Patient").is_err());
        assert!(reference_id("Patient/", "Patient").is_err());
        assert!(reference_id("Patient/7;drop", "Patient").is_err());
        assert_eq!(numeric_ids("3-5", 2), Some(vec![3, 5]));
        assert_eq!(numeric_ids("3", 2), None);
        assert_eq!(numeric_ids("x-5", 2), None);
        assert_eq!(numeric_ids("0", 1), None);
    }

    #[test]
    fn date_prefixes_bound_instants() {
        let day = DateParam::parse("2026-03-04").unwrap();
        let start = 1_772_582_400; // 2026-03-04T00:00:00Z
        assert_eq!(
            (day.prefix, day.lo, day.hi),
            (Prefix::Eq, start, start + 86_400)
        );
        let b = DateParam::parse("ge2026-03-04").unwrap().bounds();
        assert!(b.contains(start) && !b.contains(start - 1));
        let b = DateParam::parse("gt2026-03-04").unwrap().bounds();
        assert!(!b.contains(start + 86_399) && b.contains(start + 86_400));
        let b = DateParam::parse("lt2026-03-04").unwrap().bounds();
        assert!(b.contains(start - 1) && !b.contains(start));
        let b = DateParam::parse("le2026-03-04").unwrap().bounds();
        assert!(b.contains(start + 86_399) && !b.contains(start + 86_400));
        let t = DateParam::parse("ge2026-03-04T10:30Z").unwrap();
        assert_eq!(t.lo, start + 10 * 3600 + 1800);
        let t = DateParam::parse("eq2026-03-04T05:30:00-05:00").unwrap();
        assert_eq!(t.lo, start + 10 * 3600 + 1800);
        assert_eq!(DateParam::parse("2026-03").unwrap().hi, 1_775_001_600);
        assert_eq!(DateParam::parse("2026").unwrap().lo, 1_767_225_600);
        for bad in [
            "ne2026-03-04",
            "2026-13-01",
            "tomorrow",
            "2026-03-04T10:00",
            "1999-01-01",
            "",
        ] {
            assert!(DateParam::parse(bad).is_err(), "{bad}");
        }
        let both = DateParam::parse("ge2026-03-04")
            .unwrap()
            .bounds()
            .and(DateParam::parse("lt2026-03-05").unwrap().bounds());
        assert_eq!(
            both,
            Bounds {
                from: Some(start),
                to: Some(start + 86_400)
            }
        );
    }

    #[test]
    fn dates_without_a_time_are_the_clinics_days() {
        use chrono_tz::America::New_York;
        let ny_midnight = 1_796_101_200; // 2026-12-01T05:00:00Z
        let d = DateParam::parse("2026-12-01").unwrap();
        assert!(d.dated);
        let b = bounds_in(&[d], &New_York);
        assert_eq!(
            b,
            Bounds {
                from: Some(ny_midnight),
                to: Some(ny_midnight + 86_400)
            }
        );
        // 23:30 in New York on the 1st is 04:30Z on the 2nd: that day's.
        assert!(b.contains(ny_midnight + 86_400 - 1800));
        assert!(!b.contains(ny_midnight - 1));
        // The day the clocks go forward has 23 hours; a month its days.
        let spring = DateParam::parse("2026-03-08").unwrap().in_zone(&New_York);
        assert_eq!(spring.hi - spring.lo, 23 * 3600);
        let march = DateParam::parse("ge2026-03").unwrap();
        let from = bounds_in(&[march], &New_York).from.unwrap();
        assert_eq!(from, 1_772_341_200); // 2026-03-01T05:00:00Z
                                         // An instant carries its offset: no zone changes it; UTC is UTC.
        let t = DateParam::parse("ge2026-12-01T10:00:00Z").unwrap();
        assert!(!t.dated);
        assert_eq!(t.in_zone(&New_York), t);
        assert_eq!(d.in_zone(&chrono::Utc), d);
    }

    #[test]
    fn pages_of_a_search() {
        let all: Vec<Value> = (0..5).map(|i| json!({ "id": i.to_string() })).collect();
        let p = Params::parse(
            &q(&[("_count", "2"), ("_offset", "2")]),
            &PAGING,
            &[],
            Handling::Strict,
        )
        .unwrap();
        let page = Page::from_params(&p).unwrap();
        let (items, next) = page.slice(all.clone());
        assert_eq!(items, all[2..4].to_vec());
        assert_eq!(next, Some(4));
        assert_eq!(p.query_string_at(4), "_count=2&_offset=4");
        let last = Page {
            count: 2,
            offset: 4,
        }
        .slice(all.clone());
        assert_eq!((last.0.len(), last.1), (1, None));
        let total_only = Page {
            count: 0,
            offset: 0,
        }
        .slice(all.clone());
        assert_eq!((total_only.0.len(), total_only.1), (0, None));
        let none = Params::parse(&q(&[]), &PAGING, &[], Handling::Strict).unwrap();
        assert_eq!(
            Page::from_params(&none).unwrap(),
            Page {
                count: MAX_MATCHES,
                offset: 0
            }
        );
        for bad in ["-1", "x", "1001"] {
            let p = Params::parse(&q(&[("_count", bad)]), &PAGING, &[], Handling::Strict).unwrap();
            assert!(Page::from_params(&p).is_err(), "{bad}");
        }
        let b = searchset_page("https://c.test/fhir", ("s", Some("n")), 5, items, &[]);
        assert_eq!(b["total"], 5);
        assert_eq!(b["link"][1]["relation"], "next");
        assert_eq!(b["entry"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn outcomes_and_bundles() {
        let r = Refusal::new(409, Refusal::code_for(409), "taken");
        let o = r.outcome();
        assert_eq!(o["resourceType"], "OperationOutcome");
        assert_eq!(o["issue"][0]["code"], "conflict");
        assert_eq!(Refusal::code_for(401), "login");
        assert_eq!(Refusal::code_for(413), "too-long");
        assert_eq!(Refusal::code_for(405), "not-supported");
        assert_eq!(Refusal::code_for(503), "transient");
        let b = searchset(
            "https://c.test/fhir",
            "https://c.test/fhir/Patient",
            vec![json!({"resourceType": "Patient", "id": "4"})],
            &["colour".into()],
        );
        assert_eq!(b["total"], 1);
        assert_eq!(b["entry"][0]["fullUrl"], "https://c.test/fhir/Patient/4");
        assert_eq!(b["entry"][1]["search"]["mode"], "outcome");
        assert_eq!(instant(1_772_582_400), "2026-03-04T00:00:00Z");
        assert_eq!(
            parse_instant("2026-03-04T00:00:00Z", "start").unwrap(),
            1_772_582_400
        );
        assert!(parse_instant("2026-03-04", "start").is_err());
    }

    #[test]
    fn status_codes_from_a_token() {
        let p = Params::parse(
            &q(&[(
                "status",
                "booked,http://hl7.org/fhir/appointmentstatus|cancelled",
            )]),
            &["status"],
            &[],
            Handling::Strict,
        )
        .unwrap();
        assert_eq!(
            p.codes("status", Some("http://hl7.org/fhir/appointmentstatus"))
                .unwrap(),
            vec!["booked", "cancelled"]
        );
        let p = Params::parse(
            &q(&[("status", "x|booked")]),
            &["status"],
            &[],
            Handling::Strict,
        )
        .unwrap();
        assert!(p
            .codes("status", Some("http://hl7.org/fhir/appointmentstatus"))
            .is_err());
    }

    #[test]
    fn operation_inputs_and_the_wanted_time() {
        let body = br#"{"resourceType":"Parameters","parameter":[
            {"name":"start","valueDateTime":"2026-03-04T10:00:00Z"},
            {"name":"practitioner","valueReference":{"reference":"Practitioner/3"}},
            {"name":"appointment-resource","resource":{"resourceType":"Appointment","status":"proposed",
              "start":"2026-03-04T10:00:00Z",
              "serviceType":[{"coding":[{"system":"urn:slotwise:service","code":"2"}]}],
              "participant":[{"actor":{"reference":"Practitioner/3"},"status":"needs-action"},
                             {"actor":{"reference":"Patient/9"},"status":"needs-action"}]}}]}"#;
        let i = Inputs::from_body(body).unwrap();
        assert_eq!(
            i.values[1],
            ("practitioner".into(), "Practitioner/3".into())
        );
        let w = Wanted::from_appointment(i.resource("appointment-resource").unwrap()).unwrap();
        assert_eq!(
            w,
            Wanted {
                service_id: 2,
                provider_id: 3,
                patient_id: Some(9),
                start: 1_772_618_400
            }
        );
        assert_eq!(
            Inputs::from_body(b"not json").unwrap_err().code,
            "structure"
        );
        assert!(Inputs::from_body(br#"{"resourceType":"Patient"}"#).is_err());
        assert!(
            Inputs::from_body(br#"{"resourceType":"Parameters","parameter":[{"name":"x"}]}"#)
                .is_err()
        );
        let no_service = json!({"resourceType":"Appointment","start":"2026-03-04T10:00:00Z",
            "participant":[{"actor":{"reference":"Practitioner/3"}}]});
        assert!(Wanted::from_appointment(&no_service).is_err());
        let two = json!({"resourceType":"Appointment","start":"2026-03-04T10:00:00Z",
            "serviceType":[{"coding":[{"system":"urn:slotwise:service","code":"2"}]}],
            "participant":[{"actor":{"reference":"Practitioner/3"}},{"actor":{"reference":"Practitioner/4"}}]});
        assert!(Wanted::from_appointment(&two).is_err());
    }
}
