//! The simulator: a virtual token (`token`) plus a fake world (`devices`, `scene`) that renders
//! camera frames and console lines from its state through the optics and timing of a bench.
//! `app` is the one place that picks it; perception and the runner only see its frames.

pub mod devices;
pub mod faults;
pub mod photo;
pub mod room;
pub mod scene;
pub mod token;
pub mod voice;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

use self::devices::{SimButtons, SimCamera, SimConsole, SimMicrophone, SimRelay};
use self::faults::Fault;
use self::room::{Room, RoomConfig};
use self::scene::{Optics, SceneRenderer};
use self::token::SimToken;
use self::token::Speaker;
use self::voice::VoiceBank;
use super::clock::{AnchoredClock, from_unix_seconds};
use super::{DeviceId, Rig, RigError};
use crate::config::rig::{RigConfig, SimConfig, SimRigFault};
use crate::oracle::Secret;

/// What varies a simulated world between runs.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Seeds every random choice of the world.
    pub seed: u64,
    /// Device faults the token plays.
    pub faults: Vec<Fault>,
}

/// The world's UTC at the start when the rig file gives none: 2026-01-01T00:00:00Z.
const DEFAULT_START_UNIX: u64 = 1_767_225_600;

/// Builds a simulated rig: one token and its devices.
pub fn build(
    config: &RigConfig,
    sim: &SimConfig,
    secret: Secret,
    options: &SimOptions,
) -> Result<Rig, RigError> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let now = Instant::now();
    let step_ms = config.token.profile.otp.step.as_millis().max(1) as u64;
    // Whole time steps (so the codes differ from seed to seed) plus a phase within one.
    let start_utc = sim.start_utc.unwrap_or_else(|| {
        from_unix_seconds(DEFAULT_START_UNIX)
            + Duration::from_millis(
                step_ms * rng.random_range(0..100_000) + rng.random_range(0..step_ms),
            )
    });
    let speaker = match (&config.token.profile.speech, &config.microphone) {
        (Some(_), Some(microphone)) => {
            let dir = sim.voice.clone().ok_or_else(|| RigError::Device {
                device: DeviceId::new("speaker", "token", "sim"),
                message: format!(
                    "{}: the simulated token speaks but `sim.voice` names no voice pack",
                    config.file.display()
                ),
            })?;
            let voice =
                VoiceBank::load(&dir, microphone.sample_rate).map_err(|e| RigError::Device {
                    device: DeviceId::new("speaker", "token", dir.display().to_string()),
                    message: e.to_string(),
                })?;
            Some(Speaker {
                voice: Arc::new(voice),
                serial: config.token.serial.clone(),
                sample_rate: microphone.sample_rate,
            })
        }
        _ => None,
    };
    let token = SimToken::new(
        config.token.profile.clone(),
        secret,
        options.faults.clone(),
        now,
        start_utc,
        sim.display_latency,
        speaker,
    );
    let token = Arc::new(Mutex::new(token));
    let stuck = sim.rig_faults.contains(&SimRigFault::RelayStuckOpen);
    let relays: BTreeMap<String, SimRelay> = config
        .relays
        .buttons
        .iter()
        .map(|(button, relay)| (button.clone(), SimRelay::new(relay.has_sense, stuck)))
        .collect();
    let buttons = SimButtons::new(token.clone(), relays, sim.relay_latency);
    let mut optics = Optics {
        blur: sim.optics.blur,
        noise: sim.optics.noise,
        tilt_deg: sim.optics.tilt_deg,
        light: sim.optics.light,
        gradient: sim.optics.gradient,
    };
    for fault in &sim.rig_faults {
        match fault {
            SimRigFault::LensCovered => optics.light = 0.03,
            SimRigFault::OutOfFocus => optics.blur = 6.0,
            SimRigFault::OverExposed => optics.light = 4.0,
            SimRigFault::RelayStuckOpen => {}
        }
    }
    let period = config.camera.frame_period();
    let renderer = SceneRenderer::new(
        config.camera.width,
        config.camera.height,
        optics,
        rng.random(),
    );
    let camera = SimCamera::new(token.clone(), renderer, period);
    let camera_phase = Duration::from_secs_f64(rng.random_range(0.0..period.as_secs_f64()));
    let microphone: Option<Box<dyn crate::rig::Microphone>> = match &config.microphone {
        Some(microphone) if config.token.profile.speech.is_some() => {
            let room = Room::new(
                RoomConfig {
                    sample_rate: microphone.sample_rate,
                    noise_dbfs: sim.room_noise_dbfs,
                    echo: sim.room_echo,
                    ..RoomConfig::default()
                },
                rng.random(),
            );
            Some(Box::new(SimMicrophone::new(
                token.clone(),
                room,
                microphone.sample_rate,
                microphone.block,
            )))
        }
        _ => None,
    };
    Ok(Rig {
        buttons: Arc::new(Mutex::new(Box::new(buttons))),
        camera: Box::new(camera),
        camera_phase,
        console: Some(Box::new(SimConsole::new(token))),
        microphone,
        clock: Arc::new(AnchoredClock::new(now, start_utc)),
    })
}

/// The region of the LCD's digits that the simulated camera renders, for a frame size.
pub fn lcd_digits_region(width: u32, height: u32, optics: Optics) -> (u32, u32, u32, u32) {
    SceneRenderer::new(width, height, optics, 0).lcd_digits_region()
}

/// The world UTC a simulated run starts from, when no rig file says otherwise.
pub fn default_start_utc() -> SystemTime {
    from_unix_seconds(DEFAULT_START_UNIX)
}
