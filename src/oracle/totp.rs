//! RFC 6238 TOTP: the code function and an oracle that also measures a token's clock drift.
//!
//! Inputs: a [`Secret`], the time step, digits and hash; for the oracle, the code the rig read and
//! the wall-clock time it was shown at.
//! Outputs: zero-padded codes ([`totp`]) and [`OracleVerdict`]s whose offset is the token's drift
//! in whole time steps ([`TotpOracle::check`]).
//! Invariants: T0 is the Unix epoch. The drift search always tries the smallest |offset| first,
//! so a measured offset is the nearest step that explains the code. Acceptance depends only on
//! `window`; `search` only widens what can be measured.

use std::time::{Duration, SystemTime};

use super::hotp::{Algorithm, hotp};
use super::{OracleError, OracleVerdict, Secret, unix_seconds};

/// The RFC 6238 code at `unix_seconds` for steps of `step_seconds` (T0 = 0). A step of 0 s is
/// taken as 1 s so that the function cannot divide by zero.
pub fn totp(
    secret: &Secret,
    unix_seconds: u64,
    step_seconds: u64,
    digits: u32,
    algorithm: Algorithm,
) -> String {
    hotp(
        secret,
        unix_seconds / step_seconds.max(1),
        digits,
        algorithm,
    )
}

/// Judges codes of a time-based token and measures how many steps its clock is off.
#[derive(Debug)]
pub struct TotpOracle {
    /// The shared key.
    secret: Secret,
    /// The time step; whole seconds count, anything below 1 s is taken as 1 s.
    step: Duration,
    /// Code length.
    digits: u32,
    /// HMAC hash.
    algorithm: Algorithm,
    /// Accepted drift, in steps either way.
    window: u32,
    /// How far to look, in steps either way, to measure a drift that is not accepted.
    search: u32,
}

impl TotpOracle {
    /// The default accepted drift, in steps either way.
    pub const DEFAULT_WINDOW: u32 = 1;
    /// The default measuring range, in steps either way.
    pub const DEFAULT_SEARCH: u32 = 20;

    /// An oracle with 30 s steps, 6 digits, SHA-1, a window of ±1 step and a search of ±20 steps.
    pub fn new(secret: Secret) -> Self {
        TotpOracle {
            secret,
            step: Duration::from_secs(30),
            digits: 6,
            algorithm: Algorithm::Sha1,
            window: Self::DEFAULT_WINDOW,
            search: Self::DEFAULT_SEARCH,
        }
    }

    /// Sets the time step.
    pub fn with_step(mut self, step: Duration) -> Self {
        self.step = step;
        self
    }

    /// Sets the code length.
    pub fn with_digits(mut self, digits: u32) -> Self {
        self.digits = digits;
        self
    }

    /// Sets the HMAC hash.
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Sets the accepted drift, in steps either way.
    pub fn with_window(mut self, window: u32) -> Self {
        self.window = window;
        self
    }

    /// Sets how far to look, in steps either way, when measuring drift.
    pub fn with_search(mut self, search: u32) -> Self {
        self.search = search;
        self
    }

    /// The time step.
    pub fn step(&self) -> Duration {
        self.step
    }

    /// The code length.
    pub fn digits(&self) -> u32 {
        self.digits
    }

    /// The HMAC hash.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The accepted drift, in steps either way.
    pub fn window(&self) -> u32 {
        self.window
    }

    /// The measuring range, in steps either way.
    pub fn search(&self) -> u32 {
        self.search
    }

    /// Judges `code` shown at `shown_at`: finds the step offset k (smallest |k| first, within
    /// ±max(search, window)) whose code matches, and accepts it when |k| <= window. The verdict
    /// carries `Some(k)` whenever a step matched, accepted or not.
    pub fn check(&self, code: &str, shown_at: SystemTime) -> Result<OracleVerdict, OracleError> {
        let step_seconds = self.step.as_secs().max(1);
        let current = unix_seconds(shown_at)? / step_seconds;
        let reach = i64::from(self.search.max(self.window));
        let window = i64::from(self.window);
        let found = (0..=reach)
            .flat_map(|distance| {
                if distance == 0 {
                    vec![0]
                } else {
                    vec![-distance, distance]
                }
            })
            .find(|&offset| {
                current.checked_add_signed(offset).is_some_and(|index| {
                    hotp(&self.secret, index, self.digits, self.algorithm) == code
                })
            });
        let Some(offset) = found else {
            return Ok(OracleVerdict {
                accepted: false,
                offset: None,
                explanation: format!("code {code} matches no time step within ±{reach}"),
            });
        };
        let accepted = offset.abs() <= window;
        let mut explanation = format!("matches time step {offset:+}");
        if offset != 0 {
            let seconds = offset.unsigned_abs().saturating_mul(step_seconds);
            let direction = if offset > 0 { "ahead" } else { "behind" };
            explanation.push_str(&format!(" ({seconds} s {direction})"));
        }
        explanation.push_str(&format!(
            ", {} the accepted ±{window}",
            if accepted { "within" } else { "outside" }
        ));
        Ok(OracleVerdict {
            accepted,
            offset: Some(offset),
            explanation,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    /// RFC 6238 Appendix B: (time, SHA-1, SHA-256, SHA-512), 8 digits, 30 s steps, T0 = 0.
    const RFC6238_VECTORS: [(u64, &str, &str, &str); 6] = [
        (59, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1111111111, "14050471", "67062674", "99943326"),
        (1234567890, "89005924", "91819424", "93441116"),
        (2000000000, "69279037", "90698825", "38618901"),
        (20000000000, "65353130", "77737706", "47863826"),
    ];

    fn at(unix: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
    }

    #[test]
    fn rfc6238_appendix_b_vectors() {
        let seeds = [
            (Secret::from_bytes(SEED_SHA1.to_vec()), Algorithm::Sha1),
            (Secret::from_bytes(SEED_SHA256.to_vec()), Algorithm::Sha256),
            (Secret::from_bytes(SEED_SHA512.to_vec()), Algorithm::Sha512),
        ];
        for (time, sha1, sha256, sha512) in RFC6238_VECTORS {
            for ((secret, algorithm), expected) in seeds.iter().zip([sha1, sha256, sha512]) {
                assert_eq!(
                    totp(secret, time, 30, 8, *algorithm),
                    expected,
                    "time {time} {algorithm}"
                );
            }
        }
    }

    #[test]
    fn oracle_accepts_rfc6238_vectors_at_their_time() {
        for (time, sha1, sha256, sha512) in RFC6238_VECTORS {
            for (seed, algorithm, code) in [
                (SEED_SHA1, Algorithm::Sha1, sha1),
                (SEED_SHA256, Algorithm::Sha256, sha256),
                (SEED_SHA512, Algorithm::Sha512, sha512),
            ] {
                let oracle = TotpOracle::new(Secret::from_bytes(seed.to_vec()))
                    .with_digits(8)
                    .with_algorithm(algorithm);
                let verdict = oracle.check(code, at(time)).unwrap();
                assert!(verdict.accepted, "time {time} {algorithm}: {verdict:?}");
                assert_eq!(verdict.offset, Some(0));
                assert_eq!(
                    verdict.explanation,
                    "matches time step +0, within the accepted ±1"
                );
            }
        }
    }

    #[test]
    fn drift_of_three_steps_is_measured_and_rejected() {
        let secret = Secret::from_bytes(SEED_SHA1.to_vec());
        let now = 1_700_000_000;
        let code = totp(&secret, now + 3 * 30, 30, 6, Algorithm::Sha1);
        let verdict = TotpOracle::new(secret).check(&code, at(now)).unwrap();
        assert!(!verdict.accepted, "{verdict:?}");
        assert_eq!(verdict.offset, Some(3));
        assert_eq!(
            verdict.explanation,
            "matches time step +3 (90 s ahead), outside the accepted ±1"
        );
    }

    #[test]
    fn drift_of_minus_one_step_is_accepted() {
        let secret = Secret::from_bytes(SEED_SHA1.to_vec());
        let now = 1_700_000_000;
        let code = totp(&secret, now - 30, 30, 6, Algorithm::Sha1);
        let verdict = TotpOracle::new(secret).check(&code, at(now)).unwrap();
        assert!(verdict.accepted, "{verdict:?}");
        assert_eq!(verdict.offset, Some(-1));
        assert_eq!(
            verdict.explanation,
            "matches time step -1 (30 s behind), within the accepted ±1"
        );
    }

    #[test]
    fn unknown_code_has_no_offset() {
        let secret = Secret::from_bytes(SEED_SHA1.to_vec());
        let now = 1_700_000_000;
        let far = totp(&secret, now + 60 * 30, 30, 6, Algorithm::Sha1);
        let oracle = TotpOracle::new(secret).with_search(5);
        // The far code could collide with a near step by chance; it does not for this time.
        let verdict = oracle.check(&far, at(now)).unwrap();
        assert!(!verdict.accepted);
        assert_eq!(verdict.offset, None);
        assert_eq!(
            verdict.explanation,
            format!("code {far} matches no time step within ±5")
        );
    }

    #[test]
    fn steps_other_than_thirty_seconds() {
        let secret = Secret::from_bytes(SEED_SHA1.to_vec());
        assert_eq!(
            totp(&secret, 119, 60, 6, Algorithm::Sha1),
            hotp(&secret, 1, 6, Algorithm::Sha1)
        );
        let oracle = TotpOracle::new(secret).with_step(Duration::from_secs(60));
        let verdict = oracle.check("287082", at(60)).unwrap();
        assert_eq!(verdict.offset, Some(0));
        let verdict = oracle.check("359152", at(60)).unwrap();
        assert_eq!(verdict.offset, Some(1));
        assert!(verdict.accepted);
    }

    #[test]
    fn time_before_the_epoch_is_an_error() {
        let oracle = TotpOracle::new(Secret::from_bytes(SEED_SHA1.to_vec()));
        let before = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
        assert!(matches!(
            oracle.check("123456", before),
            Err(OracleError::TimeOutOfRange { .. })
        ));
    }
}
