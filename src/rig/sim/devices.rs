//! The simulated bench devices — relays with press feedback, a camera rendering the token,
//! the token's console — all fed by one `SimToken` behind a mutex.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::scene::SceneRenderer;
use super::token::{KeyEdge, SimToken};
use crate::rig::{
    AudioBlock, Buttons, Camera, Console, DeviceId, Frame, LogLine, Microphone, RigError,
};

/// The token shared by the simulated devices.
pub type SharedToken = Arc<Mutex<SimToken>>;

fn lock<'a>(
    token: &'a SharedToken,
    device: &DeviceId,
) -> Result<MutexGuard<'a, SimToken>, RigError> {
    token.lock().map_err(|_| RigError::Device {
        device: device.clone(),
        message: "the simulated token was poisoned by a panic".to_string(),
    })
}

/// One simulated relay.
#[derive(Debug, Clone)]
pub struct SimRelay {
    /// Whether it has a sense line.
    pub has_sense: bool,
    /// Whether its contact never closes (a rig fault).
    pub stuck_open: bool,
    /// When it was last energised or released, and to which state.
    last: Option<(Instant, bool)>,
}

impl SimRelay {
    /// A released relay.
    pub fn new(has_sense: bool, stuck_open: bool) -> Self {
        Self {
            has_sense,
            stuck_open,
            last: None,
        }
    }
}

/// Simulated relays closing the token's key contacts after `latency`.
pub struct SimButtons {
    id: DeviceId,
    token: SharedToken,
    relays: BTreeMap<String, SimRelay>,
    latency: Duration,
}

impl SimButtons {
    /// Relays for the given buttons.
    pub fn new(token: SharedToken, relays: BTreeMap<String, SimRelay>, latency: Duration) -> Self {
        Self {
            id: DeviceId::new("relay board", "buttons", "sim relay board"),
            token,
            relays,
            latency,
        }
    }
}

impl Buttons for SimButtons {
    fn id(&self) -> &DeviceId {
        &self.id
    }

    #[tracing::instrument(skip(self), fields(device = %self.id))]
    fn set(&mut self, button: &str, closed: bool) -> Result<(), RigError> {
        let now = Instant::now();
        let relay = self
            .relays
            .get_mut(button)
            .ok_or_else(|| RigError::UnknownButton {
                device: self.id.clone(),
                button: button.to_string(),
            })?;
        if relay.last.is_some_and(|(_, state)| state == closed) {
            return Ok(());
        }
        relay.last = Some((now, closed));
        if relay.stuck_open {
            return Ok(());
        }
        let edge = KeyEdge {
            at: now + self.latency,
            key: button.to_string(),
            down: closed,
        };
        lock(&self.token, &self.id)?.push_edge(edge);
        Ok(())
    }

    fn sense(&mut self, button: &str) -> Result<Option<bool>, RigError> {
        let relay = self
            .relays
            .get(button)
            .ok_or_else(|| RigError::UnknownButton {
                device: self.id.clone(),
                button: button.to_string(),
            })?;
        if !relay.has_sense {
            return Ok(None);
        }
        let now = Instant::now();
        let closed = match relay.last {
            Some((at, true)) => !relay.stuck_open && now >= at + self.latency,
            Some((at, false)) => now < at + self.latency,
            None => false,
        };
        Ok(Some(closed))
    }

    fn release_all(&mut self) -> Result<(), RigError> {
        // Every relay is tried, whatever the others do; the first failure is reported.
        let buttons: Vec<String> = self.relays.keys().cloned().collect();
        let mut first_error = None;
        for button in buttons {
            if let Err(e) = self.set(&button, false) {
                tracing::error!("releasing {button}: {e}");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// A simulated camera: renders what the token's LCD shows now, through the bench's optics.
pub struct SimCamera {
    id: DeviceId,
    token: SharedToken,
    renderer: SceneRenderer,
    period: Duration,
    seq: u64,
}

impl SimCamera {
    /// A camera taking a frame every `period`.
    pub fn new(token: SharedToken, renderer: SceneRenderer, period: Duration) -> Self {
        Self {
            id: DeviceId::new("camera", "lcd", "sim camera"),
            token,
            renderer,
            period,
            seq: 0,
        }
    }
}

impl Camera for SimCamera {
    fn id(&self) -> &DeviceId {
        &self.id
    }

    fn frame_period(&self) -> Duration {
        self.period
    }

    fn capture(&mut self) -> Result<Frame, RigError> {
        let now = Instant::now();
        let content = {
            let mut token = lock(&self.token, &self.id)?;
            token.advance(now);
            token.lcd_at(now)
        };
        let image = self.renderer.render(&content);
        self.seq += 1;
        Ok(Frame {
            seq: self.seq,
            captured_at: now,
            image: Arc::new(image),
        })
    }
}

/// The simulated token's console.
pub struct SimConsole {
    id: DeviceId,
    token: SharedToken,
}

impl SimConsole {
    /// The console of `token`.
    pub fn new(token: SharedToken) -> Self {
        Self {
            id: DeviceId::new("console", "token", "sim uart"),
            token,
        }
    }
}

impl Console for SimConsole {
    fn id(&self) -> &DeviceId {
        &self.id
    }

    fn read_lines(&mut self) -> Result<Vec<LogLine>, RigError> {
        let now = Instant::now();
        let mut token = lock(&self.token, &self.id)?;
        token.advance(now);
        Ok(token.read_console(now))
    }
}

/// A simulated microphone: the token's utterances, through the room, block by block.
pub struct SimMicrophone {
    id: DeviceId,
    token: SharedToken,
    room: super::room::Room,
    sample_rate: u32,
    period: Duration,
    start: Instant,
    samples_done: u64,
    seq: u64,
}

impl SimMicrophone {
    /// A microphone delivering blocks of `period` at `sample_rate`, from now on.
    pub fn new(
        token: SharedToken,
        room: super::room::Room,
        sample_rate: u32,
        period: Duration,
    ) -> Self {
        Self {
            id: DeviceId::new("microphone", "speaker", "sim microphone"),
            token,
            room,
            sample_rate,
            period,
            start: Instant::now(),
            samples_done: 0,
            seq: 0,
        }
    }

    fn index_of(&self, at: Instant) -> i64 {
        let offset = if at >= self.start {
            (at - self.start).as_secs_f64()
        } else {
            -(self.start - at).as_secs_f64()
        };
        (offset * f64::from(self.sample_rate)).round() as i64
    }
}

impl Microphone for SimMicrophone {
    fn id(&self) -> &DeviceId {
        &self.id
    }

    fn block_period(&self) -> Duration {
        self.period
    }

    fn capture(&mut self) -> Result<AudioBlock, RigError> {
        let now = Instant::now();
        let total = ((now - self.start).as_secs_f64() * f64::from(self.sample_rate)).floor() as u64;
        let count = total.saturating_sub(self.samples_done) as usize;
        let first = self.samples_done as i64;
        let mut mix = vec![0.0_f32; count];
        {
            let mut token = lock(&self.token, &self.id)?;
            token.advance(now);
            for clip in token.speech() {
                // The end is counted from the start in samples, so that rounding the two
                // instants separately can never reach past the clip.
                let begin = self.index_of(clip.start);
                let played = clip.cut.map_or(clip.samples.len() as i64, |cut| {
                    (self.index_of(cut) - begin).clamp(0, clip.samples.len() as i64)
                });
                for (i, sample) in mix.iter_mut().enumerate() {
                    let k = first + i as i64 - begin;
                    if (0..played).contains(&k)
                        && let Some(value) = clip.samples.get(k as usize)
                    {
                        *sample += value;
                    }
                }
            }
            let heard_until =
                self.start + Duration::from_secs_f64(total as f64 / f64::from(self.sample_rate));
            token.forget_speech_before(heard_until, self.sample_rate);
        }
        let samples = self.room.process(&mix);
        let captured_at = self.start
            + Duration::from_secs_f64(self.samples_done as f64 / f64::from(self.sample_rate));
        self.samples_done = total;
        self.seq += 1;
        Ok(AudioBlock {
            seq: self.seq,
            captured_at,
            sample_rate: self.sample_rate,
            samples: samples.into(),
        })
    }
}
