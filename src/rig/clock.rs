//! The rig's one clock: tokio's monotonic `Instant` plus the UTC anchor the oracle needs.
//!
//! On hardware the anchor is the system time (the Pi must be NTP-synced); in simulation it is
//! a fixed, seeded instant, and tokio's paused time moves the monotonic clock.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// Monotonic time for the timeline plus the wall-clock anchor for the oracle.
pub trait Clock: Send + Sync {
    /// Now, on the monotonic clock.
    fn now(&self) -> Instant {
        Instant::now()
    }
    /// The UTC time at a monotonic instant.
    fn utc_at(&self, at: Instant) -> SystemTime;
}

/// A clock anchored once: `utc_at(t) = anchor_utc + (t - anchor)`.
#[derive(Debug, Clone, Copy)]
pub struct AnchoredClock {
    anchor: Instant,
    anchor_utc: SystemTime,
}

impl AnchoredClock {
    /// Anchor `anchor_utc` at the monotonic instant `anchor`.
    pub fn new(anchor: Instant, anchor_utc: SystemTime) -> Self {
        Self { anchor, anchor_utc }
    }

    /// Anchor the system's UTC time now (hardware rigs).
    pub fn system() -> Self {
        Self::new(Instant::now(), SystemTime::now())
    }
}

impl Clock for AnchoredClock {
    fn utc_at(&self, at: Instant) -> SystemTime {
        if at >= self.anchor {
            self.anchor_utc + (at - self.anchor)
        } else {
            self.anchor_utc - (self.anchor - at)
        }
    }
}

/// Seconds since the Unix epoch, as a float, for records and the oracle.
pub fn unix_seconds(t: SystemTime) -> f64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// A `SystemTime` from whole Unix seconds.
pub fn from_unix_seconds(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}
