//! Temporary stand-in (lands from the listener branch).
#![allow(missing_docs, clippy::all)]
use crate::rig::AudioBlock;
use tokio::time::Instant;
pub struct Utterance {
    pub start: Instant,
    pub end: Instant,
    pub sample_rate: u32,
    pub samples: Vec<f32>,
}
pub struct Segmenter;
impl Segmenter {
    pub fn new(_rate: u32) -> Self {
        Segmenter
    }
    pub fn push(&mut self, _block: &AudioBlock) -> Vec<Utterance> {
        Vec::new()
    }
    pub fn flush(&mut self) -> Option<Utterance> {
        None
    }
    pub fn is_active(&self) -> bool {
        false
    }
}
