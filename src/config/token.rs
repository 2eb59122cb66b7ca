//! Token profiles: the facts of a token kind — buttons, the state × key table, the OTP it
//! makes, auto-off — each tagged `seed` (stated in the reference texts) or `assumed`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawCell, RawToken, Source};
use super::{ConfigError, Problems, source};

/// What kind of OTP the token makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OtpKind {
    /// Time-based (RFC 6238).
    Time,
    /// Event-based (RFC 4226).
    Event,
    /// Not known; only the format can be checked.
    Unknown,
}

/// The HMAC hash of the OTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OtpAlgorithm {
    /// HMAC-SHA-1 (the RFC default).
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

/// The OTP a token makes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OtpSpec {
    /// Time, event or unknown.
    pub kind: OtpKind,
    /// Time step (time-based).
    pub step: Duration,
    /// Number of digits.
    pub digits: u32,
    /// HMAC hash.
    pub algorithm: OtpAlgorithm,
    /// Stated or assumed.
    pub source: Source,
}

/// Automatic switch-off, measured from the last key release.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AutoOff {
    /// Nominal time from the last key release to off.
    pub after: Duration,
    /// Allowed deviation each way.
    pub tolerance: Duration,
    /// Stated or assumed.
    pub source: Source,
    /// The reference sentence or the reason for the assumption.
    pub note: Option<String>,
}

/// What a key or chord makes the token do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Switch on (if off) and show a fresh one-time code; a speaking token also reads it.
    ShowCode,
    /// Read the code shown again.
    RepeatCode,
    /// One volume step up.
    VolumeUp,
    /// One volume step down.
    VolumeDown,
    /// One reading-speed step up.
    SpeedUp,
    /// One reading-speed step down.
    SpeedDown,
    /// Switch to the next language.
    ToggleLanguage,
    /// Read the serial number aloud.
    ReadSerial,
    /// Switch off (also while speaking).
    PowerOff,
    /// Nothing happens.
    Nothing,
}

impl Action {
    const ALL: [(&'static str, Action); 10] = [
        ("show_code", Action::ShowCode),
        ("repeat_code", Action::RepeatCode),
        ("volume_up", Action::VolumeUp),
        ("volume_down", Action::VolumeDown),
        ("speed_up", Action::SpeedUp),
        ("speed_down", Action::SpeedDown),
        ("toggle_language", Action::ToggleLanguage),
        ("read_serial", Action::ReadSerial),
        ("power_off", Action::PowerOff),
        ("nothing", Action::Nothing),
    ];

    fn parse(text: &str) -> Option<Action> {
        Self::ALL
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, action)| *action)
    }

    fn names() -> String {
        Self::ALL
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether the action needs a speaking token.
    pub fn needs_speech(self) -> bool {
        matches!(
            self,
            Action::RepeatCode
                | Action::VolumeUp
                | Action::VolumeDown
                | Action::SpeedUp
                | Action::SpeedDown
                | Action::ToggleLanguage
                | Action::ReadSerial
        )
    }
}

/// A stepped setting (volume or speed).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Steps {
    /// Volume: gain in dB per level; speed: speed factor per level; lowest first.
    pub levels: Vec<f64>,
    /// The level of a new unit, 0-based index into `levels`.
    pub default: usize,
}

/// How a speaking token speaks.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpeechSpec {
    /// Languages, e.g. `da`, `en`.
    pub languages: Vec<String>,
    /// The language of a new unit.
    pub default_language: String,
    /// Volume levels (gain in dB).
    pub volume: Steps,
    /// Speed levels (factor).
    pub speed: Steps,
    /// Key release to start of speech.
    pub latency: Duration,
    /// Digits of the serial number.
    pub serial_digits: usize,
    /// Whether settings survive switching off.
    pub settings_survive_off: bool,
    /// Stated or assumed.
    pub source: Source,
    /// What was chosen and why.
    pub note: Option<String>,
}

/// One cell of the state × key table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cell {
    /// What happens.
    pub action: Action,
    /// The state afterwards.
    pub next: String,
    /// Stated or assumed.
    pub source: Source,
    /// The requirement id verifying it.
    pub requirement: Option<String>,
    /// Why, when assumed.
    pub note: Option<String>,
}

/// A behaviour fact that is not a key press.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fact {
    /// The fact, as written.
    pub value: String,
    /// Stated or assumed.
    pub source: Source,
    /// Why, when assumed.
    pub note: Option<String>,
}

/// Press and chord timing.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Timing {
    /// How long a press holds its key.
    pub press: Duration,
    /// Gap between the edges of a chord: modifier down, gap, key down, hold, key up, gap, modifier up.
    pub chord_gap: Duration,
}

/// A validated token profile.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TokenProfile {
    /// The kind's name, e.g. `mitid-code-display`.
    pub name: String,
    /// The file it was read from.
    pub file: PathBuf,
    /// The physical keys.
    pub buttons: Vec<String>,
    /// The OTP.
    pub otp: OtpSpec,
    /// Digit positions on the LCD.
    pub display_digits: usize,
    /// Auto-off; `None` when the token has none.
    pub auto_off: Option<AutoOff>,
    /// Default timing of presses and chords.
    pub timing: Timing,
    /// How it speaks, if it does.
    pub speech: Option<SpeechSpec>,
    /// state → input (`button`, `red+0`) → cell.
    pub table: BTreeMap<String, BTreeMap<String, Cell>>,
    /// Other facts.
    pub facts: BTreeMap<String, Fact>,
}

impl TokenProfile {
    /// The cell for an input in a state.
    pub fn cell(&self, state: &str, input: &str) -> Option<&Cell> {
        self.table.get(state).and_then(|row| row.get(input))
    }

    /// The key that makes a switched-off token show a code (`button`, `red`), if one does.
    pub fn show_code_input(&self) -> Option<&str> {
        let row = self.table.get("off")?;
        row.iter()
            .find(|(input, cell)| cell.action == Action::ShowCode && !input.contains('+'))
            .map(|(input, _)| input.as_str())
    }

    /// The input (a key or chord, e.g. `red` or `red+0`) that switches the token off when on.
    pub fn off_input(&self) -> Option<&str> {
        self.input_for("on", Action::PowerOff)
    }

    /// The first input (a key or chord) that does `action` in `state`.
    pub fn input_for(&self, state: &str, action: Action) -> Option<&str> {
        let row = self.table.get(state)?;
        row.iter()
            .find(|(_, cell)| cell.action == action)
            .map(|(input, _)| input.as_str())
    }

    /// Reads and validates a profile file.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let text = source::read(file)?;
        Self::from_text(file, &text)
    }

    /// Validates profile text; `file` is used for messages.
    pub fn from_text(file: &Path, text: &str) -> Result<Self, ConfigError> {
        let (value, index) = source::parse_value(file, text)?;
        let raw: RawToken = source::deserialize_all(file, &value, &index)?;
        let mut problems = Problems::new(file, &index);
        let profile = validate(file, raw, &mut problems);
        problems.finish(profile)
    }
}

fn validate(file: &Path, raw: RawToken, problems: &mut Problems<'_>) -> TokenProfile {
    if raw.kind != "token" {
        problems.push("kind", format!("expected `token`, found `{}`", raw.kind));
    }
    let name = raw.name.unwrap_or_else(|| {
        problems.push(".", "missing `name`");
        String::new()
    });
    let buttons = raw.buttons.unwrap_or_else(|| {
        problems.push(".", "missing `buttons`");
        Vec::new()
    });
    let otp = match raw.otp {
        Some(otp) => {
            let kind = match otp.kind.as_deref() {
                Some("time") | None => OtpKind::Time,
                Some("event") => OtpKind::Event,
                Some("unknown") => OtpKind::Unknown,
                Some(other) => {
                    problems.push(
                        "otp.kind",
                        format!("unknown OTP kind `{other}`, expected time, event or unknown"),
                    );
                    OtpKind::Unknown
                }
            };
            let algorithm = match otp.algorithm.as_deref() {
                Some("sha1") | None => OtpAlgorithm::Sha1,
                Some("sha256") => OtpAlgorithm::Sha256,
                Some("sha512") => OtpAlgorithm::Sha512,
                Some(other) => {
                    problems.push(
                        "otp.algorithm",
                        format!("unknown algorithm `{other}`, expected sha1, sha256 or sha512"),
                    );
                    OtpAlgorithm::Sha1
                }
            };
            let digits = otp.digits.unwrap_or(6);
            if !(6..=9).contains(&digits) {
                problems.push("otp.digits", format!("{digits} digits; an OTP has 6 to 9"));
            }
            let step = otp.step.map_or(Duration::from_secs(30), |d| d.0);
            if step.as_secs() == 0 || step.subsec_nanos() != 0 {
                problems.push(
                    "otp.step",
                    "the time step must be a whole number of seconds, at least 1s",
                );
            }
            OtpSpec {
                kind,
                step,
                digits,
                algorithm,
                source: otp.source.unwrap_or(Source::Assumed),
            }
        }
        None => {
            problems.push(".", "missing `otp`");
            OtpSpec {
                kind: OtpKind::Unknown,
                step: Duration::from_secs(30),
                digits: 6,
                algorithm: OtpAlgorithm::Sha1,
                source: Source::Assumed,
            }
        }
    };
    let display_digits = raw.display_digits.unwrap_or(otp.digits) as usize;
    let auto_off = raw.auto_off.and_then(|a| match a.after {
        Some(after) => Some(AutoOff {
            after: after.0,
            tolerance: a.tolerance.map_or(Duration::from_secs(1), |d| d.0),
            source: a.source.unwrap_or_else(|| {
                problems.push("auto_off", "missing `source` (seed or assumed)");
                Source::Assumed
            }),
            note: a.note,
        }),
        None => {
            problems.push("auto_off", "missing `after`");
            None
        }
    });
    let timing = Timing {
        press: raw
            .timing
            .as_ref()
            .and_then(|t| t.press)
            .map_or(Duration::from_millis(150), |d| d.0),
        chord_gap: raw
            .timing
            .as_ref()
            .and_then(|t| t.chord_gap)
            .map_or(Duration::from_millis(80), |d| d.0),
    };
    let speech = raw.speech.map(|raw| validate_speech(raw, problems));
    let mut table = BTreeMap::new();
    let raw_table = raw.table.unwrap_or_else(|| {
        problems.push(".", "missing `table` (the state × key table)");
        BTreeMap::new()
    });
    let states: Vec<String> = raw_table.keys().cloned().collect();
    if !raw_table.is_empty() && !raw_table.contains_key("off") {
        problems.push("table", "the table has no `off` state");
    }
    for (state, row) in raw_table {
        let mut cells = BTreeMap::new();
        for (input, cell) in row {
            let path = format!("table.{state}.{input}");
            for key in input.split('+') {
                if !buttons.iter().any(|b| b == key) {
                    problems.push(
                        &path,
                        format!(
                            "`{key}` is not one of the token's buttons ({})",
                            buttons.join(", ")
                        ),
                    );
                }
            }
            if let Some(cell) = validate_cell(&path, cell, &states, problems) {
                if cell.action.needs_speech() && speech.is_none() {
                    problems.push(
                        format!("{path}.action"),
                        "this action needs a `speech` section in the profile",
                    );
                }
                cells.insert(input, cell);
            }
        }
        table.insert(state, cells);
    }
    let mut facts = BTreeMap::new();
    for (key, fact) in raw.facts.unwrap_or_default() {
        let path = format!("facts.{key}");
        let value = match fact.value {
            Some(serde_yaml::Value::String(s)) => s,
            Some(serde_yaml::Value::Number(n)) => n.to_string(),
            Some(serde_yaml::Value::Bool(b)) => b.to_string(),
            Some(_) | None => {
                problems.push(&path, "missing `value` (a string, number or boolean)");
                String::new()
            }
        };
        let Some(source) = fact.source else {
            problems.push(&path, "missing `source` (seed or assumed)");
            continue;
        };
        facts.insert(
            key,
            Fact {
                value,
                source,
                note: fact.note,
            },
        );
    }
    TokenProfile {
        name,
        file: file.to_path_buf(),
        buttons,
        otp,
        display_digits,
        auto_off,
        timing,
        speech,
        table,
        facts,
    }
}

fn validate_steps(
    raw: Option<super::raw::RawSteps>,
    path: &str,
    problems: &mut Problems<'_>,
) -> Steps {
    let Some(raw) = raw else {
        problems.push("speech", format!("missing `{path}`"));
        return Steps {
            levels: vec![0.0],
            default: 0,
        };
    };
    let path = format!("speech.{path}");
    let levels = raw.levels.unwrap_or_default();
    if levels.is_empty() {
        problems.push(&path, "missing `levels` (lowest first)");
    } else if levels.windows(2).any(|w| w[1] <= w[0]) {
        problems.push(
            format!("{path}.levels"),
            "levels must rise from lowest to highest",
        );
    }
    if let Some(ends) = raw.at_ends.as_deref()
        && ends != "stay"
    {
        problems.push(
            format!("{path}.at_ends"),
            format!("`{ends}`: only `stay` is supported"),
        );
    }
    let default = raw.default.unwrap_or(1) as usize;
    if default == 0 || default > levels.len().max(1) {
        problems.push(
            format!("{path}.default"),
            format!(
                "the default level {default} is not one of 1 to {}",
                levels.len()
            ),
        );
    }
    let levels = if levels.is_empty() { vec![0.0] } else { levels };
    Steps {
        levels,
        default: default.saturating_sub(1),
    }
}

fn validate_speech(raw: super::raw::RawSpeech, problems: &mut Problems<'_>) -> SpeechSpec {
    let languages = raw.languages.unwrap_or_default();
    if languages.is_empty() {
        problems.push("speech", "missing `languages`");
    }
    let default_language = raw
        .default_language
        .unwrap_or_else(|| languages.first().cloned().unwrap_or_default());
    if !languages.is_empty() && !languages.contains(&default_language) {
        problems.push(
            "speech.default_language",
            format!(
                "`{default_language}` is not one of {}",
                languages.join(", ")
            ),
        );
    }
    let volume = validate_steps(raw.volume, "volume", problems);
    let speed = validate_steps(raw.speed, "speed", problems);
    if speed.levels.iter().any(|f| *f <= 0.0) {
        problems.push("speech.speed.levels", "speed factors must be positive");
    }
    let source = raw.source.unwrap_or_else(|| {
        problems.push("speech", "missing `source` (seed or assumed)");
        Source::Assumed
    });
    SpeechSpec {
        languages,
        default_language,
        volume,
        speed,
        latency: raw.latency.map_or(Duration::from_millis(300), |d| d.0),
        serial_digits: raw.serial_digits.unwrap_or(10) as usize,
        settings_survive_off: raw.settings_survive_off.unwrap_or(true),
        source,
        note: raw.note,
    }
}

fn validate_cell(
    path: &str,
    cell: RawCell,
    states: &[String],
    problems: &mut Problems<'_>,
) -> Option<Cell> {
    let action = match cell.action.as_deref() {
        Some(text) => match Action::parse(text) {
            Some(action) => action,
            None => {
                problems.push(
                    format!("{path}.action"),
                    format!(
                        "unknown action `{text}`, expected one of {}",
                        Action::names()
                    ),
                );
                return None;
            }
        },
        None => {
            problems.push(path, "missing `action`");
            return None;
        }
    };
    let next = match cell.next {
        Some(next) if states.contains(&next) => next,
        Some(next) => {
            problems.push(
                format!("{path}.next"),
                format!(
                    "`{next}` is not a state of the table ({})",
                    states.join(", ")
                ),
            );
            return None;
        }
        None => {
            problems.push(path, "missing `next`");
            return None;
        }
    };
    let Some(source) = cell.source else {
        problems.push(path, "missing `source` (seed or assumed)");
        return None;
    };
    if source == Source::Assumed && cell.note.is_none() {
        problems.push(
            path,
            "an assumed cell needs a `note` saying what was chosen and why",
        );
    }
    Some(Cell {
        action,
        next,
        source,
        requirement: cell.requirement,
        note: cell.note,
    })
}
