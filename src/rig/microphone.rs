//! Microphone: blocks of mono audio samples with their capture times.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{DeviceId, RigError};

/// One block of mono samples in [-1, 1].
#[derive(Debug, Clone)]
pub struct AudioBlock {
    /// Block counter; gaps mean dropped blocks.
    pub seq: u64,
    /// When the first sample was captured, on the rig's monotonic clock.
    pub captured_at: Instant,
    /// Samples per second.
    pub sample_rate: u32,
    /// The samples.
    pub samples: Arc<[f32]>,
}

impl AudioBlock {
    /// How long the block lasts.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.sample_rate))
    }

    /// The capture time of sample `index` of this block.
    pub fn time_of(&self, index: usize) -> Instant {
        self.captured_at + Duration::from_secs_f64(index as f64 / f64::from(self.sample_rate))
    }
}

/// A microphone (or line input from the headphone jack) listening to the token.
///
/// `capture` returns the block that ended most recently and does not block for long:
/// hardware backends own a capture thread and hand over its blocks.
pub trait Microphone: Send {
    /// The microphone, for messages.
    fn id(&self) -> &DeviceId;
    /// Time between blocks (the length of one block).
    fn block_period(&self) -> Duration;
    /// The newest block.
    fn capture(&mut self) -> Result<AudioBlock, RigError>;
}
