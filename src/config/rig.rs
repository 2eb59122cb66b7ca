//! Rig files: station facts — which backend, camera and relay settings, the unit on the bench
//! (its serial number, where its secret is read from, which oracle judges it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::calibration::LcdCalibration;
use super::raw::{RawOptics, RawRig, RawSim};
use super::token::{OtpKind, TokenProfile};
use super::{ConfigError, Problems, source};

/// Which backends drive the bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The simulated token and its world.
    Sim,
    /// Real hardware (GPIO/USB relays, V4L2 camera, serial console).
    Lab,
}

/// Encoding of a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretEncoding {
    /// RFC 4648 base32.
    Base32,
    /// Hexadecimal.
    Hex,
}

/// Where the unit's OTP secret is read from. The secret itself is never kept in config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A file.
    File {
        /// Path (resolved against the rig file).
        path: PathBuf,
        /// Encoding.
        encoding: SecretEncoding,
    },
    /// An environment variable.
    Env {
        /// Variable name.
        name: String,
        /// Encoding.
        encoding: SecretEncoding,
    },
}

/// Which oracle judges the codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OracleChoice {
    /// RFC 6238 with the secret.
    Totp {
        /// Accepted drift, time steps each way.
        drift_window: u32,
    },
    /// RFC 4226 with the secret and a persisted counter.
    Hotp {
        /// File keeping the counter between runs.
        counter_file: Option<PathBuf>,
        /// Counter to start from when the file does not exist.
        counter: u64,
    },
    /// Format and stability only (secret unknown).
    Properties,
    /// A lab command asked about each code.
    External {
        /// The command and its arguments.
        argv: Vec<String>,
    },
}

impl OracleChoice {
    /// The oracle's name for records.
    pub fn name(&self) -> &'static str {
        match self {
            OracleChoice::Totp { .. } => "totp",
            OracleChoice::Hotp { .. } => "hotp",
            OracleChoice::Properties => "properties",
            OracleChoice::External { .. } => "external",
        }
    }
}

/// The unit on the bench.
#[derive(Debug, Clone, PartialEq)]
pub struct RigToken {
    /// The profile of its kind.
    pub profile: TokenProfile,
    /// Its serial number.
    pub serial: String,
    /// Where its secret is read from, if known.
    pub secret: Option<SecretSource>,
    /// Which oracle judges it.
    pub oracle: OracleChoice,
}

/// A rectangle in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PixelRect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// Camera settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CameraConfig {
    /// Lab: the V4L2 device.
    pub device: Option<String>,
    /// Frames per second.
    pub fps: f64,
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// A hand-set starting window for the LCD reader (it finds the window itself without one).
    pub lcd_region: Option<PixelRect>,
    /// The window `otprig calibrate` stored beside the rig file; preferred over `lcd_region`.
    pub calibration: Option<LcdCalibration>,
    /// Consecutive agreeing frames that make a display event.
    pub stable_frames: u32,
}

impl CameraConfig {
    /// Time between frames.
    pub fn frame_period(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.fps)
    }
}

/// One relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayConfig {
    /// Lab: output line or channel.
    pub line: Option<u32>,
    /// Lab: sense line; sim: whether a sense line is simulated.
    pub sense_line: Option<u32>,
    /// Whether press feedback exists for this relay.
    pub has_sense: bool,
    /// Energised by a low level.
    pub active_low: bool,
}

/// Relay board settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RelaysConfig {
    /// Lab: `gpio` or `usb-serial`.
    pub board: Option<String>,
    /// Lab: chip or port.
    pub device: Option<String>,
    /// Wait before reading press feedback.
    pub settle: Duration,
    /// button → relay.
    pub buttons: BTreeMap<String, RelayConfig>,
}

/// The token's console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// Lab: the serial port.
    pub device: Option<String>,
    /// Lab: baud rate.
    pub baud: u32,
}

/// A rig-side fault the simulated world can play, to test the rig's error paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SimRigFault {
    /// Something covers the lens: almost black frames.
    LensCovered,
    /// The camera is out of focus.
    OutOfFocus,
    /// The light floods the sensor.
    OverExposed,
    /// The relay's contact never closes (its sense line says so).
    RelayStuckOpen,
}

impl SimRigFault {
    /// All rig faults with their names.
    pub const ALL: [(&'static str, SimRigFault); 4] = [
        ("lens-covered", SimRigFault::LensCovered),
        ("out-of-focus", SimRigFault::OutOfFocus),
        ("over-exposed", SimRigFault::OverExposed),
        ("relay-stuck-open", SimRigFault::RelayStuckOpen),
    ];
}

/// Optics and light of the simulated camera.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpticsConfig {
    /// Gaussian blur sigma, pixels.
    pub blur: f32,
    /// Sensor noise, grey levels.
    pub noise: f32,
    /// Tilt, degrees.
    pub tilt_deg: f32,
    /// Light level (1 nominal).
    pub light: f32,
    /// Light gradient across the frame.
    pub gradient: f32,
}

/// The simulated world.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// The world's UTC at the start; `None` = 2026-01-01T00:00:00Z plus a seeded offset.
    pub start_utc: Option<SystemTime>,
    /// Relay contact latency.
    pub relay_latency: Duration,
    /// Key press to LCD change.
    pub display_latency: Duration,
    /// Camera optics.
    pub optics: OpticsConfig,
    /// Rig faults to play.
    pub rig_faults: Vec<SimRigFault>,
    /// The voice pack the simulated token speaks from.
    pub voice: Option<PathBuf>,
    /// Background noise of the simulated room, dBFS RMS.
    pub room_noise_dbfs: f32,
    /// Echo of the simulated room (0 none, 1 strong).
    pub room_echo: f32,
}

/// The microphone.
#[derive(Debug, Clone, PartialEq)]
pub struct MicrophoneConfig {
    /// Lab: the ALSA device.
    pub device: Option<String>,
    /// Samples per second.
    pub sample_rate: u32,
    /// Length of one capture block.
    pub block: Duration,
    /// The listener's voice pack for this token kind.
    pub voice_pack: PathBuf,
}

/// A file kept beside a rig file, named after it: `rig/x.yaml` → `rig/x.<suffix>` (its
/// calibration, the calibration's picture, an enrolled voice pack).
pub fn file_beside(rig_file: &Path, suffix: &str) -> PathBuf {
    let stem = rig_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rig".to_string());
    rig_file.with_file_name(format!("{stem}.{suffix}"))
}

/// A validated rig file.
#[derive(Debug, Clone, PartialEq)]
pub struct RigConfig {
    /// Its name.
    pub name: String,
    /// Its file.
    pub file: PathBuf,
    /// Sim or lab.
    pub backend: Backend,
    /// The unit on the bench.
    pub token: RigToken,
    /// Camera.
    pub camera: CameraConfig,
    /// Relays.
    pub relays: RelaysConfig,
    /// Console, if wired.
    pub console: Option<ConsoleConfig>,
    /// Microphone, if the token speaks.
    pub microphone: Option<MicrophoneConfig>,
    /// The simulated world (sim only).
    pub sim: Option<SimConfig>,
    /// How long tasks get to stop.
    pub shutdown_grace: Duration,
}

impl RigConfig {
    /// Reads and validates a rig file and the token profile it names.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let text = source::read(file)?;
        Self::from_text(file, &text)
    }

    /// Validates rig text; relative paths are resolved against `file`'s folder.
    pub fn from_text(file: &Path, text: &str) -> Result<Self, ConfigError> {
        let (value, index) = source::parse_value(file, text)?;
        let raw: RawRig = source::deserialize_all(file, &value, &index)?;
        let base = file.parent().unwrap_or(Path::new("."));
        // The profile is read first: its problems belong to its own file.
        let profile_path = raw.token.as_ref().map(|t| match (&t.profile, &t.kind) {
            (Some(p), _) => base.join(p),
            (None, Some(kind)) => base.join("tokens").join(format!("{kind}.yaml")),
            (None, None) => base.join("tokens/unknown.yaml"),
        });
        let profile = match &profile_path {
            Some(path) => Some(TokenProfile::load(path)?),
            None => None,
        };
        let mut problems = Problems::new(file, &index);
        let rig = validate(file, base, raw, profile, &mut problems);
        let mut rig = problems
            .finish(rig)?
            .ok_or_else(|| unreachable_missing(file))?;
        rig.camera.calibration =
            LcdCalibration::load_for(file, &rig.name, [rig.camera.width, rig.camera.height])?;
        Ok(rig)
    }
}

fn unreachable_missing(file: &Path) -> ConfigError {
    ConfigError::Invalid {
        file: file.to_path_buf(),
        problems: vec![super::Problem {
            line: None,
            column: None,
            path: ".".into(),
            message: "missing `token`".into(),
        }],
    }
}

fn encoding(text: Option<&str>, path: &str, problems: &mut Problems<'_>) -> SecretEncoding {
    match text {
        None | Some("base32") => SecretEncoding::Base32,
        Some("hex") => SecretEncoding::Hex,
        Some(other) => {
            problems.push(
                path,
                format!("unknown encoding `{other}`, expected base32 or hex"),
            );
            SecretEncoding::Base32
        }
    }
}

fn validate(
    file: &Path,
    base: &Path,
    raw: RawRig,
    profile: Option<TokenProfile>,
    problems: &mut Problems<'_>,
) -> Option<RigConfig> {
    if raw.kind != "rig" {
        problems.push("kind", format!("expected `rig`, found `{}`", raw.kind));
    }
    let name = raw.name.unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let backend = match raw.backend.as_deref() {
        Some("sim") => Backend::Sim,
        Some("lab") => Backend::Lab,
        Some(other) => {
            problems.push(
                "backend",
                format!("unknown backend `{other}`, expected sim or lab"),
            );
            Backend::Sim
        }
        None => {
            problems.push(".", "missing `backend` (sim or lab)");
            Backend::Sim
        }
    };
    let Some(raw_token) = raw.token else {
        problems.push(".", "missing `token`");
        return None;
    };
    let mut profile = profile?;
    match raw_token.otp.as_deref() {
        None => {}
        Some("time") => profile.otp.kind = OtpKind::Time,
        Some("event") => profile.otp.kind = OtpKind::Event,
        Some("unknown") => profile.otp.kind = OtpKind::Unknown,
        Some(other) => problems.push(
            "token.otp",
            format!("unknown OTP kind `{other}`, expected time, event or unknown"),
        ),
    }
    if let Some(kind) = &raw_token.kind
        && *kind != profile.name
    {
        problems.push(
            "token.kind",
            format!(
                "`{kind}` differs from the profile's name `{}`",
                profile.name
            ),
        );
    }
    let serial = raw_token.serial.unwrap_or_else(|| {
        problems.push("token", "missing `serial`");
        String::new()
    });
    let secret = raw_token.secret.and_then(|s| match (s.file, s.env) {
        (Some(path), None) => Some(SecretSource::File {
            path: base.join(path),
            encoding: encoding(s.encoding.as_deref(), "token.secret.encoding", problems),
        }),
        (None, Some(name)) => Some(SecretSource::Env {
            name,
            encoding: encoding(s.encoding.as_deref(), "token.secret.encoding", problems),
        }),
        _ => {
            problems.push("token.secret", "give exactly one of `file` or `env`");
            None
        }
    });
    let default_oracle = match (profile.otp.kind, secret.is_some()) {
        (OtpKind::Time, true) => "totp",
        (OtpKind::Event, true) => "hotp",
        _ => "properties",
    };
    let oracle = match raw_token.oracle.as_deref().unwrap_or(default_oracle) {
        "totp" => OracleChoice::Totp {
            drift_window: raw_token.drift_window.unwrap_or(1),
        },
        "hotp" => OracleChoice::Hotp {
            counter_file: raw_token.counter_file.map(|p| base.join(p)),
            counter: raw_token.counter.unwrap_or(0),
        },
        "properties" => OracleChoice::Properties,
        "external" => match raw_token.external {
            Some(argv) if !argv.is_empty() => OracleChoice::External { argv },
            _ => {
                problems.push(
                    "token",
                    "oracle `external` needs `external: [command, args...]`",
                );
                OracleChoice::Properties
            }
        },
        other => {
            problems.push(
                "token.oracle",
                format!("unknown oracle `{other}`, expected totp, hotp, properties or external"),
            );
            OracleChoice::Properties
        }
    };
    if matches!(
        oracle,
        OracleChoice::Totp { .. } | OracleChoice::Hotp { .. }
    ) && secret.is_none()
    {
        problems.push(
            "token",
            format!("oracle `{}` needs `secret`", oracle.name()),
        );
    }
    let raw_camera = raw.camera;
    let camera = match raw_camera {
        Some(c) => {
            let fps = c.fps.unwrap_or(15.0);
            if !(1.0..=240.0).contains(&fps) {
                problems.push(
                    "camera.fps",
                    format!("{fps} frames per second is outside 1 to 240"),
                );
            }
            let stable_frames = c.stable_frames.unwrap_or(3);
            if stable_frames == 0 {
                problems.push(
                    "camera.stable_frames",
                    "at least one frame must make a display event",
                );
            }
            let (width, height) = (c.width.unwrap_or(640), c.height.unwrap_or(480));
            let lcd_region = c.lcd_region.map(|r| PixelRect {
                x: r.x,
                y: r.y,
                width: r.width,
                height: r.height,
            });
            if let Some(r) = lcd_region
                && (r.x + r.width > width
                    || r.y + r.height > height
                    || r.width == 0
                    || r.height == 0)
            {
                problems.push(
                    "camera.lcd_region",
                    format!("the region lies outside the {width}×{height} frame or is empty"),
                );
            }
            CameraConfig {
                device: c.device,
                fps,
                width,
                height,
                lcd_region,
                calibration: None,
                stable_frames,
            }
        }
        None => {
            problems.push(".", "missing `camera`");
            CameraConfig {
                device: None,
                fps: 15.0,
                width: 640,
                height: 480,
                lcd_region: None,
                calibration: None,
                stable_frames: 3,
            }
        }
    };
    let relays = match raw.relays {
        Some(r) => {
            let mut buttons = BTreeMap::new();
            for (button, relay) in r.buttons.unwrap_or_default() {
                if !profile.buttons.contains(&button) {
                    problems.push(
                        format!("relays.buttons.{button}"),
                        format!(
                            "`{button}` is not a button of {} ({})",
                            profile.name,
                            profile.buttons.join(", ")
                        ),
                    );
                }
                let has_sense = match backend {
                    Backend::Sim => relay.sense.unwrap_or(true),
                    Backend::Lab => relay.sense_line.is_some(),
                };
                if backend == Backend::Lab && relay.line.is_none() {
                    problems.push(format!("relays.buttons.{button}"), "missing `line`");
                }
                buttons.insert(
                    button,
                    RelayConfig {
                        line: relay.line,
                        sense_line: relay.sense_line,
                        has_sense,
                        active_low: relay.active_low.unwrap_or(false),
                    },
                );
            }
            for button in &profile.buttons {
                if !buttons.contains_key(button) {
                    problems.push(
                        "relays.buttons",
                        format!("no relay for the token's button `{button}`"),
                    );
                }
            }
            RelaysConfig {
                board: r.board,
                device: r.device,
                settle: r.settle.map_or(Duration::from_millis(30), |d| d.0),
                buttons,
            }
        }
        None => {
            problems.push(".", "missing `relays`");
            RelaysConfig {
                board: None,
                device: None,
                settle: Duration::from_millis(30),
                buttons: BTreeMap::new(),
            }
        }
    };
    let console = raw.console.map(|c| ConsoleConfig {
        device: c.device,
        baud: c.baud.unwrap_or(115_200),
    });
    let microphone = raw.microphone.and_then(|m| {
        let sample_rate = m.sample_rate.unwrap_or(16_000);
        if !(8_000..=192_000).contains(&sample_rate) {
            problems.push(
                "microphone.sample_rate",
                format!("{sample_rate} Hz is outside 8000 to 192000"),
            );
        }
        let Some(pack) = m.voice_pack else {
            problems.push(
                "microphone",
                "missing `voice_pack` (the listener's enrolment pack)",
            );
            return None;
        };
        Some(MicrophoneConfig {
            device: m.device,
            sample_rate,
            block: m.block.map_or(Duration::from_millis(20), |d| d.0),
            voice_pack: base.join(pack),
        })
    });
    if let Some(speech) = &profile.speech
        && (serial.len() != speech.serial_digits || !serial.bytes().all(|b| b.is_ascii_digit()))
    {
        problems.push(
            "token.serial",
            format!(
                "{} reads a serial number of {} digits; `{serial}` is not one",
                profile.name, speech.serial_digits
            ),
        );
    }
    if profile.speech.is_some() && microphone.is_none() {
        problems.push(
            ".",
            format!("{} speaks: the rig needs a `microphone`", profile.name),
        );
    }
    let sim = match (backend, raw.sim) {
        (Backend::Sim, sim) => Some(validate_sim(sim, base, problems)),
        (Backend::Lab, Some(_)) => {
            problems.push(
                "sim",
                "a `sim` section belongs to a rig with `backend: sim`",
            );
            None
        }
        (Backend::Lab, None) => None,
    };
    Some(RigConfig {
        name,
        file: file.to_path_buf(),
        backend,
        token: RigToken {
            profile,
            serial,
            secret,
            oracle,
        },
        camera,
        relays,
        console,
        microphone,
        sim,
        shutdown_grace: raw.shutdown_grace.map_or(Duration::from_secs(5), |d| d.0),
    })
}

fn validate_sim(raw: Option<RawSim>, base: &Path, problems: &mut Problems<'_>) -> SimConfig {
    let raw = raw.unwrap_or(RawSim {
        start_utc: None,
        relay_latency: None,
        display_latency: None,
        optics: None,
        rig_faults: None,
        voice: None,
        room: None,
    });
    let start_utc = raw
        .start_utc
        .and_then(|text| match humantime::parse_rfc3339(&text) {
            Ok(t) => Some(t),
            Err(e) => {
                problems.push(
                    "sim.start_utc",
                    format!("invalid RFC 3339 time `{text}`: {e}"),
                );
                None
            }
        });
    let optics = optics(raw.optics);
    let mut rig_faults = Vec::new();
    for (i, name) in raw.rig_faults.unwrap_or_default().iter().enumerate() {
        match SimRigFault::ALL.iter().find(|(n, _)| n == name) {
            Some((_, fault)) => rig_faults.push(*fault),
            None => {
                let names: Vec<&str> = SimRigFault::ALL.iter().map(|(n, _)| *n).collect();
                problems.push(
                    format!("sim.rig_faults[{i}]"),
                    format!(
                        "unknown rig fault `{name}`, expected one of {}",
                        names.join(", ")
                    ),
                );
            }
        }
    }
    SimConfig {
        start_utc,
        relay_latency: raw.relay_latency.map_or(Duration::from_millis(8), |d| d.0),
        display_latency: raw
            .display_latency
            .map_or(Duration::from_millis(60), |d| d.0),
        optics,
        rig_faults,
        voice: raw.voice.map(|v| base.join(v)),
        room_noise_dbfs: raw
            .room
            .as_ref()
            .and_then(|r| r.noise_dbfs)
            .unwrap_or(-55.0),
        room_echo: raw.room.as_ref().and_then(|r| r.echo).unwrap_or(0.3),
    }
}

fn optics(raw: Option<RawOptics>) -> OpticsConfig {
    let raw = raw.unwrap_or(RawOptics {
        blur: None,
        noise: None,
        tilt_deg: None,
        light: None,
        gradient: None,
    });
    OpticsConfig {
        blur: raw.blur.unwrap_or(0.8),
        noise: raw.noise.unwrap_or(3.0),
        tilt_deg: raw.tilt_deg.unwrap_or(1.5),
        light: raw.light.unwrap_or(1.0),
        gradient: raw.gradient.unwrap_or(0.15),
    }
}
