//! OTP oracles: judge whether a code the rig read from a token is a code the token should show.
//!
//! Inputs: the code text (as perceived, e.g. from the LCD) and the wall-clock time it was shown
//! at; each oracle is built from validated configuration (secret, digits, hash, step, ...).
//! Outputs: an [`OracleVerdict`] (accepted or not, the measured offset where there is one, and a
//! one-line explanation), or an [`OracleError`] when the oracle itself could not judge (counter
//! file, external command, clock). A rejected code is a verdict, never an error.
//! Invariants: no verdict, error or `Debug` output contains a secret; they may contain the code
//! seen. Four oracles exist:
//! - [`TotpOracle`] (RFC 6238): knows the secret, accepts within a drift window and measures drift.
//! - [`HotpOracle`] (RFC 4226): knows the secret, keeps a persisted counter with look-ahead.
//! - [`PropertiesOracle`]: secret unknown; checks format, stability per step and renewal.
//! - [`ExternalOracle`]: asks a command.

mod external;
mod hotp;
mod properties;
mod secret;
mod totp;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

pub use external::ExternalOracle;
pub use hotp::{Algorithm, HotpOracle, hotp};
pub use properties::{OtpKind, PropertiesOracle};
pub use secret::{Encoding, Secret};
pub use totp::{TotpOracle, totp};

/// One of the oracles, as chosen by a token profile.
#[derive(Debug)]
pub enum Oracle {
    /// RFC 6238 time-based codes with a known secret.
    Totp(TotpOracle),
    /// RFC 4226 counter-based codes with a known secret.
    Hotp(HotpOracle),
    /// Codes of a token whose secret is unknown, judged by their properties.
    Properties(PropertiesOracle),
    /// Codes judged by an external command.
    External(ExternalOracle),
}

impl Oracle {
    /// Judges `code`, shown by the token at `shown_at` (ignored by the HOTP oracle).
    pub async fn check(
        &mut self,
        code: &str,
        shown_at: SystemTime,
    ) -> Result<OracleVerdict, OracleError> {
        match self {
            Oracle::Totp(oracle) => oracle.check(code, shown_at),
            Oracle::Hotp(oracle) => oracle.check(code),
            Oracle::Properties(oracle) => oracle.check(code, shown_at),
            Oracle::External(oracle) => oracle.check(code, shown_at).await,
        }
    }

    /// The oracle's name as used in YAML, logs and reports: `totp`, `hotp`, `properties` or
    /// `external`.
    pub fn name(&self) -> &'static str {
        match self {
            Oracle::Totp(_) => "totp",
            Oracle::Hotp(_) => "hotp",
            Oracle::Properties(_) => "properties",
            Oracle::External(_) => "external",
        }
    }
}

/// An oracle's judgement of one code.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OracleVerdict {
    /// Whether the code is one the token should show.
    pub accepted: bool,
    /// TOTP: the matching time step minus the expected one; HOTP: the matching counter minus the
    /// expected one. `None` when nothing matched or the oracle cannot tell.
    pub offset: Option<i64>,
    /// One line saying why, lowercase; may quote the code, never the secret.
    pub explanation: String,
}

/// An oracle could not judge a code: the rig, its files or its helper command failed.
#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    /// A secret file could not be read.
    #[error("secret file {}: {source}", path.display())]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An environment variable meant to hold a secret is unusable.
    #[error("secret variable {name} {reason}")]
    SecretVar {
        /// The variable.
        name: String,
        /// Why, e.g. "is not set".
        reason: &'static str,
    },
    /// Secret text did not decode; the text itself is never quoted.
    #[error("secret from {origin} is not valid {encoding} ({reason})")]
    SecretDecode {
        /// Where the text came from, e.g. "file /etc/otprig/token.b32".
        origin: String,
        /// The encoding tried.
        encoding: Encoding,
        /// The kind of decoding failure, e.g. "invalid symbol".
        reason: String,
    },
    /// Secret text decoded to no bytes at all.
    #[error("secret from {origin} is empty")]
    SecretEmpty {
        /// Where the text came from.
        origin: String,
    },
    /// A hash name that is not `sha1`, `sha256` or `sha512`.
    #[error("unknown hash algorithm \"{name}\" (expected sha1, sha256 or sha512)")]
    UnknownAlgorithm {
        /// The name given.
        name: String,
    },
    /// A secret encoding name that is not `base32` or `hex`.
    #[error("unknown secret encoding \"{name}\" (expected base32 or hex)")]
    UnknownEncoding {
        /// The name given.
        name: String,
    },
    /// An OTP kind that is not `time`, `event` or `unknown`.
    #[error("unknown otp kind \"{name}\" (expected time, event or unknown)")]
    UnknownOtpKind {
        /// The name given.
        name: String,
    },
    /// The HOTP counter file exists but could not be read.
    #[error("hotp counter file {}: {source}", path.display())]
    CounterRead {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The HOTP counter file does not hold a decimal counter.
    #[error("hotp counter file {} does not hold a decimal counter", path.display())]
    CounterParse {
        /// The file.
        path: PathBuf,
    },
    /// The new HOTP counter could not be saved; the in-memory counter is left unchanged.
    #[error("hotp counter file {}: cannot save counter {counter}: {source}", path.display())]
    CounterWrite {
        /// The file.
        path: PathBuf,
        /// The counter that was to be saved.
        counter: u64,
        /// Why.
        source: std::io::Error,
    },
    /// The time a code was shown at cannot be used (before 1970, or beyond what can be written).
    #[error("time the code was shown at is {reason}")]
    TimeOutOfRange {
        /// Why, e.g. "before 1970".
        reason: &'static str,
    },
    /// An external oracle without a program.
    #[error("external oracle has an empty command")]
    EmptyCommand,
    /// The external command could not be started.
    #[error("external oracle \"{command}\": cannot start: {source}")]
    ExternalSpawn {
        /// The program (`argv[0]`).
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// Waiting for the external command or reading its output failed.
    #[error("external oracle \"{command}\": cannot collect its result: {source}")]
    ExternalWait {
        /// The program (`argv[0]`).
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// The external command ran longer than its timeout and was killed.
    #[error("external oracle \"{command}\": no answer within {}", humantime::format_duration(*timeout))]
    ExternalTimeout {
        /// The program (`argv[0]`).
        command: String,
        /// The timeout.
        timeout: Duration,
    },
    /// The external command exited with neither 0 (accept) nor 1 (reject).
    #[error("external oracle \"{command}\": {status}{}", if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    ExternalStatus {
        /// The program (`argv[0]`).
        command: String,
        /// The exit status, e.g. "exit status: 2" or "signal: 9 (SIGKILL)".
        status: String,
        /// The last line of its standard error, if any.
        stderr: String,
    },
}

/// Whole seconds from the Unix epoch to `time`.
fn unix_seconds(time: SystemTime) -> Result<u64, OracleError> {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|since| since.as_secs())
        .map_err(|_| OracleError::TimeOutOfRange {
            reason: "before 1970",
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// "12345678901234567890" in base32.
    const SECRET_BASE32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    const SECRET_RAW: &str = "12345678901234567890";

    fn at(unix: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
    }

    fn assert_no_secret(text: &str) {
        for needle in [
            SECRET_BASE32,
            SECRET_RAW,
            "gezdgnbvgy3tqojq",
            "GEZDGNBV",
            "1234567890",
        ] {
            assert!(
                !text.to_lowercase().contains(&needle.to_lowercase()),
                "{text:?} contains {needle:?}"
            );
        }
    }

    fn oracles(dir: &std::path::Path) -> Vec<Oracle> {
        vec![
            Oracle::Totp(TotpOracle::new(Secret::from_base32(SECRET_BASE32).unwrap())),
            Oracle::Hotp(
                HotpOracle::load(
                    Secret::from_base32(SECRET_BASE32).unwrap(),
                    dir.join("counter"),
                    0,
                )
                .unwrap(),
            ),
            Oracle::Properties(PropertiesOracle::new(
                6,
                OtpKind::Time,
                Duration::from_secs(30),
            )),
            Oracle::External(
                ExternalOracle::new(vec![
                    "sh".to_owned(),
                    "-c".to_owned(),
                    "test \"$0\" = 755224".to_owned(),
                    "{code}".to_owned(),
                ])
                .unwrap(),
            ),
        ]
    }

    #[tokio::test]
    async fn every_oracle_judges_through_the_enum() {
        let dir = tempfile::tempdir().unwrap();
        let mut oracles = oracles(dir.path());
        let names: Vec<_> = oracles.iter().map(Oracle::name).collect();
        assert_eq!(names, ["totp", "hotp", "properties", "external"]);
        let expected_code = totp(
            &Secret::from_base32(SECRET_BASE32).unwrap(),
            1_111_111_111,
            30,
            6,
            Algorithm::Sha1,
        );
        for oracle in &mut oracles {
            let code = match oracle {
                Oracle::Totp(_) => expected_code.as_str(),
                _ => "755224",
            };
            let verdict = oracle.check(code, at(1_111_111_111)).await.unwrap();
            assert!(verdict.accepted, "{}: {verdict:?}", oracle.name());
            let json = serde_json::to_string(&verdict).unwrap();
            assert!(json.contains("\"accepted\":true"), "{json}");
        }
    }

    #[tokio::test]
    async fn no_secret_in_debug_verdicts_or_errors() {
        let dir = tempfile::tempdir().unwrap();
        let mut oracles = oracles(dir.path());
        for oracle in &mut oracles {
            assert_no_secret(&format!("{oracle:?}"));
            for code in ["000000", "755224", "12345678901234567890"] {
                match oracle.check(code, at(59)).await {
                    Ok(verdict) if code.len() == 6 => {
                        assert_no_secret(&format!("{verdict:?}"));
                        assert_no_secret(&serde_json::to_string(&verdict).unwrap());
                    }
                    // The code itself may be quoted; a code equal to the secret proves nothing.
                    Ok(_) => {}
                    Err(error) => assert_no_secret(&format!("{error} {error:?}")),
                }
            }
        }

        let secret_file = dir.path().join("secret");
        let mut errors = Vec::new();
        // Text that is almost the secret, made invalid by one symbol.
        let almost = format!("{SECRET_BASE32}1");
        errors.push(Secret::from_base32(&almost).unwrap_err());
        // The raw digits are valid hex; one more digit makes the length odd.
        errors.push(Secret::from_hex(&format!("{SECRET_RAW}1")).unwrap_err());
        std::fs::write(&secret_file, format!("{almost}\n")).unwrap();
        errors.push(Secret::from_file(&secret_file, Encoding::Base32).unwrap_err());
        std::fs::write(&secret_file, format!("{SECRET_RAW}x\n")).unwrap();
        errors.push(Secret::from_file(&secret_file, Encoding::Hex).unwrap_err());
        errors.push(Secret::from_file(dir.path().join("missing"), Encoding::Base32).unwrap_err());
        errors.push(
            Secret::from_env("OTPRIG_TEST_SURELY_UNSET_SECRET", Encoding::Base32).unwrap_err(),
        );
        for error in &errors {
            assert_no_secret(&format!("{error} {error:?}"));
        }
        assert_no_secret(&format!(
            "{:?}",
            Secret::from_base32(SECRET_BASE32).unwrap()
        ));
    }

    #[test]
    fn time_before_the_epoch_is_refused() {
        let error = unix_seconds(SystemTime::UNIX_EPOCH - Duration::from_secs(5)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "time the code was shown at is before 1970"
        );
    }
}
