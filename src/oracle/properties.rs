//! An oracle for tokens whose secret is unknown: it checks what any correct code must satisfy.
//!
//! Inputs: the code the rig read and the time it was shown at, plus the token's code length,
//! kind (time- or event-based) and time step.
//! Outputs: [`OracleVerdict`]s without offset (drift cannot be measured without the secret).
//! Invariants: every code must be exactly `digits` ASCII digits. A time-based token must show one
//! code per time step (stable within the step) and a different one in the next step; an
//! event-based token must never repeat its previous code. Step indices come from the rig's clock,
//! so a code read right at a step boundary of a token whose clock is off can look unstable or
//! stale; where the secret is known, the TOTP oracle measures that drift instead.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use super::{OracleError, OracleVerdict, unix_seconds};

/// How a token advances its codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpKind {
    /// A new code every time step (TOTP-like).
    Time,
    /// A new code every button press (HOTP-like).
    Event,
    /// Not known: only the format is checked.
    Unknown,
}

impl fmt::Display for OtpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OtpKind::Time => "time",
            OtpKind::Event => "event",
            OtpKind::Unknown => "unknown",
        })
    }
}

impl FromStr for OtpKind {
    type Err = OracleError;

    /// Parses `time`, `event` or `unknown` (case-insensitive).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.to_ascii_lowercase().as_str() {
            "time" => Ok(OtpKind::Time),
            "event" => Ok(OtpKind::Event),
            "unknown" => Ok(OtpKind::Unknown),
            _ => Err(OracleError::UnknownOtpKind {
                name: name.to_owned(),
            }),
        }
    }
}

/// How many (step, code) pairs a time-based oracle remembers; only the current and the previous
/// step matter, the rest absorbs codes judged slightly out of order.
const HISTORY_LEN: usize = 16;

/// Judges codes by their properties alone: format, stability and renewal.
#[derive(Debug)]
pub struct PropertiesOracle {
    /// Code length.
    digits: u32,
    /// How the token advances its codes.
    otp_kind: OtpKind,
    /// The time step of a time-based token.
    step: Duration,
    /// First code seen in each recent step, oldest first (time-based tokens).
    history: VecDeque<(u64, String)>,
    /// The last code seen (event-based tokens).
    previous: Option<String>,
}

impl PropertiesOracle {
    /// An oracle for codes of `digits` digits from a token of kind `otp_kind`; `step` is used only
    /// for [`OtpKind::Time`] (below 1 ms it is taken as 1 ms).
    pub fn new(digits: u32, otp_kind: OtpKind, step: Duration) -> Self {
        PropertiesOracle {
            digits,
            otp_kind,
            step,
            history: VecDeque::with_capacity(HISTORY_LEN),
            previous: None,
        }
    }

    /// The code length.
    pub fn digits(&self) -> u32 {
        self.digits
    }

    /// How the token advances its codes.
    pub fn otp_kind(&self) -> OtpKind {
        self.otp_kind
    }

    /// The time step.
    pub fn step(&self) -> Duration {
        self.step
    }

    /// Judges `code` shown at `shown_at` and remembers it for the stability and renewal checks.
    pub fn check(
        &mut self,
        code: &str,
        shown_at: SystemTime,
    ) -> Result<OracleVerdict, OracleError> {
        let digits = self.digits as usize;
        if code.len() != digits || !code.bytes().all(|byte| byte.is_ascii_digit()) {
            return Ok(reject(format!(
                "code \"{code}\" is not exactly {digits} digits"
            )));
        }
        match self.otp_kind {
            OtpKind::Unknown => Ok(accept(format!("code {code} has {digits} digits"))),
            OtpKind::Event => {
                let repeated = self.previous.as_deref() == Some(code);
                self.previous = Some(code.to_owned());
                if repeated {
                    Ok(reject(format!(
                        "code {code} repeats the previous code (not renewed)"
                    )))
                } else {
                    Ok(accept(format!(
                        "code {code} has {digits} digits and differs from the previous code"
                    )))
                }
            }
            OtpKind::Time => self.check_time(code, shown_at),
        }
    }

    /// The stability and renewal checks of a time-based token.
    fn check_time(
        &mut self,
        code: &str,
        shown_at: SystemTime,
    ) -> Result<OracleVerdict, OracleError> {
        let step_ms = u64::try_from(self.step.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let shown_ms = unix_seconds(shown_at)?
            .saturating_mul(1000)
            .saturating_add(u64::from(shown_at_subsec_millis(shown_at)));
        let index = shown_ms / step_ms;
        let seen = |step: u64| {
            self.history
                .iter()
                .find(|(seen_step, _)| *seen_step == step)
                .map(|(_, seen_code)| seen_code.clone())
        };
        let same_step = seen(index);
        let previous_step = index.checked_sub(1).and_then(seen);
        if same_step.is_none() {
            if self.history.len() == HISTORY_LEN {
                self.history.pop_front();
            }
            self.history.push_back((index, code.to_owned()));
        }
        if let Some(earlier) = same_step.filter(|earlier| earlier != code) {
            return Ok(reject(format!(
                "code {code} is not stable within its time step: step {index} already showed {earlier}"
            )));
        }
        if previous_step.as_deref() == Some(code) {
            return Ok(reject(format!(
                "code {code} is not renewed in the next time step: step {} showed the same code",
                index - 1
            )));
        }
        Ok(accept(format!(
            "code {code} has {} digits and is consistent with time step {index}",
            self.digits
        )))
    }
}

/// Milliseconds past the whole second of `time` (0 before the epoch, which errs elsewhere).
fn shown_at_subsec_millis(time: SystemTime) -> u32 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|since| since.subsec_millis())
        .unwrap_or(0)
}

/// An accepting verdict without offset.
fn accept(explanation: String) -> OracleVerdict {
    OracleVerdict {
        accepted: true,
        offset: None,
        explanation,
    }
}

/// A rejecting verdict without offset.
fn reject(explanation: String) -> OracleVerdict {
    OracleVerdict {
        accepted: false,
        offset: None,
        explanation,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(unix: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
    }

    const STEP: Duration = Duration::from_secs(30);

    #[test]
    fn format_is_checked_for_every_kind() {
        for kind in [OtpKind::Time, OtpKind::Event, OtpKind::Unknown] {
            let mut oracle = PropertiesOracle::new(6, kind, STEP);
            for bad in ["12345", "1234567", "12a456", "12 456", "١٢٣٤٥٦", ""] {
                let verdict = oracle.check(bad, at(0)).unwrap();
                assert!(!verdict.accepted, "{kind} {bad:?}");
                assert_eq!(verdict.offset, None);
            }
            let verdict = oracle.check("012345", at(0)).unwrap();
            assert!(verdict.accepted, "{kind}: {verdict:?}");
            assert_eq!(verdict.offset, None);
        }
    }

    #[test]
    fn time_codes_must_be_stable_within_a_step() {
        let mut oracle = PropertiesOracle::new(6, OtpKind::Time, STEP);
        assert!(oracle.check("111111", at(60)).unwrap().accepted);
        assert!(oracle.check("111111", at(89)).unwrap().accepted);
        let verdict = oracle.check("222222", at(75)).unwrap();
        assert!(!verdict.accepted);
        assert_eq!(
            verdict.explanation,
            "code 222222 is not stable within its time step: step 2 already showed 111111"
        );
    }

    #[test]
    fn time_codes_must_be_renewed_in_the_next_step() {
        let mut oracle = PropertiesOracle::new(6, OtpKind::Time, STEP);
        assert!(oracle.check("111111", at(60)).unwrap().accepted);
        let verdict = oracle.check("111111", at(90)).unwrap();
        assert!(!verdict.accepted);
        assert_eq!(
            verdict.explanation,
            "code 111111 is not renewed in the next time step: step 2 showed the same code"
        );
        // A renewed code in the step after that is fine, and so is one after a gap.
        assert!(oracle.check("333333", at(120)).unwrap().accepted);
        assert!(oracle.check("333333", at(300)).unwrap().accepted);
    }

    #[test]
    fn event_codes_must_not_repeat() {
        let mut oracle = PropertiesOracle::new(6, OtpKind::Event, STEP);
        assert!(oracle.check("111111", at(0)).unwrap().accepted);
        assert!(oracle.check("222222", at(0)).unwrap().accepted);
        let verdict = oracle.check("222222", at(500)).unwrap();
        assert!(!verdict.accepted);
        assert!(verdict.explanation.contains("not renewed"), "{verdict:?}");
        assert!(oracle.check("111111", at(500)).unwrap().accepted);
    }

    #[test]
    fn unknown_kind_checks_only_the_format() {
        let mut oracle = PropertiesOracle::new(8, OtpKind::Unknown, STEP);
        assert!(oracle.check("12345678", at(0)).unwrap().accepted);
        assert!(oracle.check("12345678", at(0)).unwrap().accepted);
        assert!(oracle.check("87654321", at(0)).unwrap().accepted);
    }

    #[test]
    fn kind_parses_and_displays() {
        assert_eq!("Time".parse::<OtpKind>().unwrap(), OtpKind::Time);
        assert_eq!("event".parse::<OtpKind>().unwrap().to_string(), "event");
        assert!("counter".parse::<OtpKind>().is_err());
    }
}
