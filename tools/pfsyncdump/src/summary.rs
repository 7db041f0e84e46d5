//! The closing tally: packets, frames, messages per action, errors per kind.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Value};

#[derive(Debug, Default)]
pub struct Summary {
    /// Link-layer packets read or captured.
    pub packets: u64,
    /// Packets that held a pfsync frame (decoded, with or without errors).
    pub frames: u64,
    /// Frames with at least one error.
    pub frames_with_errors: u64,
    /// Packets without a pfsync frame, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Messages decoded, by action name.
    pub messages: BTreeMap<String, u64>,
    /// Errors, by pfsyncstats counter name.
    pub errors: BTreeMap<String, u64>,
}

impl Summary {
    pub fn skip(&mut self, key: String) {
        *self.skipped.entry(key).or_default() += 1;
    }

    pub fn message(&mut self, action: &str) {
        *self.messages.entry(action.to_string()).or_default() += 1;
    }

    pub fn error(&mut self, kind: &str) {
        *self.errors.entry(kind.to_string()).or_default() += 1;
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    pub fn messages_total(&self) -> u64 {
        self.messages.values().sum()
    }

    pub fn errors_total(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "summary: {} packets, {} pfsync frames, {} skipped, {} messages, {} errors ({} frames with errors)",
            self.packets,
            self.frames,
            self.skipped_total(),
            self.messages_total(),
            self.errors_total(),
            self.frames_with_errors
        );
        let _ = writeln!(s, "  messages: {}", join(&self.messages));
        let _ = writeln!(s, "  errors: {}", join(&self.errors));
        let _ = writeln!(s, "  skipped: {}", join(&self.skipped));
        s
    }

    pub fn to_json(&self) -> Value {
        json!({
            "summary": {
                "packets": self.packets,
                "frames": self.frames,
                "frames_with_errors": self.frames_with_errors,
                "skipped": self.skipped,
                "messages": self.messages,
                "errors": self.errors,
            }
        })
    }
}

fn join(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
