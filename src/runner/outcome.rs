//! Outcomes: what a step, a scenario or a run came to. Fail blames the token, Error the rig.

use std::fmt;

/// The outcome of a step, scenario or run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Everything expected was observed.
    Pass,
    /// The token misbehaved (a deadline it missed included).
    Fail,
    /// The rig broke (camera gone, relay fault, oracle command failed); says nothing of the token.
    Error,
    /// Not run (wrong token kind for the rig, or an earlier step stopped the scenario).
    Skip,
    /// The operator stopped the run.
    Aborted,
}

impl Outcome {
    /// Upper-case label for consoles and reports.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Error => "ERROR",
            Outcome::Skip => "SKIP",
            Outcome::Aborted => "ABORTED",
        }
    }

    /// Whether this outcome stops the remaining steps of a scenario.
    pub fn is_stopping(self) -> bool {
        matches!(self, Outcome::Fail | Outcome::Error | Outcome::Aborted)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The process exit code for a set of scenario outcomes: 130 aborted, 1 a token failed,
/// 2 the rig erred and nothing failed, 0 otherwise.
pub fn exit_code(outcomes: impl IntoIterator<Item = Outcome>) -> i32 {
    let (mut failed, mut erred, mut aborted) = (false, false, false);
    for outcome in outcomes {
        match outcome {
            Outcome::Fail => failed = true,
            Outcome::Error => erred = true,
            Outcome::Aborted => aborted = true,
            Outcome::Pass | Outcome::Skip => {}
        }
    }
    if aborted {
        130
    } else if failed {
        1
    } else if erred {
        2
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_prefers_abort_then_fail_then_error() {
        assert_eq!(exit_code([Outcome::Pass, Outcome::Skip]), 0);
        assert_eq!(exit_code([Outcome::Error, Outcome::Pass]), 2);
        assert_eq!(exit_code([Outcome::Error, Outcome::Fail]), 1);
        assert_eq!(exit_code([Outcome::Fail, Outcome::Aborted]), 130);
    }
}
