//! Camera: grey frames of the token with their capture times.

use std::sync::Arc;
use std::time::Duration;

use image::GrayImage;
use tokio::time::Instant;

use super::{DeviceId, RigError};

/// One camera frame: pixels and when they were captured (sensor time, not read time).
#[derive(Debug, Clone)]
pub struct Frame {
    /// Frame counter from the camera; gaps mean dropped frames.
    pub seq: u64,
    /// When the sensor captured it, on the rig's monotonic clock.
    pub captured_at: Instant,
    /// Luma pixels.
    pub image: Arc<GrayImage>,
}

/// A camera looking at the token.
///
/// `capture` returns the newest frame and does not block for long: hardware backends own a
/// capture thread and hand over its latest buffer.
pub trait Camera: Send {
    /// The camera, for messages.
    fn id(&self) -> &DeviceId;
    /// Time between frames.
    fn frame_period(&self) -> Duration;
    /// The newest frame.
    fn capture(&mut self) -> Result<Frame, RigError>;
}
