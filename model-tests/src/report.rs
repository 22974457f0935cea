//! The verification report: what each checker explored and concluded, as a
//! table for people and as JSON for tools.

use std::fmt::Write as _;

/// A checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checker {
    /// loom, exhaustive.
    Loom,
    /// shuttle with the PCT scheduler, depth 3.
    ShuttlePct,
    /// shuttle with the random scheduler.
    ShuttleRandom,
}

impl Checker {
    /// The checker's name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Checker::Loom => "loom",
            Checker::ShuttlePct => "shuttle-pct",
            Checker::ShuttleRandom => "shuttle-random",
        }
    }
}

/// A failing execution.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The panic message.
    pub message: String,
    /// How many executions ran up to and including the failing one.
    pub executions_to_fail: usize,
    /// The failing execution's steps, one line each: thread, operation,
    /// observed value.
    pub trace: Vec<String>,
    /// The command that replays it.
    pub replay: String,
}

/// One checker run of one scenario.
#[derive(Clone, Debug)]
pub struct Run {
    /// The invariant's id.
    pub id: &'static str,
    /// The invariant's name.
    pub name: &'static str,
    /// The checker.
    pub checker: Checker,
    /// The fault switched on (negative control), if any.
    pub fault: Option<&'static str>,
    /// Executions explored.
    pub executions: usize,
    /// Wall time.
    pub seconds: f64,
    /// The first failing execution, if any.
    pub failure: Option<Failure>,
}

impl Run {
    /// Whether the run is what it should be: no failure for an invariant,
    /// a failure for a negative control.
    pub fn as_expected(&self) -> bool {
        self.fault.is_some() == self.failure.is_some()
    }

    /// A readable account: the failing execution's interleaving and replay
    /// command, or how many executions found nothing.
    pub fn explain(&self) -> String {
        match &self.failure {
            Some(f) => format!(
                "{} ({}) after {} executions: {}\n  {}\nreplay: {}",
                self.id,
                self.name,
                f.executions_to_fail,
                f.message,
                f.trace.join("\n  "),
                f.replay
            ),
            None => format!(
                "{} ({}): no failing execution in {} executions",
                self.id, self.name, self.executions
            ),
        }
    }

    /// One JSON object, in the report's schema.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        if let Some(fault) = self.fault {
            let (caught, to_catch, trace) = match &self.failure {
                Some(f) => (
                    true,
                    f.executions_to_fail.to_string(),
                    format!(
                        "{}\n{}\nreplay: {}",
                        f.message,
                        f.trace.join("\n"),
                        f.replay
                    ),
                ),
                None => (false, "null".to_owned(), String::new()),
            };
            let _ = write!(
                out,
                r#"{{"id":{},"fault":{},"checker":{},"caught":{},"executions_to_catch":{},"executions":{},"seconds":{:.3},"trace":{}}}"#,
                json_str(self.id),
                json_str(fault),
                json_str(self.checker.name()),
                caught,
                to_catch,
                self.executions,
                self.seconds,
                json_str(&trace)
            );
        } else {
            let verdict = if self.failure.is_some() {
                "violated"
            } else {
                "holds"
            };
            let _ = write!(
                out,
                r#"{{"id":{},"checker":{},"executions":{},"seconds":{:.3},"verdict":{}"#,
                json_str(self.id),
                json_str(self.checker.name()),
                self.executions,
                self.seconds,
                json_str(verdict)
            );
            if let Some(f) = &self.failure {
                let trace = format!(
                    "{}\n{}\nreplay: {}",
                    f.message,
                    f.trace.join("\n"),
                    f.replay
                );
                let _ = write!(out, r#","trace":{}"#, json_str(&trace));
            }
            out.push('}');
        }
        out
    }
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
