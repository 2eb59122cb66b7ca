//! Speech expectations: what the token said, in which language, how loud, how fast and how
//! soon after the key — judged from the listener's utterances only. Speech heard but not
//! recognised is the rig's error (the listener could not tell); recognised but wrong is a Fail.

use std::time::Duration;

use tokio::time::Instant;

use super::Outcome;
use super::context::{Context, StepResult, first_or_settled};
use super::record::Measurement;
use super::timeline::Entries;
use crate::config::scenario::{Quantity, Says};
use crate::config::token::Action;
use crate::perception::lcd::LcdReading;
use crate::perception::observation::SpeechEvent;

/// The last key input at or before `at`: when its first key went down (speech after that is
/// what the input caused) and when its first key came up (when a token acts on it: the key of
/// a press, the digit of a chord).
fn last_input(entries: &Entries, at: Instant) -> Option<(Instant, Option<Instant>)> {
    let mut held = 0_usize;
    let mut input: Option<(Instant, Option<Instant>)> = None;
    for action in entries.actions.iter().filter(|a| a.at <= at) {
        if action.closed {
            if held == 0 {
                input = Some((action.at, None));
            }
            held += 1;
        } else {
            held = held.saturating_sub(1);
            if let Some((_, fired @ None)) = &mut input {
                *fired = Some(action.at);
            }
        }
    }
    input
}

/// Where speech caused by the last input may start: at its first key-down.
fn last_edge(entries: &Entries, at: Instant) -> Option<Instant> {
    last_input(entries, at).map(|(down, _)| down)
}

/// Utterances that started in `[from, deadline]`.
fn heard_between(entries: &Entries, from: Instant, deadline: Instant) -> Vec<SpeechEvent> {
    entries
        .speech
        .iter()
        .filter(|e| e.start >= from && e.start <= deadline)
        .cloned()
        .collect()
}

impl Context {
    /// `expect_speech`: the token says `says` (in `language`), starting within `within` of
    /// the last key edge before this step.
    pub async fn expect_speech(
        &mut self,
        says: &Says,
        language: Option<&str>,
        within: Duration,
    ) -> StepResult {
        let event = match self.next_utterance(within).await {
            Ok(event) => event,
            Err(result) => return result,
        };
        let at = self.device_s(event.start);
        let Some(digits) = event.heard.digits.clone() else {
            return StepResult::error(format!(
                "listener: speech at {at:.3} s ({:.2} s, {:.1} dBFS) was heard but not recognised",
                event.duration_s(),
                event.level.rms_dbfs
            ))
            .with_clip(&event, "unrecognised speech");
        };
        let spoken_in = event
            .heard
            .language
            .clone()
            .unwrap_or_else(|| "?".to_string());
        let caption = format!("speech {digits} ({spoken_in})");
        if let Some(expected) = language
            && spoken_in != expected
        {
            return StepResult::fail(format!(
                "speech at {at:.3} s is in {spoken_in}, expected {expected} ({digits})"
            ))
            .with_clip(&event, caption);
        }
        let verdict = match says {
            Says::Any => Ok(format!("heard {digits} in {spoken_in} at {at:.3} s")),
            Says::Literal(expected) if *expected == digits => {
                Ok(format!("heard {digits} at {at:.3} s"))
            }
            Says::Literal(expected) => Err(StepResult::fail(format!(
                "heard {digits} at {at:.3} s, expected {expected}"
            ))),
            Says::Serial if digits == self.serial => {
                Ok(format!("heard the serial number {digits} at {at:.3} s"))
            }
            Says::Serial => Err(StepResult::fail(format!(
                "heard {digits} at {at:.3} s, but the unit's serial number is {}",
                self.serial
            ))),
            Says::Same => match &self.last_speech {
                None => Err(StepResult::error(
                    "expect_speech same: nothing was heard earlier in this scenario",
                )),
                Some(before) if *before == digits => {
                    Ok(format!("heard {digits} again at {at:.3} s"))
                }
                Some(before) => Err(StepResult::fail(format!(
                    "heard {digits} at {at:.3} s, before it was {before}"
                ))),
            },
            Says::Display => {
                // The code on the display while it was read out (the display may lag the
                // start of speech by a frame or two).
                let shown = {
                    let entries = self.timeline.entries();
                    entries
                        .display
                        .iter()
                        .rev()
                        .filter(|e| e.first_frame_at <= event.end)
                        .find(|e| {
                            matches!(e.reading, LcdReading::Code(_))
                                || e.first_frame_at <= event.start
                        })
                        .map(|e| e.reading.clone())
                };
                match shown {
                    Some(LcdReading::Code(code)) if code == digits => {
                        Ok(format!("heard {digits} at {at:.3} s, as displayed"))
                    }
                    Some(LcdReading::Code(code)) => Err(StepResult::fail(format!(
                        "heard {digits} at {at:.3} s, but the display shows {code}"
                    ))),
                    other => Err(StepResult::fail(format!(
                        "heard {digits} at {at:.3} s while the display shows {}",
                        other.map_or("nothing yet".to_string(), |r| super::expectation::describe(
                            &r
                        ))
                    ))),
                }
            }
            Says::Oracle => match self.check_code(&digits, event.start).await {
                Err(e) => Err(StepResult::error(format!("oracle: {e}"))),
                Ok(v) if v.accepted => {
                    Ok(format!("heard {digits} at {at:.3} s; {}", v.explanation))
                }
                Ok(v) => Err(StepResult::fail(format!(
                    "heard {digits} at {at:.3} s, rejected by the {} oracle: {}",
                    self.oracle.name(),
                    v.explanation
                ))),
            },
        };
        match verdict {
            Ok(message) => {
                if *says == Says::Display {
                    // The display was read to compare: it counts as the code read last.
                    self.last_code = Some(digits.clone());
                }
                self.last_speech = Some(digits);
                StepResult::pass_with(message).with_clip(&event, caption)
            }
            Err(result) => result.with_clip(&event, caption),
        }
    }

    /// The first utterance that starts within `within` of the last key input's first edge;
    /// a Fail when none does, the rig's Error when the listener cannot hear.
    async fn next_utterance(&self, within: Duration) -> Result<SpeechEvent, StepResult> {
        let now = Instant::now();
        let from = last_edge(&self.timeline.entries(), now).unwrap_or(now);
        let deadline = from + within;
        let heard = self
            .watch_speech(deadline, |entries, settled| {
                let events = heard_between(entries, from, deadline);
                // The first utterance after the key is what the key caused.
                first_or_settled(events.into_iter().next(), settled)
            })
            .await;
        match heard {
            Err(stop) => Err(stop.into_result()),
            Ok(None) => {
                let fail = StepResult::fail(format!(
                    "no speech started within {:.3} s of the key at {:.3} s",
                    within.as_secs_f64(),
                    self.device_s(from)
                ));
                // What the microphone heard instead, from the key to the deadline.
                Err(match self.timeline.audio_span(from, deadline) {
                    Some(span) => {
                        let caption = if span.gaps.is_zero() {
                            "no speech: the audio from the key to the deadline".to_string()
                        } else {
                            format!(
                                "no speech: the audio from the key to the deadline ({:.3} s of \
                                 dropped blocks filled with silence)",
                                span.gaps.as_secs_f64()
                            )
                        };
                        fail.with_audio(span, caption)
                    }
                    None => fail,
                })
            }
            Ok(Some(event)) => Ok(event),
        }
    }

    /// `expect_silence`: no utterance starts within `duration` of the last key edge.
    pub async fn expect_silence(&mut self, duration: Duration) -> StepResult {
        let now = Instant::now();
        let from = last_edge(&self.timeline.entries(), now).unwrap_or(now);
        let deadline = from + duration;
        let heard = self
            .watch_speech(deadline, |entries, settled| {
                first_or_settled(
                    heard_between(entries, from, deadline).into_iter().next(),
                    settled,
                )
            })
            .await;
        match heard {
            Err(stop) => stop.into_result(),
            Ok(None) => StepResult::pass_with(format!(
                "no speech for {:.3} s after the key at {:.3} s",
                duration.as_secs_f64(),
                self.device_s(from)
            )),
            Ok(Some(event)) => StepResult::fail(format!(
                "speech at {:.3} s ({}), expected silence",
                self.device_s(event.start),
                event.heard.digits.as_deref().unwrap_or("not recognised")
            ))
            .with_clip(&event, "unexpected speech"),
        }
    }

    /// Speech measurements of the last utterance after the last key edge (or its change from
    /// the utterance before it).
    pub async fn measure_speech(
        &mut self,
        quantity: Quantity,
        min: Option<f64>,
        max: Option<f64>,
        within: Duration,
        relative: bool,
    ) -> StepResult {
        let now = Instant::now();
        let from = last_edge(&self.timeline.entries(), now).unwrap_or(now);
        let deadline = from + within;
        let found = self
            .watch_speech(deadline, |entries, settled| {
                let events = heard_between(entries, from, deadline);
                if let Some(event) = events.first() {
                    // Compare like with like: the last earlier reading of the same digits.
                    let before = entries
                        .speech
                        .iter()
                        .rev()
                        .filter(|e| e.start < event.start)
                        .find(|e| e.heard.digits.is_some() && e.heard.digits == event.heard.digits)
                        .cloned();
                    return Some(Some((event.clone(), before)));
                }
                settled.then_some(None)
            })
            .await;
        let (event, before) = match found {
            Err(stop) => return stop.into_result(),
            Ok(None) => {
                return StepResult::fail(format!(
                    "{}: no speech started within {:.3} s of the key at {:.3} s",
                    quantity.name(),
                    within.as_secs_f64(),
                    self.device_s(from)
                ));
            }
            Ok(Some(found)) => found,
        };
        let value_of = |e: &SpeechEvent| -> Option<f64> {
            match quantity {
                Quantity::SpeechLevel => Some(f64::from(e.level.rms_dbfs)),
                Quantity::SpeechLoudness => e.level.loudness_lufs.map(f64::from),
                Quantity::SpeechDuration => Some(e.duration_s()),
                Quantity::DigitRate => e.digit_rate(),
                _ => None,
            }
        };
        let block = 0.02;
        let (value, uncertainty, what) = if quantity == Quantity::SpeechLatency {
            // From the release the token acted on: the key of a press, the digit of a chord.
            let fired = last_input(&self.timeline.entries(), event.start).and_then(|(_, up)| up);
            let Some(fired) = fired else {
                return StepResult::error("speech_latency: no key release before the speech");
            };
            let value = (event.start - fired).as_secs_f64();
            (
                Some(value),
                block + self.timing.relay_settle.as_secs_f64(),
                format!("speech started {value:.3} s after the release"),
            )
        } else if relative {
            let Some(before) = before else {
                return StepResult::error(format!(
                    "{}: no earlier utterance to compare with",
                    quantity.name()
                ));
            };
            let (now_value, then_value) = (value_of(&event), value_of(&before));
            let value = match (quantity, now_value, then_value) {
                (Quantity::SpeechLevel | Quantity::SpeechLoudness, Some(a), Some(b)) => Some(a - b),
                (_, Some(a), Some(b)) if b > 0.0 => Some(a / b),
                _ => None,
            };
            let uncertainty =
                if matches!(quantity, Quantity::SpeechLevel | Quantity::SpeechLoudness) {
                    1.0
                } else {
                    0.05
                };
            (
                value,
                uncertainty,
                format!(
                    "against the utterance at {:.3} s",
                    self.device_s(before.start)
                ),
            )
        } else {
            let uncertainty = match quantity {
                Quantity::SpeechLevel | Quantity::SpeechLoudness => 0.5,
                Quantity::SpeechDuration => 2.0 * block,
                _ => 0.05 * value_of(&event).unwrap_or(0.0),
            };
            (value_of(&event), uncertainty, String::new())
        };
        let Some(value) = value else {
            let why = match quantity {
                Quantity::SpeechLoudness => {
                    "has no R128 loudness (silent, or shorter than one 400 ms gating block)"
                }
                Quantity::DigitRate => "has no words the listener could find",
                _ => "was not recognised",
            };
            return StepResult::error(format!(
                "{}: the utterance at {:.3} s {why}, so it cannot be measured",
                quantity.name(),
                self.device_s(event.start)
            ))
            .with_clip(&event, "utterance not measured");
        };
        let unit = quantity.unit(relative);
        StepResult::pass_with(format!("{} = {value:.3} {unit} {what}", quantity.name()))
            .measured(Measurement::new(
                quantity.name(),
                value,
                unit,
                min,
                max,
                uncertainty,
            ))
            .with_clip(&event, "utterance measured")
    }

    /// `restore_settings`: volume and speed to their defaults (all the way down, then up to the
    /// default: right whatever they were), and the language back to the default, told by ear.
    pub async fn restore_settings(&mut self) -> StepResult {
        let Some(spec) = self.profile.speech.clone() else {
            return StepResult::pass_with("the token has no settings");
        };
        let input = |action: Action| {
            self.profile.table.get("on").and_then(|row| {
                row.iter()
                    .find(|(_, cell)| cell.action == action)
                    .map(|(input, _)| input.clone())
            })
        };
        let (
            Some(volume_down),
            Some(volume_up),
            Some(speed_down),
            Some(speed_up),
            Some(language),
            Some(repeat),
            Some(on),
        ) = (
            input(Action::VolumeDown),
            input(Action::VolumeUp),
            input(Action::SpeedDown),
            input(Action::SpeedUp),
            input(Action::ToggleLanguage),
            input(Action::RepeatCode),
            self.profile.table.get("off").and_then(|row| {
                row.iter()
                    .find(|(_, c)| c.action == Action::ShowCode)
                    .map(|(i, _)| i.clone())
            }),
        )
        else {
            return StepResult::error(format!(
                "{}: the profile lacks a settings key",
                self.profile.name
            ));
        };
        // Switch on (the chords act only when on) and wait for the code.
        let off = self.power_off(Duration::from_secs(2)).await;
        if off.outcome != Outcome::Pass {
            return off;
        }
        // Switch on and let the reading end before the chords, so that none is cut.
        let result = self.input(&on).await;
        if result.outcome != Outcome::Pass {
            return result;
        }
        if let Err(result) = self.next_utterance(Duration::from_secs(3)).await {
            return result;
        }
        let mut plan: Vec<String> = Vec::new();
        plan.extend(std::iter::repeat_n(volume_down, spec.volume.levels.len()));
        plan.extend(std::iter::repeat_n(volume_up, spec.volume.default));
        plan.extend(std::iter::repeat_n(speed_down, spec.speed.levels.len()));
        plan.extend(std::iter::repeat_n(speed_up, spec.speed.default));
        for input in &plan {
            let result = self.input(input).await;
            if result.outcome != Outcome::Pass {
                return result;
            }
        }
        // Language: listen to the code read again, switch if it is not the default.
        for attempt in 0..spec.languages.len() {
            let result = self.input(&repeat).await;
            if result.outcome != Outcome::Pass {
                return result;
            }
            let event = match self.next_utterance(Duration::from_secs(3)).await {
                Ok(event) => event,
                Err(result) => return result,
            };
            let Some(now_in) = event
                .heard
                .language
                .clone()
                .filter(|_| event.heard.digits.is_some())
            else {
                return StepResult::error(format!(
                    "listener: the reading at {:.3} s was not recognised; cannot tell its language",
                    self.device_s(event.start)
                ))
                .with_clip(&event, "unrecognised speech");
            };
            if now_in == spec.default_language {
                return StepResult::pass_with(format!(
                    "volume {} and speed {} of {}, language {} after {attempt} switch(es)",
                    spec.volume.default + 1,
                    spec.speed.default + 1,
                    spec.volume.levels.len(),
                    spec.default_language
                ));
            }
            let result = self.input(&language).await;
            if result.outcome != Outcome::Pass {
                return result;
            }
        }
        StepResult::fail(format!(
            "the language did not come back to {}",
            spec.default_language
        ))
    }

    /// Presses an input of the profile's table: a key (`red`) or a chord (`red+0`).
    pub async fn input(&mut self, input: &str) -> StepResult {
        let keys: Vec<String> = input.split('+').map(str::to_string).collect();
        if keys.len() == 1 {
            self.press(&keys[0], None).await
        } else {
            self.chord(&keys, None).await
        }
    }
}
