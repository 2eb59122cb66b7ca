//! An oracle that asks an external command, for tokens judged by a vendor tool or a back end.
//!
//! Inputs: an argument vector whose arguments may hold `{code}`, `{utc}` (RFC 3339, whole
//! seconds) and `{unix}` (seconds since the epoch), the code the rig read and its time.
//! Outputs: exit status 0 is an accepting [`OracleVerdict`], 1 a rejecting one, and the first
//! line of standard output is the explanation. Anything else is an [`OracleError`] naming the
//! command: the rig, not the token, is at fault.
//! Invariants: the command runs without a shell (no quoting surprises), placeholders are replaced
//! in one pass (a code cannot inject another placeholder), and it is killed when it outlives its
//! timeout. The timeout runs on tokio's clock: under a paused test clock it fires as soon as the
//! runtime idles, so tests of this oracle use a real clock.

use std::process::Stdio;
use std::time::{Duration, SystemTime};

use super::{OracleError, OracleVerdict, unix_seconds};

/// The first second that RFC 3339 cannot write (year 10000).
const RFC3339_END_UNIX: u64 = 253_402_300_800;

/// Judges codes by running a command.
#[derive(Debug, Clone)]
pub struct ExternalOracle {
    /// Program and arguments; `argv[0]` is never empty.
    argv: Vec<String>,
    /// How long the command may run.
    timeout: Duration,
}

impl ExternalOracle {
    /// The default time a command may run.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// An oracle running `argv` (program first) with the default timeout of 10 s.
    pub fn new(argv: Vec<String>) -> Result<Self, OracleError> {
        match argv.first() {
            Some(program) if !program.is_empty() => Ok(ExternalOracle {
                argv,
                timeout: Self::DEFAULT_TIMEOUT,
            }),
            _ => Err(OracleError::EmptyCommand),
        }
    }

    /// Sets how long the command may run before it is killed.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The program and its arguments, placeholders unreplaced.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// How long the command may run.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The program, as named in errors.
    fn command(&self) -> String {
        self.argv.first().cloned().unwrap_or_default()
    }

    /// Runs the command for `code` shown at `shown_at` and turns its exit status into a verdict.
    pub async fn check(
        &self,
        code: &str,
        shown_at: SystemTime,
    ) -> Result<OracleVerdict, OracleError> {
        let command = self.command();
        let unix = unix_seconds(shown_at)?;
        if unix >= RFC3339_END_UNIX {
            return Err(OracleError::TimeOutOfRange {
                reason: "after the year 9999",
            });
        }
        let utc = humantime::format_rfc3339_seconds(shown_at).to_string();
        let unix = unix.to_string();
        let values = [("{code}", code), ("{utc}", utc.as_str()), ("{unix}", &unix)];
        let args = self
            .argv
            .iter()
            .skip(1)
            .map(|argument| substitute(argument, &values));

        let child = tokio::process::Command::new(&command)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| OracleError::ExternalSpawn {
                command: command.clone(),
                source,
            })?;
        // On timeout the `wait_with_output` future is dropped with the child, and `kill_on_drop`
        // kills it.
        let output = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| OracleError::ExternalTimeout {
                command: command.clone(),
                timeout: self.timeout,
            })?
            .map_err(|source| OracleError::ExternalWait {
                command: command.clone(),
                source,
            })?;

        let accepted = match output.status.code() {
            Some(0) => true,
            Some(1) => false,
            _ => {
                let stderr = String::from_utf8_lossy(&output.stderr);
                return Err(OracleError::ExternalStatus {
                    command,
                    status: output.status.to_string(),
                    stderr: stderr.trim().lines().last().unwrap_or_default().to_owned(),
                });
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let first_line = stdout.lines().next().unwrap_or_default().trim();
        let explanation = if first_line.is_empty() {
            format!(
                "{command} {} code {code}",
                if accepted { "accepted" } else { "rejected" }
            )
        } else {
            first_line.to_owned()
        };
        Ok(OracleVerdict {
            accepted,
            offset: None,
            explanation,
        })
    }
}

/// Replaces each placeholder of `values` in `argument` in a single left-to-right pass, so text
/// substituted in is never scanned again.
fn substitute(argument: &str, values: &[(&str, &str)]) -> String {
    let mut result = String::with_capacity(argument.len());
    let mut rest = argument;
    'scan: while !rest.is_empty() {
        for (placeholder, value) in values {
            if let Some(after) = rest.strip_prefix(placeholder) {
                result.push_str(value);
                rest = after;
                continue 'scan;
            }
        }
        let mut chars = rest.chars();
        if let Some(next) = chars.next() {
            result.push(next);
        }
        rest = chars.as_str();
    }
    result
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sh(script: &str, args: &[&str]) -> ExternalOracle {
        let mut argv = vec!["sh".to_owned(), "-c".to_owned(), script.to_owned()];
        argv.extend(args.iter().map(|arg| (*arg).to_owned()));
        ExternalOracle::new(argv).unwrap()
    }

    fn at(unix: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
    }

    #[test]
    fn substitution_is_single_pass() {
        let values = [("{code}", "{unix}"), ("{unix}", "42")];
        assert_eq!(
            substitute("c={code} u={unix} {other}", &values),
            "c={unix} u=42 {other}"
        );
        assert_eq!(substitute("ø{code}ø", &values), "ø{unix}ø");
    }

    #[tokio::test]
    async fn exit_zero_accepts_and_one_rejects() {
        let oracle = sh("test \"$0\" = 123456", &["{code}"]);
        let verdict = oracle.check("123456", at(0)).await.unwrap();
        assert!(verdict.accepted);
        assert_eq!(verdict.offset, None);
        assert_eq!(verdict.explanation, "sh accepted code 123456");
        let verdict = oracle.check("654321", at(0)).await.unwrap();
        assert!(!verdict.accepted);
        assert_eq!(verdict.explanation, "sh rejected code 654321");
    }

    #[tokio::test]
    async fn placeholders_and_first_stdout_line() {
        let oracle = sh(
            "echo \"$0 $1 $2\"; echo second line",
            &["{code}", "{utc}", "t={unix}"],
        );
        let verdict = oracle.check("007007", at(1_234_567_890)).await.unwrap();
        assert!(verdict.accepted);
        assert_eq!(
            verdict.explanation,
            "007007 2009-02-13T23:31:30Z t=1234567890"
        );
    }

    #[tokio::test]
    async fn other_exit_codes_are_errors_naming_the_command() {
        let oracle = sh("echo broken >&2; exit 3", &[]);
        let error = oracle.check("123456", at(0)).await.unwrap_err();
        assert!(
            matches!(error, OracleError::ExternalStatus { .. }),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.starts_with("external oracle \"sh\""), "{message}");
        assert!(message.contains("broken"), "{message}");
    }

    #[tokio::test]
    async fn missing_program_is_an_error() {
        let oracle = ExternalOracle::new(vec![
            "/nonexistent/otprig-oracle".to_owned(),
            "{code}".to_owned(),
        ])
        .unwrap();
        let error = oracle.check("123456", at(0)).await.unwrap_err();
        assert!(
            matches!(error, OracleError::ExternalSpawn { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("/nonexistent/otprig-oracle"));
    }

    #[tokio::test]
    async fn slow_command_times_out() {
        let oracle = sh("exec sleep 10", &[]).with_timeout(Duration::from_millis(200));
        let error = oracle.check("123456", at(0)).await.unwrap_err();
        assert!(
            matches!(error, OracleError::ExternalTimeout { .. }),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "external oracle \"sh\": no answer within 200ms"
        );
    }

    #[test]
    fn empty_command_is_refused() {
        assert!(matches!(
            ExternalOracle::new(Vec::new()),
            Err(OracleError::EmptyCommand)
        ));
        assert!(ExternalOracle::new(vec![String::new()]).is_err());
    }
}
