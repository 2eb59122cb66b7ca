//! Temporary stand-in (lands from the voice branch).
#![allow(missing_docs, clippy::all)]
use std::path::Path;
#[derive(Debug, thiserror::Error)]
#[error("voice")]
pub struct VoiceError;
pub struct VoiceBank;
impl VoiceBank {
    pub fn load(_dir: &Path, _rate: u32) -> Result<VoiceBank, VoiceError> { Ok(VoiceBank) }
    pub fn languages(&self) -> Vec<String> { vec![] }
    pub fn render(&self, digits: &str, _l: &str, _s: f32, _g: f32) -> Result<Vec<f32>, VoiceError> { Ok(vec![0.1; digits.len() * 4000]) }
}
