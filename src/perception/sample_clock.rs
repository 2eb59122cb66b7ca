//! Sample clock: the capture time of every sample of a stream, from the capture times of its
//! blocks.
//!
//! Each block anchors the stream index of its first sample to its capture time; any index is timed
//! from the last anchor at or before it (the first anchor for earlier ones), so the audio clock
//! and the rig's clock may drift apart without the times drifting. The capture's ring buffer and
//! the segmenter both time their samples with it.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Where a block's first sample sits on the stream, and when it was captured.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    index: u64,
    captured_at: Instant,
}

/// The anchors of a stream at `rate` samples per second.
#[derive(Debug, Clone)]
pub struct SampleClock {
    rate: u32,
    anchors: VecDeque<Anchor>,
}

impl SampleClock {
    /// A clock for a stream at `rate` samples per second, with no anchor yet.
    pub fn new(rate: u32) -> Self {
        Self {
            rate: rate.max(1),
            anchors: VecDeque::new(),
        }
    }

    /// Stream index `index` was captured at `captured_at` (the first sample of a block).
    pub fn anchor(&mut self, index: u64, captured_at: Instant) {
        self.anchors.push_back(Anchor { index, captured_at });
    }

    /// Drops the anchors no sample from `index` on needs (keeps the one that times `index`).
    pub fn forget_before(&mut self, index: u64) {
        while self.anchors.len() > 1 && self.anchors[1].index <= index {
            self.anchors.pop_front();
        }
    }

    /// Capture time of stream index `index` (extrapolated past the newest anchor).
    pub fn time_of(&self, index: u64) -> Option<Instant> {
        let anchor = self
            .anchors
            .iter()
            .rev()
            .find(|a| a.index <= index)
            .or_else(|| self.anchors.front())?;
        let seconds = (index as f64 - anchor.index as f64) / f64::from(self.rate);
        Some(if seconds >= 0.0 {
            anchor.captured_at + Duration::from_secs_f64(seconds)
        } else {
            anchor.captured_at - Duration::from_secs_f64(-seconds)
        })
    }

    /// Stream index of the sample captured at `at`, rounded to the nearest (never below 0).
    pub fn index_of(&self, at: Instant) -> Option<u64> {
        let anchor = self
            .anchors
            .iter()
            .rev()
            .find(|a| a.captured_at <= at)
            .or_else(|| self.anchors.front())?;
        let seconds = if at >= anchor.captured_at {
            (at - anchor.captured_at).as_secs_f64()
        } else {
            -(anchor.captured_at - at).as_secs_f64()
        };
        let index = anchor.index as f64 + seconds * f64::from(self.rate);
        Some(index.round().max(0.0) as u64)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_timed_from_the_last_anchor_before_them() {
        let t0 = Instant::now();
        let mut clock = SampleClock::new(16_000);
        assert_eq!(clock.time_of(0), None);
        clock.anchor(0, t0);
        // The second block came 5 ms later than its sample count says: the clocks drifted.
        clock.anchor(320, t0 + Duration::from_millis(25));
        assert_eq!(clock.time_of(160), Some(t0 + Duration::from_millis(10)));
        assert_eq!(clock.time_of(480), Some(t0 + Duration::from_millis(35)));
        assert_eq!(clock.index_of(t0 + Duration::from_millis(35)), Some(480));
        assert_eq!(clock.index_of(t0 + Duration::from_millis(10)), Some(160));
        clock.forget_before(400);
        assert_eq!(clock.time_of(0), Some(t0 + Duration::from_millis(5)));
        // Before the first anchor kept: extrapolated back, never below index 0.
        assert_eq!(clock.index_of(t0 + Duration::from_millis(15)), Some(160));
        assert_eq!(clock.index_of(t0), Some(0));
    }
}
