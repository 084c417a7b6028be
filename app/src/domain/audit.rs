//! The audit trail as people read it: an entry's before and after as a
//! field-by-field "changed from → to" list, action codes in words, and CSV
//! cells that a spreadsheet shows as text (never runs as a formula).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One field an audited change touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// In words: `starts_at` is "Starts at".
    pub field: String,
    /// "—" where the field had no value (or the entry no before).
    pub from: String,
    pub to: String,
}

/// What stands for "no value" on either side.
pub const NONE: &str = "—";

/// The fields that differ between `before` and `after`: before's fields (in
/// the stored object's order), then the ones only after has. Nested objects are
/// flattened ("Policy › Window"); `time` writes unix-second times (fields
/// named `*_at`, `starts`, `ends`, `*_start`, `*_end`, `times`) in the clinic's zone and style.
pub fn changes(
    before: Option<&Value>,
    after: Option<&Value>,
    time: &dyn Fn(i64) -> String,
) -> Vec<FieldChange> {
    let mut b = Vec::new();
    let mut a = Vec::new();
    flatten("", before.unwrap_or(&Value::Null), &mut b);
    flatten("", after.unwrap_or(&Value::Null), &mut a);
    let mut keys: Vec<&str> = b.iter().map(|(k, _)| k.as_str()).collect();
    for (k, _) in &a {
        if !keys.contains(&k.as_str()) {
            keys.push(k);
        }
    }
    let find = |side: &[(String, Value)], k: &str| {
        side.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone())
    };
    keys.into_iter()
        .filter_map(|k| {
            let show = |v: Option<Value>| v.map_or(NONE.to_string(), |v| scalar(k, &v, time));
            let (from, to) = (show(find(&b, k)), show(find(&a, k)));
            // "" and absent both read "—": not a change anyone could see.
            (from != to).then(|| FieldChange {
                field: field_name(k),
                from,
                to,
            })
        })
        .collect()
}

/// Fields whose numbers are user ids: shown as the person's name.
pub const PERSON_FIELDS: [&str; 9] = [
    "host",
    "patient",
    "provider",
    "invited",
    "host_provider_id",
    "patient_id",
    "provider_id",
    "target_provider_id",
    "cancelled_by",
];

/// The user ids an entry's person fields hold (see [`PERSON_FIELDS`]).
pub fn person_ids(v: &Value, out: &mut Vec<i64>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if PERSON_FIELDS.contains(&k.as_str()) {
                    ids_in(v, out);
                } else {
                    person_ids(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| person_ids(i, out)),
        _ => {}
    }
}

fn ids_in(v: &Value, out: &mut Vec<i64>) {
    match v {
        Value::Number(n) => out.extend(n.as_i64()),
        Value::Array(items) => items.iter().for_each(|i| ids_in(i, out)),
        _ => {}
    }
}

/// Replaces the user ids in person fields by the names `name` knows
/// (an id it does not know stays a number).
pub fn name_people(v: &mut Value, name: &dyn Fn(i64) -> Option<String>) {
    fn swap(v: &mut Value, name: &dyn Fn(i64) -> Option<String>) {
        match v {
            Value::Number(n) => {
                if let Some(s) = n.as_i64().and_then(name) {
                    *v = Value::String(s);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| swap(i, name)),
            _ => {}
        }
    }
    match v {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if PERSON_FIELDS.contains(&k.as_str()) {
                    swap(v, name);
                } else {
                    name_people(v, name);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| name_people(i, name)),
        _ => {}
    }
}

/// Leaves of a JSON value with their dotted paths; a bare value is `value`.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, v, out);
            }
        }
        Value::Null if prefix.is_empty() => {}
        _ => out.push((
            if prefix.is_empty() {
                "value".into()
            } else {
                prefix.into()
            },
            v.clone(),
        )),
    }
}

fn is_time_field(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    last.ends_with("_at")
        || last.ends_with("_start")
        || last.ends_with("_end")
        || matches!(last, "starts" | "ends" | "start" | "end" | "times")
}

/// A leaf in words: text as is, yes/no, times in the clinic's style, a
/// list as its items joined by ", ".
fn scalar(key: &str, v: &Value, time: &dyn Fn(i64) -> String) -> String {
    match v {
        Value::Null => NONE.into(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Number(n) => match n.as_i64() {
            Some(t) if is_time_field(key) && t > 0 => time(t),
            _ => n.to_string(),
        },
        Value::String(s) if s.is_empty() => NONE.into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => NONE.into(),
        Value::Array(items) => items
            .iter()
            .map(|i| scalar(key, i, time))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(_) => {
            let mut leaves = Vec::new();
            flatten("", v, &mut leaves);
            leaves
                .iter()
                .map(|(k, v)| format!("{}: {}", field_name(k), scalar(k, v, time)))
                .collect::<Vec<_>>()
                .join("; ")
        }
    }
}

/// `starts_at` → "Starts at"; `policy.window_minutes` → "Policy › Window minutes".
pub fn field_name(key: &str) -> String {
    key.split('.')
        .map(|part| capitalise(&part.replace('_', " ")))
        .collect::<Vec<_>>()
        .join(" › ")
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `appointment.proposal_approve` → "Appointment: proposal approve".
pub fn action_label(code: &str) -> String {
    match code.split_once('.') {
        Some((entity, verb)) => format!(
            "{}: {}",
            capitalise(&entity.replace('_', " ")),
            verb.replace(['_', '.'], " ")
        ),
        None => capitalise(&code.replace('_', " ")),
    }
}

/// One CSV cell (RFC 4180): quoted when it holds a comma, quote, or line
/// break (quotes doubled). A cell a spreadsheet would take for a formula
/// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is
/// prefixed with `'`, so it is shown as the text it is.
pub fn csv_cell(s: &str) -> String {
    let guarded = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// One CSV line, ended with CRLF.
pub fn csv_row<S: AsRef<str>>(cells: &[S]) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The changes as one cell: "Status: booked → cancelled; Reason: …".
pub fn changes_text(changes: &[FieldChange]) -> String {
    changes
        .iter()
        .map(|c| format!("{}: {} → {}", c.field, c.from, c.to))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(ts: i64) -> String {
        format!("T{ts}")
    }

    #[test]
    fn only_what_changed_is_listed_in_words() {
        let before = json!({ "status": "booked", "starts_at": 100, "version": 3, "note": "" });
        let after = json!({ "status": "cancelled", "starts_at": 100, "version": 4, "reason": "Patient unwell" });
        let c = changes(Some(&before), Some(&after), &t);
        let f = |field: &str, from: &str, to: &str| FieldChange {
            field: field.into(),
            from: from.into(),
            to: to.into(),
        };
        assert_eq!(
            c,
            vec![
                f("Status", "booked", "cancelled"),
                f("Version", "3", "4"),
                f("Reason", NONE, "Patient unwell"),
            ]
        );
    }

    #[test]
    fn times_nesting_lists_and_flags_are_readable() {
        let before =
            json!({ "starts_at": 1_000, "policy": { "window_minutes": 60, "approval": false } });
        let after = json!({ "starts_at": 2_000, "policy": { "window_minutes": 120, "approval": true }, "ids": [5, 6], "times": [7] });
        let c = changes(Some(&before), Some(&after), &t);
        let line = changes_text(&c);
        assert_eq!(
            line,
            "Policy › Approval: no → yes; Policy › Window minutes: 60 → 120; \
             Starts at: T1000 → T2000; Ids: — → 5, 6; Times: — → T7"
        );
    }

    #[test]
    fn a_creation_lists_every_field_and_a_bare_value_is_value() {
        let c = changes(None, Some(&json!({ "name": "Check-up" })), &t);
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].from.as_str(), c[0].to.as_str()), (NONE, "Check-up"));
        let c = changes(Some(&json!("a")), Some(&json!("b")), &t);
        assert_eq!(c[0].field, "Value");
        assert!(changes(None, None, &t).is_empty());
        assert!(changes(Some(&json!({"a": 1})), Some(&json!({"a": 1})), &t).is_empty());
    }

    #[test]
    fn people_are_named_not_numbered() {
        let mut v =
            json!({ "host": 7, "invited": [8, 99], "version": 7, "inner": { "patient": 9 } });
        let mut ids = Vec::new();
        person_ids(&v, &mut ids);
        ids.sort();
        assert_eq!(ids, vec![7, 8, 9, 99]);
        let names = |id: i64| match id {
            7 => Some("Dr. Lee".to_string()),
            8 => Some("Dr. Kim".to_string()),
            9 => Some("Ann".to_string()),
            _ => None,
        };
        name_people(&mut v, &names);
        assert_eq!(
            v,
            json!({ "host": "Dr. Lee", "invited": ["Dr. Kim", 99], "version": 7, "inner": { "patient": "Ann" } })
        );
    }

    #[test]
    fn action_codes_read_as_words() {
        assert_eq!(
            action_label("appointment.proposal_approve"),
            "Appointment: proposal approve"
        );
        assert_eq!(action_label("session.login"), "Session: login");
        assert_eq!(action_label("odd"), "Odd");
        assert_eq!(field_name("late_cancel_fee_cents"), "Late cancel fee cents");
    }

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=1+2"), "'=1+2");
        assert_eq!(csv_cell("+61 2"), "'+61 2");
        assert_eq!(csv_cell("-5"), "'-5");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            csv_cell("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_cell(""), "");
        assert_eq!(csv_row(&["a", "b,c", ""]), "a,\"b,c\",\r\n");
    }
}
