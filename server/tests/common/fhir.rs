//! The independent FHIR R4 validator (server/scripts/fhir_validate.py,
//! run by the `fhir.resources` venv that `server/scripts/setup.sh test`
//! installs), for any suite that checks what we claim is FHIR.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The venv's python: `SLOTWISE_FHIR_PYTHON`, else where setup.sh puts it.
pub fn validator_python() -> PathBuf {
    if let Ok(p) = std::env::var("SLOTWISE_FHIR_PYTHON") {
        return PathBuf::from(p);
    }
    let tools = std::env::var("SLOTWISE_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/slotwise-tools")
        });
    tools.join("fhir-venv/bin/python")
}

/// Runs the independent validator on `resources` (one JSON per line):
/// (exit code, what it printed).
pub fn validate(resources: &[serde_json::Value]) -> (i32, String) {
    let python = validator_python();
    assert!(
        python.exists(),
        "The FHIR validator is not installed ({} is missing): run `server/scripts/setup.sh test` \
         (the test command does), or set SLOTWISE_FHIR_PYTHON to a python with fhir.resources 6.4.0",
        python.display()
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/fhir_validate.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the FHIR validator");
    let input: String = resources.iter().map(|r| format!("{r}\n")).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(
        out.status.code(),
        Some(2),
        "the validator could not run: {text}\nRun `server/scripts/setup.sh test`."
    );
    (out.status.code().unwrap_or(-1), text)
}
