//! The long-lived tasks of a scenario: the camera source, the LCD reader and the console
//! source. Each owns its device or stage and ends when cancelled or when its input closes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::record::FrameCounts;
use super::timeline::Timeline;
use crate::perception::capture::AudioCapture;
use crate::perception::lcd::LcdReader;
use crate::perception::listener::{LanguageChoice, Listener};
use crate::perception::observation::{DisplayTracker, SpeechEvent};
use crate::perception::segmenter::Segmenter;
use crate::perception::speech_level::speech_level;
use crate::rig::{AudioBlock, Camera, Console, DeviceId, Frame, Microphone, RigError};

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
    let span = tracing::info_span!("task", stage, device = %device);
    let handle = tokio::spawn(task.instrument(span));
    let timeline = timeline.clone();
    // A watcher turns the task's error, or its panic, into a source failure naming it.
    tracker.spawn(async move {
        let failure = match handle.await {
            Ok(Ok(())) => return,
            Ok(Err(e)) => format!("{stage} task ({device}): {e}"),
            Err(join) if join.is_panic() => format!("{stage} task ({device}) panicked"),
            Err(_) => return,
        };
        tracing::error!("{failure}");
        timeline.push_source_failure(Instant::now(), failure);
    });
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

/// Captures audio blocks at the microphone's block period and hands them to the listener
/// through a bounded channel; blocks that do not fit are dropped and counted.
pub struct MicrophoneTask {
    /// The microphone.
    pub microphone: Box<dyn Microphone>,
    /// Blocks out.
    pub blocks: mpsc::Sender<AudioBlock>,
    /// Blocks dropped because the listener fell behind.
    pub dropped: Arc<AtomicU64>,
}

impl MicrophoneTask {
    /// Runs until cancelled or the microphone fails.
    pub async fn run(mut self, cancel: CancellationToken) -> Result<(), RigError> {
        let period = self.microphone.block_period();
        let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                _ = ticks.tick() => {
                    let block = self.microphone.capture()?;
                    match self.blocks.try_send(block) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            self.dropped.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => return Ok(()),
                    }
                }
            }
        }
    }
}

/// How many digits the listener looks for in the rig: any number, for now. Aligned to the
/// token's lengths (its code's, its serial number's), the listener heard a wrong code in the
/// simulator's digit-by-digit reading at 1.4x: a short word stretched over the pause after it
/// fits a long one.
const ANY_LENGTH: &[usize] = &[];

/// Brings the audio to the listener's rate, finds utterances in it and recognises them.
pub struct ListenerTask {
    /// Resampling and the ring buffer of recent audio (the timeline's).
    pub capture: AudioCapture,
    /// Voice activity detection.
    pub segmenter: Segmenter,
    /// The recogniser.
    pub listener: Arc<Listener>,
    /// Which language to expect.
    pub language: LanguageChoice,
    /// Blocks in.
    pub blocks: mpsc::Receiver<AudioBlock>,
    /// Where speech events go.
    pub timeline: Timeline,
    /// Blocks dropped upstream.
    pub dropped: Arc<AtomicU64>,
    /// The microphone, for errors.
    pub microphone: DeviceId,
}

impl ListenerTask {
    /// Runs until cancelled or the microphone task ends.
    pub async fn run(mut self, cancel: CancellationToken) -> Result<(), RigError> {
        let mut last_release: Option<Instant> = None;
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                block = self.blocks.recv() => {
                    let Some(block) = block else { return Ok(()) };
                    let block = match self.capture.push(&block) {
                        Ok(Some(block)) => block,
                        // The resampler is filling its first chunk.
                        Ok(None) => continue,
                        Err(e) => {
                            return Err(RigError::Device {
                                device: self.microphone.clone(),
                                message: e.to_string(),
                            });
                        }
                    };
                    let end = block.captured_at + block.duration();
                    // Speech before a key release and speech after it are different
                    // observations (the key may have cut a reading and started another): an
                    // utterance open when a key is released is closed there.
                    let released = self.timeline.entries().last_release(end).map(|a| a.at);
                    let mut utterances = Vec::new();
                    if let Some(at) = released
                        && last_release.is_none_or(|last| at > last)
                    {
                        last_release = Some(at);
                        utterances.extend(self.segmenter.flush());
                    }
                    utterances.extend(self.segmenter.push(&block));
                    for utterance in utterances {
                        let heard = self.listener.recognise(&utterance.samples, utterance.sample_rate, &self.language, ANY_LENGTH);
                        let level = speech_level(&utterance.samples);
                        self.timeline.push_speech(SpeechEvent {
                            start: utterance.start,
                            end: utterance.end,
                            heard,
                            level,
                            clip: Arc::new(utterance.samples),
                            sample_rate: utterance.sample_rate,
                        });
                    }
                    let dropped = self.dropped.load(Ordering::Relaxed);
                    self.timeline.push_audio_progress(end, self.segmenter.is_active(), dropped);
                }
            }
        }
    }
}
