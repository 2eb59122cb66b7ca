//! Temporary stand-in (lands from the listener branch).
#![allow(missing_docs, clippy::all)]
use super::voice_pack::VoicePack;
use std::path::Path;
#[derive(Debug, thiserror::Error)]
#[error("listen")]
pub struct ListenError;
pub enum LanguageChoice {
    Fixed(String),
    Auto,
}
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Heard {
    pub digits: Option<String>,
    pub language: Option<String>,
    pub confidences: Vec<f32>,
    pub words: Vec<(f32, f32)>,
}
pub struct Listener;
impl Listener {
    pub fn new(_pack: VoicePack) -> Self {
        Listener
    }
    pub fn recognise(&self, _s: &[f32], _r: u32, _l: &LanguageChoice) -> Heard {
        Heard {
            digits: None,
            language: None,
            confidences: vec![],
            words: vec![],
        }
    }
    pub fn listen_file(&self, _p: &Path, _l: &LanguageChoice) -> Result<Heard, ListenError> {
        Err(ListenError)
    }
}
pub fn level_dbfs(_s: &[f32], _r: u32) -> f32 {
    -100.0
}
