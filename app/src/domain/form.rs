//! A clinic's pre-request form: the questions a patient answers when asking
//! for a session, and the checks on the answers.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// Free text.
    #[default]
    Text,
    /// One of `options`.
    Choice,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub label: String,
    #[serde(default)]
    pub kind: QuestionKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

/// A question and what the patient answered (kept with the label so the
/// request reads the same after the form changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub label: String,
    pub answer: String,
}

pub const MAX_QUESTIONS: usize = 20;
pub const MAX_ANSWER: usize = 1000;

/// Checks a question an admin adds to the form. `options` is the text of
/// the choices, one per line or separated by commas.
pub fn new_question(
    label: &str,
    kind: QuestionKind,
    options: &str,
    required: bool,
) -> Result<Question, String> {
    let label = label.trim();
    if label.is_empty() {
        return Err("Write the question.".into());
    }
    if label.chars().count() > 200 {
        return Err("A question can be at most 200 characters.".into());
    }
    let options: Vec<String> = options
        .split([',', '\n'])
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty())
        .collect();
    let options = match kind {
        QuestionKind::Text => Vec::new(),
        QuestionKind::Choice => {
            if options.len() < 2 {
                return Err("A choice question needs at least two options.".into());
            }
            if options.len() > 12 || options.iter().any(|o| o.chars().count() > 80) {
                return Err("Use at most 12 options of up to 80 characters each.".into());
            }
            let mut seen = options.clone();
            seen.sort();
            seen.dedup();
            if seen.len() != options.len() {
                return Err("Each option must be different.".into());
            }
            options
        }
    };
    Ok(Question {
        label: label.to_string(),
        kind,
        options,
        required,
    })
}

/// Checks a patient's answers against the form: one answer per question in
/// order, required ones filled, choices from the list.
pub fn check_answers(questions: &[Question], answers: &[String]) -> Result<Vec<Answer>, String> {
    if answers.len() > questions.len() {
        return Err(
            "The form has changed since you opened it. Reload the page and try again.".into(),
        );
    }
    let mut out = Vec::with_capacity(questions.len());
    for (i, q) in questions.iter().enumerate() {
        let a = answers.get(i).map(|a| a.trim()).unwrap_or("");
        if a.is_empty() {
            if q.required {
                return Err(format!("Please answer \"{}\".", q.label));
            }
        } else if a.chars().count() > MAX_ANSWER {
            return Err(format!(
                "The answer to \"{}\" can be at most {MAX_ANSWER} characters.",
                q.label
            ));
        } else if q.kind == QuestionKind::Choice && !q.options.iter().any(|o| o == a) {
            return Err(format!("Choose one of the options for \"{}\".", q.label));
        }
        out.push(Answer {
            label: q.label.clone(),
            answer: a.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> Vec<Question> {
        vec![
            new_question(
                "What would you like to discuss?",
                QuestionKind::Text,
                "",
                true,
            )
            .unwrap(),
            new_question("First visit?", QuestionKind::Choice, "Yes, No", false).unwrap(),
        ]
    }

    #[test]
    fn required_answers_must_be_given() {
        let err = check_answers(&form(), &["  ".into(), "Yes".into()]).unwrap_err();
        assert_eq!(err, "Please answer \"What would you like to discuss?\".");
        assert!(check_answers(&form(), &[]).is_err());
    }

    #[test]
    fn optional_answers_may_be_blank_and_choices_must_match() {
        let ok = check_answers(&form(), &["A cough".into()]).unwrap();
        assert_eq!(ok[1].answer, "");
        assert!(check_answers(&form(), &["A cough".into(), "Maybe".into()]).is_err());
        let ok = check_answers(&form(), &["A cough".into(), "No".into()]).unwrap();
        assert_eq!(
            ok[1],
            Answer {
                label: "First visit?".into(),
                answer: "No".into()
            }
        );
    }

    #[test]
    fn extra_answers_mean_a_stale_form() {
        assert!(check_answers(&form(), &["a".into(), "Yes".into(), "x".into()]).is_err());
    }

    #[test]
    fn questions_are_checked() {
        assert!(new_question(" ", QuestionKind::Text, "", false).is_err());
        assert!(new_question("Pick", QuestionKind::Choice, "One", false).is_err());
        assert!(new_question("Pick", QuestionKind::Choice, "A, A", false).is_err());
        let q = new_question("Pick", QuestionKind::Choice, "A\nB, C", true).unwrap();
        assert_eq!(q.options, ["A", "B", "C"]);
        // Options are dropped for a text question.
        assert!(new_question("Why?", QuestionKind::Text, "x, y", false)
            .unwrap()
            .options
            .is_empty());
    }

    #[test]
    fn the_stored_form_format_reads_back() {
        let stored = r#"[{"label":"Why?","kind":"text","required":true},{"label":"First?","kind":"choice","options":["Yes","No"]}]"#;
        let qs: Vec<Question> = serde_json::from_str(stored).unwrap();
        assert_eq!(qs[1].options, ["Yes", "No"]);
        assert!(!qs[1].required);
    }
}
