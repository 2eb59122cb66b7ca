//! Temporary stand-in (lands from the oracle branch).
#![allow(missing_docs, clippy::all)]
pub mod hotp {
    #[derive(Debug, Clone, Copy)]
    pub enum Algorithm { Sha1, Sha256, Sha512 }
    pub fn hotp(_s: &super::secret::Secret, counter: u64, digits: u32, _a: Algorithm) -> String { format!("{:0w$}", counter % 1_000_000, w = digits as usize) }
}
pub mod totp {
    pub fn totp(s: &super::secret::Secret, unix: u64, step: u64, digits: u32, a: super::hotp::Algorithm) -> String { super::hotp::hotp(s, unix / step, digits, a) }
}
pub mod secret {
    pub enum Encoding { Base32, Hex }
    pub struct Secret(pub Vec<u8>);
    #[derive(Debug, thiserror::Error)]
    #[error("secret")]
    pub struct SecretError;
    impl Secret {
        pub fn from_file(_p: &std::path::Path, _e: Encoding) -> Result<Self, crate::oracle::OracleError> { Ok(Secret(vec![1])) }
        pub fn from_env(_n: &str, _e: Encoding) -> Result<Self, crate::oracle::OracleError> { Ok(Secret(vec![1])) }
    }
}
pub use hotp::Algorithm;
pub use secret::{Encoding, Secret};
#[derive(Debug, thiserror::Error)]
#[error("oracle")]
pub struct OracleError;
#[derive(Debug, Clone, serde::Serialize)]
pub struct OracleVerdict { pub accepted: bool, pub offset: Option<i64>, pub explanation: String }
pub enum Oracle { X }
impl Oracle {
    pub async fn check(&mut self, _code: &str, _at: std::time::SystemTime) -> Result<OracleVerdict, OracleError> { Ok(OracleVerdict { accepted: true, offset: Some(0), explanation: String::new() }) }
    pub fn name(&self) -> &'static str { "x" }
}
