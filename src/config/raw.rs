//! Serde mirrors of the YAML files, exactly as written. Every struct denies unknown fields; most
//! fields are optional here so that requiredness is checked in validation, where every problem
//! of a file is collected at once (a serde error stops at the first).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A duration written with its unit (`150ms`, `2s`, `1m 30s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawDuration(pub Duration);

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = RawDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration with its unit, like 150ms or 2s")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDuration, E> {
                humantime::parse_duration(v.trim())
                    .map(RawDuration)
                    .map_err(|e| {
                        E::custom(format!(
                            "invalid duration `{v}`: {e}; write it with its unit, like 150ms or 2s"
                        ))
                    })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDuration, E> {
                Err(E::custom(format!(
                    "bare number {v} has no unit; write it like {v}s or {v}ms"
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDuration, E> {
                Err(E::custom(format!(
                    "bare number {v} has no unit; write it like {v}s or {v}ms"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDuration, E> {
                Err(E::custom(format!(
                    "bare number {v} has no unit; write it like {v}s or {v}ms"
                )))
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// Reads a key that may be written with no value (`power_off:`) as present with its defaults.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(deserializer).map(|value| Some(value.unwrap_or_default()))
}

/// Where a fact comes from: stated in the reference texts, or chosen by us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Stated in `shared/reference/`.
    Seed,
    /// Not stated there; chosen and written down.
    Assumed,
}

/// Only the `kind:` of a file, read first to pick the schema.
#[derive(Debug, Deserialize)]
pub struct RawKind {
    /// `rig`, `token`, `scenario` or `requirements`.
    pub kind: Option<String>,
}

// ---------------------------------------------------------------- rig

/// A rig file: station facts only.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRig {
    /// Always `rig`.
    pub kind: String,
    /// The rig's name, for reports.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// `sim` or `lab`.
    pub backend: Option<String>,
    /// The unit on the bench.
    pub token: Option<RawRigToken>,
    /// Camera settings.
    pub camera: Option<RawCamera>,
    /// Relay board settings.
    pub relays: Option<RawRelays>,
    /// The token's console, if wired.
    pub console: Option<RawConsole>,
    /// The microphone (or the headphone jack as a line input), if the token speaks.
    pub microphone: Option<RawMicrophone>,
    /// The simulated world (backend `sim` only).
    pub sim: Option<RawSim>,
    /// How long tasks get to stop at shutdown (default 5s).
    pub shutdown_grace: Option<RawDuration>,
}

/// The unit on the bench.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRigToken {
    /// The token kind (profile name), e.g. `mitid-code-display`.
    pub kind: Option<String>,
    /// Path of the token profile, relative to the rig file (default `tokens/<kind>.yaml`).
    pub profile: Option<String>,
    /// The unit's serial number.
    pub serial: Option<String>,
    /// Where the OTP secret is read from; absent for real tokens whose secret is unknown.
    pub secret: Option<RawSecret>,
    /// `totp`, `hotp`, `properties` or `external` (default: `totp`/`hotp` from the profile's
    /// OTP kind when a secret is given, else `properties`).
    pub oracle: Option<String>,
    /// HOTP only: file that keeps the counter between runs (relative to the rig file).
    pub counter_file: Option<String>,
    /// HOTP only: the counter to start from when the counter file does not exist yet.
    pub counter: Option<u64>,
    /// External oracle: the command and its arguments; `{code}` and `{utc}` are substituted.
    pub external: Option<Vec<String>>,
    /// How many time steps of clock drift the oracle accepts each way (default 1).
    pub drift_window: Option<u32>,
    /// This unit's OTP kind when it differs from its profile's: `time`, `event` or `unknown`.
    pub otp: Option<String>,
}

/// Where a secret is read from. Exactly one of the fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecret {
    /// A file holding the secret (relative to the rig file).
    pub file: Option<String>,
    /// An environment variable holding the secret.
    pub env: Option<String>,
    /// `base32` (default) or `hex`.
    pub encoding: Option<String>,
}

/// A rectangle in frame pixels.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCamera {
    /// Lab backend: the V4L2 device, e.g. `/dev/video0`.
    pub device: Option<String>,
    /// Frames per second.
    pub fps: Option<f64>,
    /// Frame width in pixels.
    pub width: Option<u32>,
    /// Frame height in pixels.
    pub height: Option<u32>,
    /// Optional hand-set starting window for the LCD reader (it locates the LCD without one).
    pub lcd_region: Option<RawRegion>,
    /// How many consecutive frames must agree before a display event is emitted (default 3).
    pub stable_frames: Option<u32>,
}

/// Relay board settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelays {
    /// Lab backend: `gpio` or `usb-serial`.
    pub board: Option<String>,
    /// Lab backend: the GPIO chip (`gpiochip0`) or serial port (`/dev/ttyUSB0`).
    pub device: Option<String>,
    /// How long after closing a relay its sense line is read (default 30ms).
    pub settle: Option<RawDuration>,
    /// Each token button and the relay that presses it.
    pub buttons: Option<BTreeMap<String, RawRelay>>,
}

/// One relay.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelay {
    /// Lab backend: the output line or relay channel.
    pub line: Option<u32>,
    /// The sense line confirming the contact closed, if wired (sim: `true` to simulate one).
    pub sense_line: Option<u32>,
    /// Sim backend: whether the simulated relay has press feedback (default true).
    pub sense: Option<bool>,
    /// Whether the relay is energised by a low level (default false).
    pub active_low: Option<bool>,
}

/// The microphone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMicrophone {
    /// Lab backend: the ALSA device, e.g. `hw:1,0`.
    pub device: Option<String>,
    /// Samples per second (default 16000).
    pub sample_rate: Option<u32>,
    /// Length of one capture block (default 20ms).
    pub block: Option<RawDuration>,
    /// The listener's voice pack for this token kind (relative to the rig file).
    pub voice_pack: Option<String>,
}

/// The token's console.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConsole {
    /// Lab backend: the serial port.
    pub device: Option<String>,
    /// Lab backend: the baud rate.
    pub baud: Option<u32>,
}

/// The simulated world.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSim {
    /// UTC time of the world at the start of the run (RFC 3339; default 2026-01-01T00:00:00Z
    /// plus a seeded offset within one time step).
    pub start_utc: Option<String>,
    /// How long a relay takes to close its contact (default 8ms).
    pub relay_latency: Option<RawDuration>,
    /// Time from a key press to the LCD showing the result (default 60ms).
    pub display_latency: Option<RawDuration>,
    /// Optics and light of the simulated camera.
    pub optics: Option<RawOptics>,
    /// Rig faults to simulate (not token faults), for testing the rig's own error paths.
    pub rig_faults: Option<Vec<String>>,
    /// The voice pack the simulated token speaks from (relative to the rig file).
    pub voice: Option<String>,
    /// The room between the token's speaker and the microphone.
    pub room: Option<RawRoom>,
}

/// The simulated room.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoom {
    /// Background noise, dBFS RMS.
    pub noise_dbfs: Option<f32>,
    /// Amount of room echo (0 none, 1 strong).
    pub echo: Option<f32>,
}

/// Optics and light of the simulated camera.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOptics {
    /// Gaussian blur sigma in pixels.
    pub blur: Option<f32>,
    /// Sensor noise standard deviation in grey levels.
    pub noise: Option<f32>,
    /// Tilt of the token in degrees.
    pub tilt_deg: Option<f32>,
    /// Overall light level (1.0 = nominal).
    pub light: Option<f32>,
    /// Left-to-right light gradient (0 = even).
    pub gradient: Option<f32>,
}

// ---------------------------------------------------------------- token profile

/// A token profile: the facts of a token kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawToken {
    /// Always `token`.
    pub kind: String,
    /// The kind's name, e.g. `mitid-code-display`.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// The physical keys.
    pub buttons: Option<Vec<String>>,
    /// The OTP the token makes.
    pub otp: Option<RawOtp>,
    /// Number of digit positions on the LCD.
    pub display_digits: Option<u32>,
    /// Automatic switch-off.
    pub auto_off: Option<RawAutoOff>,
    /// Default press and chord timing.
    pub timing: Option<RawTiming>,
    /// How the token speaks, for tokens that do.
    pub speech: Option<RawSpeech>,
    /// The state × key table: state → key or chord (`red+0`) → what happens.
    pub table: Option<BTreeMap<String, BTreeMap<String, RawCell>>>,
    /// Other behaviour facts (name → fact), each `seed` or `assumed`.
    pub facts: Option<BTreeMap<String, RawFact>>,
}

/// The OTP a token makes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOtp {
    /// `time`, `event` or `unknown`.
    pub kind: Option<String>,
    /// Time step (time-based only; default 30s).
    pub step: Option<RawDuration>,
    /// Digits (default 6).
    pub digits: Option<u32>,
    /// `sha1` (default), `sha256` or `sha512`.
    pub algorithm: Option<String>,
    /// `seed` or `assumed`.
    pub source: Option<Source>,
    /// Why, when assumed.
    pub note: Option<String>,
}

/// Automatic switch-off.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAutoOff {
    /// Time from the last key release to switching off.
    pub after: Option<RawDuration>,
    /// Allowed deviation each way (default 1s).
    pub tolerance: Option<RawDuration>,
    /// `seed` or `assumed`.
    pub source: Option<Source>,
    /// Why, when assumed, or the reference sentence.
    pub note: Option<String>,
}

/// Default press and chord timing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTiming {
    /// How long a press holds the key (default 150ms).
    pub press: Option<RawDuration>,
    /// Gap between the edges of a chord (default 80ms).
    pub chord_gap: Option<RawDuration>,
}

/// How a speaking token speaks: languages, volume and speed steps.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpeech {
    /// Languages it speaks (`da`, `en`).
    pub languages: Option<Vec<String>>,
    /// The language of a new unit.
    pub default_language: Option<String>,
    /// Volume steps.
    pub volume: Option<RawSteps>,
    /// Reading-speed steps.
    pub speed: Option<RawSteps>,
    /// From the key release to the start of speech.
    pub latency: Option<RawDuration>,
    /// Digits of the serial number read aloud.
    pub serial_digits: Option<u32>,
    /// Whether volume, speed and language survive switching off.
    pub settings_survive_off: Option<bool>,
    /// `seed` or `assumed`.
    pub source: Option<Source>,
    /// What was chosen and why.
    pub note: Option<String>,
}

/// A stepped setting: `levels` in order from lowest to highest, and the default's index.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSteps {
    /// Volume: gain in dB per step; speed: the reading speed factor per step.
    pub levels: Option<Vec<f64>>,
    /// The level of a new unit, 1-based.
    pub default: Option<u32>,
    /// What pressing beyond an end does: `stay` (default).
    pub at_ends: Option<String>,
}

/// One cell of the state × key table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCell {
    /// What the token does, e.g. `show_code`, `power_off`, `nothing`.
    pub action: Option<String>,
    /// The state it is in afterwards.
    pub next: Option<String>,
    /// `seed` or `assumed`.
    pub source: Option<Source>,
    /// The requirement id this cell is verified by.
    pub requirement: Option<String>,
    /// Why, when assumed.
    pub note: Option<String>,
}

/// A behaviour fact that is not a key press.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFact {
    /// The fact.
    pub value: Option<serde_yaml::Value>,
    /// `seed` or `assumed`.
    pub source: Option<Source>,
    /// Why, when assumed, or the reference sentence.
    pub note: Option<String>,
}

// ---------------------------------------------------------------- requirements

/// The requirements catalogue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequirements {
    /// Always `requirements`.
    pub kind: String,
    /// id → requirement.
    pub requirements: Option<BTreeMap<String, RawRequirement>>,
}

/// One requirement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequirement {
    /// The token kind it applies to.
    pub token: Option<String>,
    /// The quoted reference sentence, or the stated assumption.
    pub text: Option<String>,
    /// `seed` or `assumed`.
    pub source: Option<Source>,
    /// Which reference file the sentence is from.
    pub reference: Option<String>,
}

// ---------------------------------------------------------------- scenario

/// A scenario file: flow only.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Always `scenario`.
    pub kind: String,
    /// Short name, for reports (default: the file stem).
    pub name: Option<String>,
    /// What it checks and why.
    pub description: Option<String>,
    /// The token kind it is written for.
    pub token: Option<String>,
    /// Requirement ids it verifies.
    pub verifies: Option<Vec<String>>,
    /// Steps that bring the token to the starting state.
    pub setup: Option<Vec<RawStep>>,
    /// The test itself.
    pub steps: Option<Vec<RawStep>>,
    /// Steps that always run and leave the token off with its settings as found.
    pub teardown: Option<Vec<RawStep>>,
}

/// One step: exactly one action key, plus an optional name.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// A label for reports.
    pub name: Option<String>,
    /// Press and release one key.
    pub press: Option<RawPress>,
    /// Press keys in order and release them in reverse (`[red, "0"]`).
    pub chord: Option<RawChord>,
    /// Hold one key down for a while.
    pub hold: Option<RawHold>,
    /// Do nothing for a while.
    pub wait: Option<RawDuration>,
    /// Wait for the next OTP time step to begin.
    #[serde(default, deserialize_with = "present")]
    pub wait_for_step_start: Option<RawStepStart>,
    /// Expect the LCD to show something before a deadline.
    pub expect_display: Option<RawExpectDisplay>,
    /// Expect the LCD to go blank.
    pub expect_off: Option<RawExpectOff>,
    /// Expect a console line matching a pattern.
    pub expect_log: Option<RawExpectLog>,
    /// Expect the token to speak.
    pub expect_speech: Option<RawExpectSpeech>,
    /// Expect the token to stay silent.
    pub expect_silence: Option<RawExpectSilence>,
    /// Measure a quantity with limits.
    pub measure: Option<RawMeasure>,
    /// Repeat steps.
    pub repeat: Option<RawRepeat>,
    /// Make sure the token is off (press its off key or wait for auto-off).
    #[serde(default, deserialize_with = "present")]
    pub power_off: Option<RawPowerOff>,
    /// Bring a speaking token's volume, speed and language back to the profile's defaults.
    #[serde(default, deserialize_with = "present")]
    pub restore_settings: Option<RawRestoreSettings>,
}

/// `press: button` or `press: {button, hold}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawPress {
    /// Just the key.
    Key(String),
    /// The key and how long to hold it.
    Full(RawPressFull),
}

/// `press: {button, hold}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPressFull {
    /// The key.
    pub button: String,
    /// How long to hold it (default from the profile).
    pub hold: Option<RawDuration>,
}

/// `chord: [red, "0"]` or `chord: {keys, hold}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawChord {
    /// Just the keys, the modifier first.
    Keys(Vec<String>),
    /// The keys and how long the last one is held.
    Full(RawChordFull),
}

/// `chord: {keys, hold}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChordFull {
    /// The keys, the modifier first.
    pub keys: Vec<String>,
    /// How long the last key is held (default from the profile).
    pub hold: Option<RawDuration>,
}

/// `hold: {button, for}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHold {
    /// The key.
    pub button: Option<String>,
    /// How long.
    #[serde(rename = "for")]
    pub duration: Option<RawDuration>,
}

/// `wait_for_step_start: {margin}`; `{}` or null for the defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStepStart {
    /// How far into the new step to start (default 200ms).
    pub margin: Option<RawDuration>,
}

/// `expect_display: {shows, within}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpectDisplay {
    /// `oracle`, `same`, `different`, `any`, `blank`, or six literal digits.
    pub shows: Option<String>,
    /// Deadline from the start of the step (default 2s).
    pub within: Option<RawDuration>,
}

/// `expect_off: {within}` or `expect_off: {after_release, tolerance}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpectOff {
    /// The display must go blank within this time from the start of the step.
    pub within: Option<RawDuration>,
    /// The display must go blank this long after the last key release (default: the profile's auto-off).
    pub after_release: Option<RawDuration>,
    /// Allowed deviation of `after_release` each way (default: the profile's).
    pub tolerance: Option<RawDuration>,
}

/// `expect_log: {matches, within}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpectLog {
    /// A regular expression a console line must match.
    pub matches: Option<String>,
    /// Deadline from the start of the step (default 2s).
    pub within: Option<RawDuration>,
    /// Whether lines from before the step count (default false).
    pub since_scenario_start: Option<bool>,
}

/// A limit: a duration with its unit (`500ms`) for times, a plain number for levels (dBFS or
/// dB), rates (digits per second) and ratios.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum RawLimit {
    /// A plain number in the quantity's unit.
    Number(f64),
    /// A duration.
    Duration(RawDuration),
}

/// `measure: {quantity, min, max, within, relative_to}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeasure {
    /// `press_to_display`, `release_to_off`, `speech_latency`, `speech_level`,
    /// `speech_duration` or `digit_rate`.
    pub quantity: Option<String>,
    /// Lower limit.
    pub min: Option<RawLimit>,
    /// Upper limit.
    pub max: Option<RawLimit>,
    /// How long to wait for the event measured (default 5s).
    pub within: Option<RawDuration>,
    /// `previous`: measure the change from the previous utterance instead (level: difference
    /// in dB; duration and rate: ratio).
    pub relative_to: Option<String>,
}

/// `expect_silence: {for}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpectSilence {
    /// How long after the last key edge no speech may start.
    #[serde(rename = "for")]
    pub duration: Option<RawDuration>,
}

/// `expect_speech: {says, language, within}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpectSpeech {
    /// `display`, `oracle`, `serial`, `same`, `any`, or literal digits.
    pub says: Option<String>,
    /// The language it must be spoken in (`en`, `da`), if checked.
    pub language: Option<String>,
    /// Deadline for the speech to start, from the last key edge before the step (default 3s).
    pub within: Option<RawDuration>,
}

/// `repeat: {times, steps}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRepeat {
    /// How many times.
    pub times: Option<u32>,
    /// The steps.
    pub steps: Option<Vec<RawStep>>,
}

/// `restore_settings: {}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRestoreSettings {}

/// `power_off: {}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPowerOff {
    /// How long to wait for the display to go blank after the off key (default 2s).
    pub within: Option<RawDuration>,
}
