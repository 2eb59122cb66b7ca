//! Temporary stand-in (lands from the voice branch).
#![allow(missing_docs, clippy::all)]
pub struct RoomConfig { pub sample_rate: u32, pub noise_dbfs: f32, pub echo: f32, pub speaker_low_hz: f32, pub speaker_high_hz: f32 }
impl Default for RoomConfig { fn default() -> Self { Self { sample_rate: 16000, noise_dbfs: -55.0, echo: 0.3, speaker_low_hz: 300.0, speaker_high_hz: 3800.0 } } }
pub struct Room;
impl Room {
    pub fn new(_c: RoomConfig, _seed: u64) -> Self { Room }
    pub fn process(&mut self, speech: &[f32]) -> Vec<f32> { speech.to_vec() }
}
