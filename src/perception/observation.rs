//! Display events: a new LCD reading becomes an observation once N consecutive frames agree.
//!
//! Input: each frame with its reading, in capture order. Output: a `DisplayEvent` when the
//! stable reading changes, carrying the first agreeing frame (time and pixels, as evidence).
//! Frames captured no later than the previous one are rejected.

use tokio::time::Instant;

use super::lcd::{LcdRead, LcdReading};
use crate::rig::Frame;

/// A stable change of what the LCD shows.
#[derive(Debug, Clone)]
pub struct DisplayEvent {
    /// What it shows now.
    pub reading: LcdReading,
    /// Capture time of the first frame showing it.
    pub first_frame_at: Instant,
    /// Capture time of the frame that confirmed it (the N-th agreeing one).
    pub confirmed_at: Instant,
    /// Lowest confidence among the agreeing frames.
    pub confidence: f32,
    /// The first agreeing frame, kept as evidence.
    pub frame: Frame,
    /// The reader's full result for that frame (segment evidence).
    pub read: LcdRead,
}

/// A frame that arrived out of order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("frame {seq} was captured no later than the frame before it; rejected")]
pub struct StaleFrame {
    /// Its sequence number.
    pub seq: u64,
}

/// Turns per-frame readings into display events.
#[derive(Debug)]
pub struct DisplayTracker {
    needed: u32,
    current: Option<LcdReading>,
    candidate: Option<(DisplayEvent, u32)>,
    last_at: Option<Instant>,
}

impl DisplayTracker {
    /// A tracker emitting an event after `needed` agreeing frames (at least 1).
    pub fn new(needed: u32) -> Self {
        Self {
            needed: needed.max(1),
            current: None,
            candidate: None,
            last_at: None,
        }
    }

    /// The stable reading, if any yet.
    pub fn current(&self) -> Option<&LcdReading> {
        self.current.as_ref()
    }

    /// Feeds one frame and its reading; returns the event it completes, if any.
    pub fn push(
        &mut self,
        frame: &Frame,
        read: LcdRead,
    ) -> Result<Option<DisplayEvent>, StaleFrame> {
        if self.last_at.is_some_and(|last| frame.captured_at <= last) {
            return Err(StaleFrame { seq: frame.seq });
        }
        self.last_at = Some(frame.captured_at);
        if self.current.as_ref() == Some(&read.reading) {
            self.candidate = None;
            return Ok(None);
        }
        match &mut self.candidate {
            Some((event, count)) if event.reading == read.reading => {
                *count += 1;
                event.confidence = event.confidence.min(read.confidence);
                event.confirmed_at = frame.captured_at;
            }
            _ => {
                let event = DisplayEvent {
                    reading: read.reading.clone(),
                    first_frame_at: frame.captured_at,
                    confirmed_at: frame.captured_at,
                    confidence: read.confidence,
                    frame: frame.clone(),
                    read,
                };
                self.candidate = Some((event, 1));
            }
        }
        if self
            .candidate
            .as_ref()
            .is_some_and(|(_, count)| *count >= self.needed)
        {
            let event = self.candidate.take().map(|(event, _)| event);
            self.current = event.as_ref().map(|e| e.reading.clone());
            return Ok(event);
        }
        Ok(None)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use image::GrayImage;

    use super::*;

    fn frame(seq: u64, at: Instant) -> Frame {
        Frame {
            seq,
            captured_at: at,
            image: Arc::new(GrayImage::new(1, 1)),
        }
    }

    fn read(reading: LcdReading) -> LcdRead {
        LcdRead {
            reading,
            confidence: 0.9,
            digits: Vec::new(),
            sharpness: 1.0,
            contrast: 1.0,
            quad: None,
            tracked: false,
        }
    }

    #[test]
    fn an_event_needs_n_agreeing_frames_and_keeps_the_first_frame_time() {
        let t0 = Instant::now();
        let mut tracker = DisplayTracker::new(3);
        let code = LcdReading::Code("123456".into());
        let ms = |n| t0 + Duration::from_millis(n);
        assert!(
            tracker
                .push(&frame(1, ms(0)), read(LcdReading::Blank))
                .unwrap()
                .is_none()
        );
        assert!(
            tracker
                .push(&frame(2, ms(66)), read(LcdReading::Blank))
                .unwrap()
                .is_none()
        );
        let blank = tracker
            .push(&frame(3, ms(133)), read(LcdReading::Blank))
            .unwrap()
            .unwrap();
        assert_eq!(blank.first_frame_at, ms(0));
        assert!(
            tracker
                .push(&frame(4, ms(200)), read(code.clone()))
                .unwrap()
                .is_none()
        );
        // A flicker back to blank resets the candidate.
        assert!(
            tracker
                .push(&frame(5, ms(266)), read(LcdReading::Blank))
                .unwrap()
                .is_none()
        );
        assert!(
            tracker
                .push(&frame(6, ms(333)), read(code.clone()))
                .unwrap()
                .is_none()
        );
        assert!(
            tracker
                .push(&frame(7, ms(400)), read(code.clone()))
                .unwrap()
                .is_none()
        );
        let shown = tracker
            .push(&frame(8, ms(466)), read(code.clone()))
            .unwrap()
            .unwrap();
        assert_eq!(shown.reading, code);
        assert_eq!(shown.first_frame_at, ms(333));
        assert_eq!(shown.confirmed_at, ms(466));
        assert_eq!(tracker.current(), Some(&code));
    }

    #[test]
    fn older_frames_are_rejected() {
        let t0 = Instant::now();
        let mut tracker = DisplayTracker::new(1);
        tracker
            .push(
                &frame(2, t0 + Duration::from_millis(10)),
                read(LcdReading::Blank),
            )
            .unwrap();
        assert_eq!(
            tracker
                .push(&frame(1, t0), read(LcdReading::Blank))
                .unwrap_err(),
            StaleFrame { seq: 1 }
        );
    }
}

/// An utterance the listener heard: when, what, in which language, how loud.
#[derive(Debug, Clone)]
pub struct SpeechEvent {
    /// Start of the speech, on the rig's clock.
    pub start: Instant,
    /// End of the speech.
    pub end: Instant,
    /// What was recognised.
    pub heard: super::listener::Heard,
    /// How loud it was (RMS of the speech frames, R128 loudness).
    pub level: super::speech_level::SpeechLevel,
    /// The samples (with a little padding), kept as evidence.
    pub clip: std::sync::Arc<Vec<f32>>,
    /// Their rate.
    pub sample_rate: u32,
}

impl SpeechEvent {
    /// Speech duration, seconds.
    pub fn duration_s(&self) -> f64 {
        (self.end - self.start).as_secs_f64()
    }

    /// Digits per second, from the listener's word boundaries: the words found over the time
    /// from the start of the first to the end of the last (the pauses between words count, the
    /// silence around them does not). `None` when no words were found.
    pub fn digit_rate(&self) -> Option<f64> {
        let (first, last) = (self.heard.words.first()?, self.heard.words.last()?);
        let span = f64::from(last.1 - first.0);
        (span > 0.0).then(|| self.heard.words.len() as f64 / span)
    }
}
