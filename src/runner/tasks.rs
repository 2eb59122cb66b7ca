//! The long-lived tasks of a scenario: the camera source, the LCD reader and the console
//! source. Each owns its device or stage and ends when cancelled or when its input closes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::record::FrameCounts;
use super::timeline::Timeline;
use crate::perception::lcd::LcdReader;
use crate::perception::observation::DisplayTracker;
use crate::rig::{Camera, Console, Frame, RigError};

/// Spawns a task under `tracker`, in a span naming its stage and device; an error it returns
/// is written to the timeline, where expectations turn it into an Error outcome.
pub fn spawn_stage<F>(
    tracker: &TaskTracker,
    timeline: &Timeline,
    stage: &'static str,
    device: String,
    task: F,
) where
    F: std::future::Future<Output = Result<(), RigError>> + Send + 'static,
{
    let timeline = timeline.clone();
    let span = tracing::info_span!("task", stage, device = %device);
    tracker.spawn(
        async move {
            if let Err(e) = task.await {
                tracing::error!("{stage} stopped: {e}");
                timeline.push_source_failure(Instant::now(), format!("{stage} task: {e}"));
            }
        }
        .instrument(span),
    );
}

/// Captures frames at the camera's period, after the phase delay.
pub struct CameraTask {
    /// The camera.
    pub camera: Box<dyn Camera>,
    /// Delay before the first frame.
    pub phase: Duration,
    /// Latest frame out.
    pub frames: watch::Sender<Option<Frame>>,
    /// Frames captured so far.
    pub captured: Arc<AtomicU64>,
}

impl CameraTask {
    /// Runs until cancelled or the camera fails.
    pub async fn run(mut self, cancel: CancellationToken) -> Result<(), RigError> {
        let start = Instant::now() + self.phase;
        let mut ticks = tokio::time::interval_at(start, self.camera.frame_period());
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                _ = ticks.tick() => {
                    let frame = self.camera.capture()?;
                    self.captured.fetch_add(1, Ordering::Relaxed);
                    self.frames.send_replace(Some(frame));
                }
            }
        }
    }
}

/// Reads each new frame's LCD and turns stable readings into display events.
pub struct LcdTask {
    /// The reader.
    pub reader: LcdReader,
    /// The stabiliser.
    pub tracker: DisplayTracker,
    /// Latest frame in.
    pub frames: watch::Receiver<Option<Frame>>,
    /// Where events go.
    pub timeline: Timeline,
    /// Frames captured (from the camera task).
    pub captured: Arc<AtomicU64>,
}

impl LcdTask {
    /// Runs until cancelled or the camera task ends.
    pub async fn run(mut self, cancel: CancellationToken) -> Result<(), RigError> {
        let mut counts = FrameCounts::default();
        let mut last_seq: Option<u64> = None;
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                changed = self.frames.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    let Some(frame) = self.frames.borrow_and_update().clone() else { continue };
                    if let Some(last) = last_seq {
                        counts.dropped += frame.seq.saturating_sub(last + 1);
                    }
                    last_seq = Some(frame.seq);
                    let read = self.reader.read(&frame.image);
                    counts.read += 1;
                    counts.captured = self.captured.load(Ordering::Relaxed);
                    match self.tracker.push(&frame, read) {
                        Ok(Some(event)) => self.timeline.push_display(event),
                        Ok(None) => {}
                        Err(stale) => tracing::warn!("{stale}"),
                    }
                    self.timeline.push_frame_progress(frame.captured_at, counts);
                }
            }
        }
    }
}

/// Polls the token's console for lines.
pub struct ConsoleTask {
    /// The console.
    pub console: Box<dyn Console>,
    /// Where lines go.
    pub timeline: Timeline,
    /// How often to poll.
    pub poll: Duration,
}

impl ConsoleTask {
    /// Runs until cancelled or the console fails.
    pub async fn run(mut self, cancel: CancellationToken) -> Result<(), RigError> {
        let mut ticks = tokio::time::interval(self.poll);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                _ = ticks.tick() => {
                    for line in self.console.read_lines()? {
                        self.timeline.push_log(line);
                    }
                }
            }
        }
    }
}
