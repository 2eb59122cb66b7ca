//! The shared secret of an OTP token, loaded from text, a file or an environment variable.
//!
//! Inputs: base32 (RFC 4648) or hex text, from a string, a file or an environment variable.
//! Outputs: a [`Secret`] holding the raw key bytes, used only by the HOTP and TOTP oracles.
//! Invariants: a secret is never printable. [`Secret`] has a redacted `Debug`, no `Display`, no
//! `Serialize` and no `Clone`, and no error built here quotes the secret text: errors name only
//! where the secret came from (the file or the variable) and what kind of decoding failed.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use super::OracleError;

/// How the text of a secret is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// RFC 4648 base32: case-insensitive, spaces ignored, padding optional.
    Base32,
    /// Hexadecimal: case-insensitive, spaces ignored.
    Hex,
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Base32 => "base32",
            Encoding::Hex => "hex",
        })
    }
}

impl FromStr for Encoding {
    type Err = OracleError;

    /// Parses `base32` or `hex` (case-insensitive).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.to_ascii_lowercase().as_str() {
            "base32" => Ok(Encoding::Base32),
            "hex" => Ok(Encoding::Hex),
            _ => Err(OracleError::UnknownEncoding {
                name: name.to_owned(),
            }),
        }
    }
}

/// The key bytes shared by a token and its oracle. Never printed, serialised or copied.
pub struct Secret(Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl Secret {
    /// Wraps raw key bytes (for example the ASCII seeds of the RFC test vectors).
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    /// Decodes RFC 4648 base32 text: case-insensitive, whitespace ignored, `=` padding optional.
    pub fn from_base32(text: &str) -> Result<Self, OracleError> {
        decode(text, Encoding::Base32, "inline text")
    }

    /// Decodes hexadecimal text: case-insensitive, whitespace ignored.
    pub fn from_hex(text: &str) -> Result<Self, OracleError> {
        decode(text, Encoding::Hex, "inline text")
    }

    /// Reads and decodes a file that holds the secret text; surrounding whitespace is ignored.
    pub fn from_file(path: impl AsRef<Path>, encoding: Encoding) -> Result<Self, OracleError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| OracleError::SecretFile {
            path: path.to_owned(),
            source,
        })?;
        decode(&text, encoding, &format!("file {}", path.display()))
    }

    /// Reads and decodes the environment variable `name`; surrounding whitespace is ignored.
    pub fn from_env(name: &str, encoding: Encoding) -> Result<Self, OracleError> {
        from_var_value(name, std::env::var(name), encoding)
    }

    /// The key bytes, for the HMAC computations of this module only.
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Decodes the value of a variable; split from [`Secret::from_env`] so that tests need not set
/// variables (which is `unsafe` in edition 2024).
fn from_var_value(
    name: &str,
    value: Result<String, std::env::VarError>,
    encoding: Encoding,
) -> Result<Secret, OracleError> {
    // VarError's Display quotes a non-unicode value, which would leak the secret: map it by hand.
    let text = value.map_err(|error| OracleError::SecretVar {
        name: name.to_owned(),
        reason: match error {
            std::env::VarError::NotPresent => "is not set",
            std::env::VarError::NotUnicode(_) => "is not valid unicode",
        },
    })?;
    decode(&text, encoding, &format!("environment variable {name}"))
}

/// Decodes `text`; `origin` names where it came from for error messages.
fn decode(text: &str, encoding: Encoding, origin: &str) -> Result<Secret, OracleError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let decoded = match encoding {
        Encoding::Base32 => {
            let unpadded = compact.trim_end_matches('=').to_ascii_uppercase();
            base32_lenient().decode(unpadded.as_bytes())
        }
        Encoding::Hex => data_encoding::HEXLOWER_PERMISSIVE.decode(compact.as_bytes()),
    };
    // DecodeError's kind says only "invalid symbol", "invalid length" and the like; its position
    // refers to the compacted text, so it is left out rather than mislead.
    let bytes = decoded.map_err(|error| OracleError::SecretDecode {
        origin: origin.to_owned(),
        encoding,
        reason: error.kind.to_string(),
    })?;
    if bytes.is_empty() {
        return Err(OracleError::SecretEmpty {
            origin: origin.to_owned(),
        });
    }
    Ok(Secret(bytes))
}

/// Unpadded upper-case RFC 4648 base32 that ignores non-zero trailing bits, as authenticator
/// apps do for secrets whose length is not a multiple of 5 bytes.
fn base32_lenient() -> data_encoding::Encoding {
    let mut spec = data_encoding::Specification::new();
    spec.symbols.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    spec.check_trailing_bits = false;
    // The specification is a constant: 32 distinct ASCII symbols, no padding, no wrapping, which
    // data-encoding always accepts (and the test `base32_spec_is_valid` builds it).
    #[allow(clippy::expect_used)]
    spec.encoding()
        .expect("constant base32 specification is valid")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn base32_spec_is_valid() {
        let _ = base32_lenient();
    }

    #[test]
    fn base32_is_case_insensitive_spaced_and_padding_optional() {
        // "12345678901234567890" in base32.
        let reference = Secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        assert_eq!(reference.as_bytes(), b"12345678901234567890");
        for text in [
            "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ",
            " gezd gnbv\tgy3t qojq gezd gnbv gy3t qojq\n",
        ] {
            assert_eq!(
                Secret::from_base32(text).unwrap().as_bytes(),
                reference.as_bytes()
            );
        }
        // "1" = 0x31 → "GE" unpadded, "GE======" padded.
        assert_eq!(Secret::from_base32("GE").unwrap().as_bytes(), b"1");
        assert_eq!(Secret::from_base32("ge======").unwrap().as_bytes(), b"1");
    }

    #[test]
    fn hex_decodes_either_case() {
        assert_eq!(Secret::from_hex("3132 3a3B").unwrap().as_bytes(), b"12:;");
    }

    #[test]
    fn bad_text_errors_do_not_quote_the_secret() {
        let error = Secret::from_base32("SECRETSECRET1").unwrap_err();
        let message = format!("{error} {error:?}");
        assert!(message.contains("not valid base32"), "{message}");
        assert!(!message.contains("SECRET"), "{message}");
        let error = Secret::from_hex("deadbeefzz").unwrap_err();
        let message = format!("{error} {error:?}");
        assert!(!message.contains("deadbeef"), "{message}");
        assert!(matches!(
            Secret::from_base32("  ="),
            Err(OracleError::SecretEmpty { .. })
        ));
    }

    #[test]
    fn file_is_trimmed_and_named_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.b32");
        std::fs::write(&path, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n\n").unwrap();
        let secret = Secret::from_file(&path, Encoding::Base32).unwrap();
        assert_eq!(secret.as_bytes(), b"12345678901234567890");

        std::fs::write(&path, "not*base32\n").unwrap();
        let message = Secret::from_file(&path, Encoding::Base32)
            .unwrap_err()
            .to_string();
        assert!(message.contains("token.b32"), "{message}");
        assert!(!message.contains("not*base32"), "{message}");

        let missing = dir.path().join("missing.hex");
        let message = Secret::from_file(&missing, Encoding::Hex)
            .unwrap_err()
            .to_string();
        assert!(message.contains("missing.hex"), "{message}");
    }

    #[test]
    fn variables_are_named_in_errors() {
        let secret =
            from_var_value("OTP_SECRET", Ok(" 31323334 \n".to_owned()), Encoding::Hex).unwrap();
        assert_eq!(secret.as_bytes(), b"1234");

        let message = from_var_value("OTP_SECRET", Ok("zz".to_owned()), Encoding::Hex)
            .unwrap_err()
            .to_string();
        assert!(message.contains("OTP_SECRET"), "{message}");

        let message = Secret::from_env("OTPRIG_TEST_SURELY_UNSET_VARIABLE", Encoding::Base32)
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "secret variable OTPRIG_TEST_SURELY_UNSET_VARIABLE is not set"
        );
    }

    #[test]
    fn debug_is_redacted() {
        let secret = Secret::from_bytes(b"12345678901234567890".to_vec());
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
    }

    #[test]
    fn encoding_parses_and_displays() {
        assert_eq!("Base32".parse::<Encoding>().unwrap(), Encoding::Base32);
        assert_eq!("hex".parse::<Encoding>().unwrap().to_string(), "hex");
        assert!("base64".parse::<Encoding>().is_err());
    }
}
