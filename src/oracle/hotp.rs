//! RFC 4226 HOTP: the code function and an oracle for counter-based (event) tokens.
//!
//! Inputs: a [`Secret`], a counter, the number of digits and the HMAC hash; for the oracle, the
//! code the rig read and optionally a counter file that survives runs.
//! Outputs: zero-padded decimal codes ([`hotp`]) and [`OracleVerdict`]s ([`HotpOracle::check`]).
//! Invariants: the oracle's counter only moves forward, to one past the last accepted code, and
//! when a counter file is set it is written (temporary file + rename) before the verdict is
//! returned, so a crash never leaves a half-written counter and never lets a code be accepted twice.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use hmac::{Hmac, Mac};

use super::{OracleError, OracleVerdict, Secret};

/// The hash function inside the HMAC (RFC 4226 uses SHA-1; RFC 6238 allows SHA-256 and SHA-512).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// HMAC-SHA-1, the RFC 4226 default.
    #[default]
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        })
    }
}

impl FromStr for Algorithm {
    type Err = OracleError;

    /// Parses `sha1`, `sha256` or `sha512` (case-insensitive).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.to_ascii_lowercase().as_str() {
            "sha1" => Ok(Algorithm::Sha1),
            "sha256" => Ok(Algorithm::Sha256),
            "sha512" => Ok(Algorithm::Sha512),
            _ => Err(OracleError::UnknownAlgorithm {
                name: name.to_owned(),
            }),
        }
    }
}

/// HMAC of `message` under `key` with hash `M`.
fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length (RFC 2104 hashes long keys and pads short ones), so
    // `new_from_slice` cannot fail for `Hmac<_>`.
    #[allow(clippy::expect_used)]
    let mut mac = <M as Mac>::new_from_slice(key).expect("hmac accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The RFC 4226 code for `counter`: HMAC, dynamic truncation, then the low `digits` decimal
/// digits, zero-padded. Codes are at most 10 digits long (31 bits); more digits only add zeros.
pub fn hotp(secret: &Secret, counter: u64, digits: u32, algorithm: Algorithm) -> String {
    let message = counter.to_be_bytes();
    let digest = match algorithm {
        Algorithm::Sha1 => mac::<Hmac<sha1::Sha1>>(secret.as_bytes(), &message),
        Algorithm::Sha256 => mac::<Hmac<sha2::Sha256>>(secret.as_bytes(), &message),
        Algorithm::Sha512 => mac::<Hmac<sha2::Sha512>>(secret.as_bytes(), &message),
    };
    // Digests are 20, 32 or 64 bytes long and `offset` is at most 15, so `offset + 3` is at most
    // 18 and every index below is in bounds.
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = (u64::from(digest[offset] & 0x7f) << 24)
        | (u64::from(digest[offset + 1]) << 16)
        | (u64::from(digest[offset + 2]) << 8)
        | u64::from(digest[offset + 3]);
    let value = match 10u64.checked_pow(digits) {
        Some(modulus) => binary % modulus,
        None => binary,
    };
    format!("{value:0width$}", width = digits as usize)
}

/// Judges codes of a counter-based token: accepts the next code or one a little ahead of it
/// (the token was pressed while the rig was not looking) and resynchronises on a match.
#[derive(Debug)]
pub struct HotpOracle {
    /// The shared key.
    secret: Secret,
    /// The counter of the next code the token is expected to show.
    counter: u64,
    /// How many counters beyond `counter` a code may be and still be accepted.
    look_ahead: u64,
    /// Where the counter is kept between runs, if anywhere.
    counter_file: Option<PathBuf>,
    /// Code length.
    digits: u32,
    /// HMAC hash.
    algorithm: Algorithm,
}

impl HotpOracle {
    /// The default look-ahead window (counters beyond the expected one).
    pub const DEFAULT_LOOK_AHEAD: u64 = 10;

    /// An oracle starting at counter 0 with 6 digits, SHA-1, a look-ahead of 10 and no counter file.
    pub fn new(secret: Secret) -> Self {
        HotpOracle {
            secret,
            counter: 0,
            look_ahead: Self::DEFAULT_LOOK_AHEAD,
            counter_file: None,
            digits: 6,
            algorithm: Algorithm::Sha1,
        }
    }

    /// An oracle whose counter lives in `counter_file`: read from it when the file exists,
    /// `start` otherwise. Every accepted code writes the new counter back.
    pub fn load(
        secret: Secret,
        counter_file: impl Into<PathBuf>,
        start: u64,
    ) -> Result<Self, OracleError> {
        let path = counter_file.into();
        let counter = match std::fs::read_to_string(&path) {
            Ok(text) => text
                .trim()
                .parse::<u64>()
                .map_err(|_| OracleError::CounterParse { path: path.clone() })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => start,
            Err(source) => return Err(OracleError::CounterRead { path, source }),
        };
        Ok(HotpOracle {
            counter,
            counter_file: Some(path),
            ..HotpOracle::new(secret)
        })
    }

    /// Sets the counter of the next expected code (not written to the counter file until a match).
    pub fn with_counter(mut self, counter: u64) -> Self {
        self.counter = counter;
        self
    }

    /// Sets how many counters ahead of the expected one a code is still accepted.
    pub fn with_look_ahead(mut self, look_ahead: u64) -> Self {
        self.look_ahead = look_ahead;
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

    /// The counter of the next code the token is expected to show.
    pub fn counter(&self) -> u64 {
        self.counter
    }

    /// How many counters ahead of the expected one a code is still accepted.
    pub fn look_ahead(&self) -> u64 {
        self.look_ahead
    }

    /// The file the counter is kept in, if any.
    pub fn counter_file(&self) -> Option<&Path> {
        self.counter_file.as_deref()
    }

    /// The code length.
    pub fn digits(&self) -> u32 {
        self.digits
    }

    /// The HMAC hash.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Judges `code`: accepted when it equals the code of a counter in
    /// `counter..=counter + look_ahead`. On a match the counter moves to one past it and is
    /// persisted; the verdict's offset is how far past the expected counter the match was.
    pub fn check(&mut self, code: &str) -> Result<OracleVerdict, OracleError> {
        let last = self.counter.saturating_add(self.look_ahead);
        let found = (self.counter..=last)
            .find(|&candidate| hotp(&self.secret, candidate, self.digits, self.algorithm) == code);
        let Some(matched) = found else {
            return Ok(OracleVerdict {
                accepted: false,
                offset: None,
                explanation: format!(
                    "code {code} matches no counter in {}..={last}",
                    self.counter
                ),
            });
        };
        let offset = i64::try_from(matched - self.counter).unwrap_or(i64::MAX);
        let next = matched.saturating_add(1);
        if let Some(path) = &self.counter_file {
            persist(path, next)?;
        }
        self.counter = next;
        let explanation = if offset == 0 {
            format!("matches counter {matched}, the expected one")
        } else {
            format!(
                "matches counter {matched}, {offset} ahead of the expected one (resynchronised)"
            )
        };
        Ok(OracleVerdict {
            accepted: true,
            offset: Some(offset),
            explanation,
        })
    }
}

/// Writes `counter` to `path` atomically: a temporary file in the same directory, flushed to
/// disk, then renamed over the old file (rename is atomic within one file system).
fn persist(path: &Path, counter: u64) -> Result<(), OracleError> {
    let fail = |source| OracleError::CounterWrite {
        path: path.to_owned(),
        counter,
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "counter".to_owned());
    let temporary = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        writeln!(file, "{counter}")?;
        file.sync_all()
    });
    if let Err(source) = written.and_then(|()| std::fs::rename(&temporary, path)) {
        // Best effort: the temporary file is ours and useless now; the rename error matters more.
        let _ = std::fs::remove_file(&temporary);
        return Err(fail(source));
    }
    // Make the rename itself durable where directories can be synced; failure only weakens
    // crash safety and the counter is already in place, so it is not an error.
    if let Ok(directory) = std::fs::File::open(dir) {
        let _ = directory.sync_all();
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const RFC4226_SECRET: &[u8] = b"12345678901234567890";
    /// RFC 4226 Appendix D, counters 0 to 9.
    const RFC4226_CODES: [&str; 10] = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];

    fn secret() -> Secret {
        Secret::from_bytes(RFC4226_SECRET.to_vec())
    }

    #[test]
    fn rfc4226_appendix_d_vectors() {
        let secret = secret();
        for (counter, expected) in RFC4226_CODES.iter().enumerate() {
            assert_eq!(
                hotp(&secret, counter as u64, 6, Algorithm::Sha1),
                *expected,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn codes_are_zero_padded_to_digits() {
        let secret = secret();
        // Counter 7 gives 162583 with 6 digits; truncation to 8 digits keeps leading zeros.
        let code = hotp(&secret, 7, 8, Algorithm::Sha1);
        assert_eq!(code.len(), 8);
        assert!(code.ends_with("162583"));
        assert_eq!(hotp(&secret, 0, 12, Algorithm::Sha1).len(), 12);
    }

    #[test]
    fn oracle_accepts_in_order_and_rejects_replays() {
        let mut oracle = HotpOracle::new(secret());
        for (counter, code) in RFC4226_CODES.iter().enumerate().take(3) {
            let verdict = oracle.check(code).unwrap();
            assert!(verdict.accepted, "{verdict:?}");
            assert_eq!(verdict.offset, Some(0));
            assert_eq!(oracle.counter(), counter as u64 + 1);
        }
        let replay = oracle.check(RFC4226_CODES[2]).unwrap();
        assert!(!replay.accepted);
        assert_eq!(replay.offset, None);
        assert_eq!(
            replay.explanation,
            "code 359152 matches no counter in 3..=13"
        );
    }

    #[test]
    fn look_ahead_resynchronises() {
        let mut oracle = HotpOracle::new(secret()).with_look_ahead(5);
        // The token was pressed four times unseen: counter 4 shows up while 0 is expected.
        let verdict = oracle.check(RFC4226_CODES[4]).unwrap();
        assert!(verdict.accepted);
        assert_eq!(verdict.offset, Some(4));
        assert_eq!(oracle.counter(), 5);
        assert_eq!(oracle.check(RFC4226_CODES[5]).unwrap().offset, Some(0));

        // Beyond the look-ahead: counter 9 while 6 is expected with look-ahead 2.
        let mut oracle = HotpOracle::new(secret()).with_counter(6).with_look_ahead(2);
        assert!(!oracle.check(RFC4226_CODES[9]).unwrap().accepted);
        assert_eq!(oracle.counter(), 6);
    }

    #[test]
    fn counter_persists_across_oracles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.counter");

        let mut first = HotpOracle::load(secret(), &path, 2).unwrap();
        assert_eq!(first.counter(), 2);
        assert_eq!(first.counter_file(), Some(path.as_path()));
        assert!(first.check(RFC4226_CODES[3]).unwrap().accepted);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "4\n");
        drop(first);

        let mut second = HotpOracle::load(secret(), &path, 0).unwrap();
        assert_eq!(second.counter(), 4);
        assert!(!second.check(RFC4226_CODES[3]).unwrap().accepted);
        assert!(second.check(RFC4226_CODES[4]).unwrap().accepted);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "5\n");
        // Only the counter file is left: no temporary files.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn bad_counter_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.counter");
        std::fs::write(&path, "twelve\n").unwrap();
        let message = HotpOracle::load(secret(), &path, 0)
            .unwrap_err()
            .to_string();
        assert!(message.contains("token.counter"), "{message}");

        let mut oracle =
            HotpOracle::load(secret(), dir.path().join("gone/token.counter"), 0).unwrap();
        let error = oracle.check(RFC4226_CODES[0]).unwrap_err();
        assert!(matches!(
            error,
            OracleError::CounterWrite { counter: 1, .. }
        ));
        assert_eq!(oracle.counter(), 0);
    }

    #[test]
    fn algorithm_parses_and_displays() {
        assert_eq!("SHA256".parse::<Algorithm>().unwrap(), Algorithm::Sha256);
        assert_eq!("sha512".parse::<Algorithm>().unwrap().to_string(), "sha512");
        assert_eq!("sha1".parse::<Algorithm>().unwrap(), Algorithm::Sha1);
        assert!("md5".parse::<Algorithm>().is_err());
    }
}
