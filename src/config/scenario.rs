//! Scenarios: flow only — setup, steps, teardown — validated into typed steps.

use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;

use super::raw::{RawChord, RawPress, RawScenario, RawStep};
use super::token::TokenProfile;
use super::{ConfigError, Problems, source};

/// What a display expectation wants to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shows {
    /// A code the oracle accepts.
    Oracle,
    /// The same code as the last one read in this scenario.
    Same,
    /// A code different from the last one read in this scenario.
    Different,
    /// Any well-formed code.
    Any,
    /// A blank display.
    Blank,
    /// These digits.
    Literal(String),
}

/// How `expect_off` judges the display going blank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffExpectation {
    /// Blank within this long of the step's start.
    Within(Duration),
    /// Blank this long after the last key release, give or take `tolerance`
    /// (`None` = the profile's auto-off values).
    AfterRelease {
        /// Nominal delay.
        after: Option<Duration>,
        /// Allowed deviation each way.
        tolerance: Option<Duration>,
    },
}

/// A quantity `measure` can measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// From the last press's contact closing to the first frame showing a code (s).
    PressToDisplay,
    /// From the last key release to the first blank frame (s).
    ReleaseToOff,
    /// From the last key release to the start of the speech it caused (s).
    SpeechLatency,
    /// Level of the last utterance: RMS of its speech frames (dBFS; relative: dB change from
    /// the previous one).
    SpeechLevel,
    /// EBU R128 integrated loudness of the last utterance (LUFS; relative: LU change from the
    /// previous one).
    SpeechLoudness,
    /// Duration of the last utterance (s; relative: ratio to the previous one).
    SpeechDuration,
    /// Digits per second of the last utterance, from the listener's word boundaries (relative:
    /// ratio to the previous one).
    DigitRate,
}

impl Quantity {
    const ALL: [(&'static str, Quantity); 7] = [
        ("press_to_display", Quantity::PressToDisplay),
        ("release_to_off", Quantity::ReleaseToOff),
        ("speech_latency", Quantity::SpeechLatency),
        ("speech_level", Quantity::SpeechLevel),
        ("speech_loudness", Quantity::SpeechLoudness),
        ("speech_duration", Quantity::SpeechDuration),
        ("digit_rate", Quantity::DigitRate),
    ];

    /// Its name in YAML and records.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, q)| *q == self)
            .map_or("", |(name, _)| name)
    }

    /// Its unit; `relative` for the change from the previous utterance.
    pub fn unit(self, relative: bool) -> &'static str {
        match (self, relative) {
            (Quantity::SpeechLevel, false) => "dBFS",
            (Quantity::SpeechLevel, true) => "dB",
            (Quantity::SpeechLoudness, false) => "LUFS",
            (Quantity::SpeechLoudness, true) => "LU",
            (Quantity::DigitRate, false) => "digits/s",
            (Quantity::SpeechDuration | Quantity::DigitRate, true) => "ratio",
            _ => "s",
        }
    }

    /// Whether its limits are durations (`500ms`) rather than plain numbers.
    pub fn is_time(self, relative: bool) -> bool {
        self.unit(relative) == "s"
    }

    /// Whether it can be measured relative to the previous utterance.
    pub fn can_be_relative(self) -> bool {
        matches!(
            self,
            Quantity::SpeechLevel
                | Quantity::SpeechLoudness
                | Quantity::SpeechDuration
                | Quantity::DigitRate
        )
    }
}

/// What `expect_speech` wants to hear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Says {
    /// The code the display shows.
    Display,
    /// A code the oracle accepts.
    Oracle,
    /// The unit's serial number (from the rig file).
    Serial,
    /// The same digits as the utterance before.
    Same,
    /// Any recognised digits.
    Any,
    /// These digits.
    Literal(String),
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepAction {
    /// Press and release one key.
    Press {
        /// The key.
        button: String,
        /// How long; `None` = the profile's.
        hold: Option<Duration>,
    },
    /// Modifier down, keys down in order, released in reverse.
    Chord {
        /// The keys, modifier first.
        keys: Vec<String>,
        /// How long the last key is held; `None` = the profile's press time.
        hold: Option<Duration>,
    },
    /// Hold one key down for a while.
    Hold {
        /// The key.
        button: String,
        /// How long.
        duration: Duration,
    },
    /// Do nothing for a while.
    Wait(Duration),
    /// Wait for the next OTP time step, then `margin` into it.
    WaitForStepStart {
        /// How far into the step.
        margin: Duration,
    },
    /// The display shows something before a deadline.
    ExpectDisplay {
        /// What.
        shows: Shows,
        /// Deadline from the step's start.
        within: Duration,
    },
    /// The display goes blank.
    ExpectOff(OffExpectation),
    /// A console line matches.
    ExpectLog {
        /// The pattern.
        pattern: Regex,
        /// Deadline from the step's start.
        within: Duration,
        /// Whether lines from earlier in the scenario count.
        since_scenario_start: bool,
    },
    /// Measure a quantity.
    Measure {
        /// What.
        quantity: Quantity,
        /// Lower limit, in the quantity's unit (seconds for times).
        min: Option<f64>,
        /// Upper limit, in the quantity's unit.
        max: Option<f64>,
        /// How long to wait for the event measured.
        within: Duration,
        /// Measure the change from the previous utterance.
        relative: bool,
    },
    /// The token speaks before a deadline.
    ExpectSpeech {
        /// What.
        says: Says,
        /// In which language, if checked.
        language: Option<String>,
        /// Deadline for the speech to start, from the last key edge before the step.
        within: Duration,
    },
    /// Repeat steps.
    Repeat {
        /// How many times.
        times: u32,
        /// The steps.
        steps: Vec<Step>,
    },
    /// No speech starts within a time of the last key edge.
    ExpectSilence {
        /// How long.
        duration: Duration,
    },
    /// Bring volume, speed and language back to the profile's defaults.
    RestoreSettings,
    /// Make sure the token is off.
    PowerOff {
        /// How long to wait for blank after the off key.
        within: Duration,
    },
}

impl StepAction {
    /// The step kind as written in YAML.
    pub fn kind(&self) -> &'static str {
        match self {
            StepAction::Press { .. } => "press",
            StepAction::Chord { .. } => "chord",
            StepAction::Hold { .. } => "hold",
            StepAction::Wait(_) => "wait",
            StepAction::WaitForStepStart { .. } => "wait_for_step_start",
            StepAction::ExpectDisplay { .. } => "expect_display",
            StepAction::ExpectOff(_) => "expect_off",
            StepAction::ExpectLog { .. } => "expect_log",
            StepAction::Measure { .. } => "measure",
            StepAction::ExpectSpeech { .. } => "expect_speech",
            StepAction::Repeat { .. } => "repeat",
            StepAction::PowerOff { .. } => "power_off",
            StepAction::RestoreSettings => "restore_settings",
            StepAction::ExpectSilence { .. } => "expect_silence",
        }
    }
}

/// One validated step.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its YAML path, e.g. `steps[2]`.
    pub path: String,
    /// Its label, if given.
    pub name: Option<String>,
    /// What it does.
    pub action: StepAction,
}

impl Step {
    /// Every key the step (and any nested step) presses.
    pub fn keys(&self) -> Vec<(&str, &str)> {
        match &self.action {
            StepAction::Press { button, .. } | StepAction::Hold { button, .. } => {
                vec![(self.path.as_str(), button.as_str())]
            }
            StepAction::Chord { keys, .. } => keys
                .iter()
                .map(|k| (self.path.as_str(), k.as_str()))
                .collect(),
            StepAction::Repeat { steps, .. } => steps.iter().flat_map(Step::keys).collect(),
            _ => Vec::new(),
        }
    }
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// Its file.
    pub file: PathBuf,
    /// What it checks.
    pub description: Option<String>,
    /// The token kind it is for.
    pub token: String,
    /// Requirement ids it verifies.
    pub verifies: Vec<String>,
    /// Setup steps.
    pub setup: Vec<Step>,
    /// The test.
    pub steps: Vec<Step>,
    /// Teardown steps (always run).
    pub teardown: Vec<Step>,
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let text = source::read(file)?;
        Self::from_text(file, &text)
    }

    /// Validates scenario text; `file` is used for messages.
    pub fn from_text(file: &Path, text: &str) -> Result<Self, ConfigError> {
        let (value, index) = source::parse_value(file, text)?;
        let raw: RawScenario = source::deserialize_all(file, &value, &index)?;
        let mut problems = Problems::new(file, &index);
        let scenario = validate(file, raw, &mut problems);
        problems.finish(scenario)
    }

    /// Problems of this scenario against a token profile (unknown keys), as (YAML path, message).
    pub fn check_against(&self, profile: &TokenProfile) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.token != profile.name {
            out.push((
                "token".to_string(),
                format!(
                    "written for `{}`, the rig holds `{}`",
                    self.token, profile.name
                ),
            ));
        }
        for step in self.setup.iter().chain(&self.steps).chain(&self.teardown) {
            for (path, key) in step.keys() {
                if !profile.buttons.iter().any(|b| b == key) {
                    out.push((
                        path.to_string(),
                        format!(
                            "`{key}` is not a button of {} ({})",
                            profile.name,
                            profile.buttons.join(", ")
                        ),
                    ));
                }
            }
        }
        out
    }
}

fn validate(file: &Path, raw: RawScenario, problems: &mut Problems<'_>) -> Scenario {
    if raw.kind != "scenario" {
        problems.push("kind", format!("expected `scenario`, found `{}`", raw.kind));
    }
    let name = raw.name.unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let token = raw.token.unwrap_or_else(|| {
        problems.push(".", "missing `token` (the token kind the scenario is for)");
        String::new()
    });
    let verifies = raw.verifies.unwrap_or_default();
    let setup = steps("setup", raw.setup.unwrap_or_default(), problems);
    let body = match raw.steps {
        Some(list) if !list.is_empty() => steps("steps", list, problems),
        _ => {
            problems.push(".", "missing `steps` (at least one)");
            Vec::new()
        }
    };
    let teardown = steps("teardown", raw.teardown.unwrap_or_default(), problems);
    Scenario {
        name,
        file: file.to_path_buf(),
        description: raw.description,
        token,
        verifies,
        setup,
        steps: body,
        teardown,
    }
}

fn steps(prefix: &str, raw: Vec<RawStep>, problems: &mut Problems<'_>) -> Vec<Step> {
    raw.into_iter()
        .enumerate()
        .filter_map(|(i, step)| step_of(&format!("{prefix}[{i}]"), step, problems))
        .collect()
}

const STEP_KINDS: &str = "press, chord, hold, wait, wait_for_step_start, expect_display, expect_off, expect_log, expect_speech, expect_silence, measure, repeat, power_off, restore_settings";

fn measure_of(
    path: &str,
    measure: super::raw::RawMeasure,
    problems: &mut Problems<'_>,
) -> Option<StepAction> {
    let names: Vec<&str> = Quantity::ALL.iter().map(|(n, _)| *n).collect();
    let quantity = match measure.quantity.as_deref() {
        Some(name) => match Quantity::ALL.iter().find(|(n, _)| *n == name) {
            Some((_, quantity)) => *quantity,
            None => {
                problems.push(
                    format!("{path}.measure.quantity"),
                    format!(
                        "unknown quantity `{name}`, expected one of {}",
                        names.join(", ")
                    ),
                );
                return None;
            }
        },
        None => {
            problems.push(format!("{path}.measure"), "missing `quantity`");
            return None;
        }
    };
    let relative = match measure.relative_to.as_deref() {
        None => false,
        Some("previous") if quantity.can_be_relative() => true,
        Some("previous") => {
            problems.push(
                format!("{path}.measure.relative_to"),
                format!(
                    "{} cannot be measured relative to the previous utterance",
                    quantity.name()
                ),
            );
            return None;
        }
        Some(other) => {
            problems.push(
                format!("{path}.measure.relative_to"),
                format!("`{other}`: only `previous` is supported"),
            );
            return None;
        }
    };
    if measure.min.is_none() && measure.max.is_none() {
        problems.push(
            format!("{path}.measure"),
            "give `min`, `max` or both: a measurement needs limits",
        );
        return None;
    }
    let mut ok = true;
    let mut limit = |name: &str, raw: Option<super::raw::RawLimit>| -> Option<f64> {
        let value = match (raw?, quantity.is_time(relative)) {
            (super::raw::RawLimit::Duration(d), true) => d.0.as_secs_f64(),
            (super::raw::RawLimit::Number(n), false) => n,
            (_, true) => {
                problems.push(
                    format!("{path}.measure.{name}"),
                    format!(
                        "{} is a time: write the limit with its unit, like 500ms",
                        quantity.name()
                    ),
                );
                ok = false;
                return None;
            }
            (_, false) => {
                problems.push(
                    format!("{path}.measure.{name}"),
                    format!(
                        "write the limit as a plain number in {}",
                        quantity.unit(relative)
                    ),
                );
                ok = false;
                return None;
            }
        };
        Some(value)
    };
    let min = limit("min", measure.min);
    let max = limit("max", measure.max);
    ok.then_some(StepAction::Measure {
        quantity,
        min,
        max,
        within: measure.within.map_or(Duration::from_secs(5), |d| d.0),
        relative,
    })
}

fn step_of(path: &str, raw: RawStep, problems: &mut Problems<'_>) -> Option<Step> {
    let mut actions: Vec<StepAction> = Vec::new();
    let mut bad = false;
    if let Some(press) = raw.press {
        actions.push(match press {
            RawPress::Key(button) => StepAction::Press { button, hold: None },
            RawPress::Full(full) => StepAction::Press {
                button: full.button,
                hold: full.hold.map(|d| d.0),
            },
        });
    }
    if let Some(chord) = raw.chord {
        let (keys, hold) = match chord {
            RawChord::Keys(keys) => (keys, None),
            RawChord::Full(full) => (full.keys, full.hold.map(|d| d.0)),
        };
        if keys.len() < 2 {
            problems.push(
                format!("{path}.chord"),
                "a chord needs at least two keys, the modifier first",
            );
            bad = true;
        }
        actions.push(StepAction::Chord { keys, hold });
    }
    if let Some(hold) = raw.hold {
        match (hold.button, hold.duration) {
            (Some(button), Some(duration)) => actions.push(StepAction::Hold {
                button,
                duration: duration.0,
            }),
            _ => {
                problems.push(format!("{path}.hold"), "needs `button` and `for`");
                bad = true;
            }
        }
    }
    if let Some(wait) = raw.wait {
        actions.push(StepAction::Wait(wait.0));
    }
    if let Some(start) = raw.wait_for_step_start {
        actions.push(StepAction::WaitForStepStart {
            margin: start.margin.map_or(Duration::from_millis(200), |d| d.0),
        });
    }
    if let Some(expect) = raw.expect_display {
        let shows = match expect.shows.as_deref() {
            Some("oracle") => Some(Shows::Oracle),
            Some("same") => Some(Shows::Same),
            Some("different") => Some(Shows::Different),
            Some("any") => Some(Shows::Any),
            Some("blank") => Some(Shows::Blank),
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                Some(Shows::Literal(digits.to_string()))
            }
            Some(other) => {
                problems.push(
                    format!("{path}.expect_display.shows"),
                    format!(
                        "`{other}` is not oracle, same, different, any, blank or a string of digits"
                    ),
                );
                None
            }
            None => {
                problems.push(format!("{path}.expect_display"), "missing `shows`");
                None
            }
        };
        match shows {
            Some(shows) => actions.push(StepAction::ExpectDisplay {
                shows,
                within: expect.within.map_or(Duration::from_secs(2), |d| d.0),
            }),
            None => bad = true,
        }
    }
    if let Some(off) = raw.expect_off {
        match (off.within, off.after_release, off.tolerance) {
            (Some(within), None, None) => {
                actions.push(StepAction::ExpectOff(OffExpectation::Within(within.0)))
            }
            (None, after, tolerance) => {
                actions.push(StepAction::ExpectOff(OffExpectation::AfterRelease {
                    after: after.map(|d| d.0),
                    tolerance: tolerance.map(|d| d.0),
                }))
            }
            (Some(_), _, _) => {
                problems.push(
                    format!("{path}.expect_off"),
                    "give `within`, or `after_release` with `tolerance`, not both",
                );
                bad = true;
            }
        }
    }
    if let Some(log) = raw.expect_log {
        match log.matches.as_deref().map(Regex::new) {
            Some(Ok(pattern)) => actions.push(StepAction::ExpectLog {
                pattern,
                within: log.within.map_or(Duration::from_secs(2), |d| d.0),
                since_scenario_start: log.since_scenario_start.unwrap_or(false),
            }),
            Some(Err(e)) => {
                problems.push(
                    format!("{path}.expect_log.matches"),
                    format!("invalid pattern: {e}"),
                );
                bad = true;
            }
            None => {
                problems.push(format!("{path}.expect_log"), "missing `matches`");
                bad = true;
            }
        }
    }
    if let Some(measure) = raw.measure {
        match measure_of(path, measure, problems) {
            Some(action) => actions.push(action),
            None => bad = true,
        }
    }
    if let Some(speech) = raw.expect_speech {
        let says = match speech.says.as_deref() {
            Some("display") => Some(Says::Display),
            Some("oracle") => Some(Says::Oracle),
            Some("serial") => Some(Says::Serial),
            Some("same") => Some(Says::Same),
            Some("any") => Some(Says::Any),
            Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                Some(Says::Literal(digits.to_string()))
            }
            Some(other) => {
                problems.push(
                    format!("{path}.expect_speech.says"),
                    format!(
                        "`{other}` is not display, oracle, serial, same, any or a string of digits"
                    ),
                );
                None
            }
            None => {
                problems.push(format!("{path}.expect_speech"), "missing `says`");
                None
            }
        };
        match says {
            Some(says) => actions.push(StepAction::ExpectSpeech {
                says,
                language: speech.language,
                within: speech.within.map_or(Duration::from_secs(3), |d| d.0),
            }),
            None => bad = true,
        }
    }
    if let Some(repeat) = raw.repeat {
        let times = repeat.times.unwrap_or_else(|| {
            problems.push(format!("{path}.repeat"), "missing `times`");
            0
        });
        let inner = match repeat.steps {
            Some(list) if !list.is_empty() => {
                steps(&format!("{path}.repeat.steps"), list, problems)
            }
            _ => {
                problems.push(format!("{path}.repeat"), "missing `steps` (at least one)");
                Vec::new()
            }
        };
        if times == 0 {
            bad = true;
        }
        actions.push(StepAction::Repeat {
            times,
            steps: inner,
        });
    }
    if let Some(silence) = raw.expect_silence {
        actions.push(StepAction::ExpectSilence {
            duration: silence.duration.map_or(Duration::from_secs(3), |d| d.0),
        });
    }
    if raw.restore_settings.is_some() {
        actions.push(StepAction::RestoreSettings);
    }
    if let Some(off) = raw.power_off {
        actions.push(StepAction::PowerOff {
            within: off.within.map_or(Duration::from_secs(2), |d| d.0),
        });
    }
    if bad {
        return None;
    }
    match actions.len() {
        1 => actions.pop().map(|action| Step {
            path: path.to_string(),
            name: raw.name,
            action,
        }),
        0 => {
            problems.push(path, format!("a step needs one action: {STEP_KINDS}"));
            None
        }
        _ => {
            let kinds: Vec<&str> = actions.iter().map(StepAction::kind).collect();
            problems.push(
                path,
                format!("one action per step, found {}", kinds.join(" and ")),
            );
            None
        }
    }
}
