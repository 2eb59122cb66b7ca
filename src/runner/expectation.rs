//! Expectations: predicates over the timeline with deadlines, and the measurements they make.
//!
//! The split the whole tool rests on is kept here: a display that is located, sharp and stable
//! but wrong is the token's Fail; no frames, no display found, blur, over-exposure, a failed
//! oracle command or an open relay contact are the rig's Error. A press with no reaction is a
//! Fail only when press feedback confirmed the contact closed.

use std::time::Duration;

use tokio::time::Instant;

use super::context::{Context, StepResult, first_or_settled};
use super::record::Measurement;
use super::timeline::Entries;
use crate::config::scenario::{OffExpectation, Quantity, Shows};
use crate::perception::lcd::{LcdReading, Unreadable};
use crate::perception::observation::DisplayEvent;

/// Display events that can answer an expectation made at `start` with a deadline: the state
/// in force at the last key edge before `start` (`stale`: it can answer only if nothing replaced
/// it by the deadline, so only once settled), and every event that began after that edge and
/// by the deadline (`fresh`).
fn window(
    entries: &Entries,
    start: Instant,
    deadline: Instant,
) -> (Option<DisplayEvent>, Vec<DisplayEvent>) {
    let anchor = entries
        .actions
        .iter()
        .rev()
        .find(|a| a.at <= start)
        .map_or(start, |a| a.at);
    let stale = entries.display_at(anchor).cloned();
    let fresh = entries
        .display
        .iter()
        .filter(|e| e.first_frame_at > anchor && e.first_frame_at <= deadline)
        .cloned()
        .collect();
    (stale, fresh)
}

/// Whether a reading shows something (a code or a pattern): the display is on.
fn is_on(reading: &LcdReading) -> bool {
    matches!(
        reading,
        LcdReading::Code(_) | LcdReading::Unreadable(Unreadable::InvalidPattern(_))
    )
}

/// A reading in words, for messages.
pub(crate) fn describe(reading: &LcdReading) -> String {
    match reading {
        LcdReading::Code(code) => format!("code {code}"),
        LcdReading::Blank => "a blank display".to_string(),
        LcdReading::Unreadable(Unreadable::InvalidPattern(pattern)) => {
            format!("a pattern that is no digit: {pattern}")
        }
        LcdReading::Unreadable(Unreadable::NotFound) => {
            "no display (not found in the frame)".to_string()
        }
        LcdReading::Unreadable(Unreadable::Blurred) => "a blurred display".to_string(),
        LcdReading::Unreadable(Unreadable::OverExposed) => "an over-exposed display".to_string(),
    }
}

/// The rig's error for an unreadable display, or `None` when the token is to blame.
pub(crate) fn rig_error(reading: &LcdReading, device_s: f64) -> Option<StepResult> {
    match reading {
        LcdReading::Unreadable(why) if !why.is_token_fault() => Some(StepResult::error(format!(
            "camera: cannot read the LCD from {device_s:.3} s on: {}",
            describe(reading)
        ))),
        _ => None,
    }
}

/// The first blank event after `from` (and by `deadline`) that follows a state that was on,
/// with the last on-event before it; and whether the display was on after `from` at all.
fn first_off_after(
    entries: &Entries,
    from: Instant,
    deadline: Instant,
) -> (bool, Option<(DisplayEvent, Option<DisplayEvent>)>) {
    let mut on: Option<&DisplayEvent> = entries.display_at(from).filter(|e| is_on(&e.reading));
    let mut was_on = on.is_some();
    for event in entries
        .display
        .iter()
        .filter(|e| e.first_frame_at > from && e.first_frame_at <= deadline)
    {
        if event.reading == LcdReading::Blank {
            if was_on {
                return (true, Some((event.clone(), on.cloned())));
            }
        } else if is_on(&event.reading) {
            was_on = true;
            on = Some(event);
        }
    }
    (was_on, None)
}

/// The rig's error for the first unreadable (not the token's fault) display state in force at
/// `from` or starting after it, by `deadline`.
fn rig_error_after(
    entries: &Entries,
    from: Instant,
    deadline: Instant,
    device_s: impl Fn(Instant) -> f64,
) -> Option<StepResult> {
    entries
        .display_at(from)
        .into_iter()
        .chain(
            entries
                .display
                .iter()
                .filter(|e| e.first_frame_at > from && e.first_frame_at <= deadline),
        )
        .find_map(|e| rig_error(&e.reading, device_s(e.first_frame_at)))
}

/// What an `expect_display` wait came to: events to judge, or the end of the window.
enum Next {
    Judge(Vec<DisplayEvent>),
    Settled {
        stale: Option<Box<DisplayEvent>>,
        last: Option<Box<DisplayEvent>>,
    },
}

impl Context {
    /// `expect_display`: the display shows `shows` at some time within `within` of now. Only
    /// what the display did after the last key edge counts; the state from before it counts
    /// only if it still holds at the deadline.
    pub async fn expect_display(&mut self, shows: &Shows, within: Duration) -> StepResult {
        let start = Instant::now();
        let deadline = start + within;
        let mut judged: Vec<Instant> = Vec::new();
        // What went wrong with the last event judged, and whether any judged event was on.
        let mut problem: Option<StepResult> = None;
        let mut saw_on = false;
        loop {
            let next = self
                .watch(deadline, |entries, settled| {
                    let (stale, fresh) = window(entries, start, deadline);
                    let unjudged: Vec<DisplayEvent> = fresh
                        .iter()
                        .filter(|e| !judged.contains(&e.first_frame_at))
                        .cloned()
                        .collect();
                    if !unjudged.is_empty() {
                        Some(Next::Judge(unjudged))
                    } else if settled {
                        Some(Next::Settled {
                            stale: stale.filter(|_| fresh.is_empty()).map(Box::new),
                            last: entries.display_at(deadline).cloned().map(Box::new),
                        })
                    } else {
                        None
                    }
                })
                .await;
            let events = match next {
                Err(stop) => return stop.into_result(),
                Ok(Next::Judge(events)) => events,
                Ok(Next::Settled { stale, last }) => {
                    let last = last.map(|e| *e);
                    if let Some(stale) = stale.filter(|e| !judged.contains(&e.first_frame_at)) {
                        judged.push(stale.first_frame_at);
                        saw_on |= is_on(&stale.reading);
                        match self.judge(shows, &stale).await {
                            Ok(pass) => return pass,
                            Err(result) => problem = Some(result),
                        }
                    }
                    let blank_at_end = last.as_ref().is_none_or(|e| e.reading == LcdReading::Blank);
                    return match problem {
                        // The display did show something, and it was wrong: that is the verdict.
                        Some(problem) if saw_on || !blank_at_end => problem,
                        _ if *shows != Shows::Blank => {
                            self.no_reaction(shows, start, deadline, last.as_ref())
                        }
                        Some(problem) => problem,
                        None => StepResult::error("no display event to judge"),
                    };
                }
            };
            for event in events {
                judged.push(event.first_frame_at);
                saw_on |= is_on(&event.reading);
                match self.judge(shows, &event).await {
                    Ok(pass) => return pass,
                    // The oracle itself failed: nothing more to learn by waiting.
                    Err(result)
                        if result.outcome == super::Outcome::Error
                            && matches!(event.reading, LcdReading::Code(_)) =>
                    {
                        return result;
                    }
                    Err(result) => problem = Some(result),
                }
            }
        }
    }

    /// Judges one display event against `shows`: `Ok` a pass, `Err` why not (Fail or Error).
    async fn judge(
        &mut self,
        shows: &Shows,
        event: &DisplayEvent,
    ) -> Result<StepResult, StepResult> {
        let at = self.device_s(event.first_frame_at);
        let code = match &event.reading {
            LcdReading::Code(code) => code.clone(),
            LcdReading::Blank if *shows == Shows::Blank => {
                return Ok(
                    StepResult::pass_with(format!("display blank from {at:.3} s"))
                        .with_frame(&event.frame, "blank display"),
                );
            }
            LcdReading::Blank => {
                return Err(StepResult::fail(format!("display blank at {at:.3} s"))
                    .with_frame(&event.frame, "blank display"));
            }
            reading => {
                return Err(rig_error(reading, at).unwrap_or_else(|| {
                    StepResult::fail(format!(
                        "display shows {} from {at:.3} s",
                        describe(reading)
                    ))
                    .with_frame(&event.frame, "invalid pattern")
                }));
            }
        };
        let caption = format!("display shows {code}");
        let verdict = match shows {
            Shows::Blank => Err(StepResult::fail(format!(
                "display shows code {code} at {at:.3} s, expected it blank"
            ))),
            Shows::Oracle => match self.check_code(&code, event.first_frame_at).await {
                Err(e) => Err(StepResult::error(format!("oracle: {e}"))),
                Ok(verdict) => {
                    let mut result = if verdict.accepted {
                        StepResult::pass_with(format!(
                            "code {code} at {at:.3} s accepted by the {} oracle: {}",
                            self.oracle.name(),
                            verdict.explanation
                        ))
                    } else {
                        StepResult::fail(format!(
                            "code {code} at {at:.3} s rejected by the {} oracle: {}",
                            self.oracle.name(),
                            verdict.explanation
                        ))
                    };
                    if let (Some(offset), Some(window)) = (verdict.offset, self.drift_window) {
                        let w = f64::from(window);
                        result = result.measured(Measurement::new(
                            "otp_step_offset",
                            offset as f64,
                            "steps",
                            Some(-w),
                            Some(w),
                            0.0,
                        ));
                    }
                    if verdict.accepted {
                        Ok(result)
                    } else {
                        Err(result)
                    }
                }
            },
            Shows::Same => match &self.last_code {
                None => Err(StepResult::error(
                    "expect_display same: no code was read earlier in this scenario",
                )),
                Some(before) if *before == code => Ok(StepResult::pass_with(format!(
                    "code {code} at {at:.3} s, the same as before"
                ))),
                Some(before) => Err(StepResult::fail(format!(
                    "code {code} at {at:.3} s differs from the code read before ({before})"
                ))),
            },
            Shows::Different => match &self.last_code {
                None => Err(StepResult::error(
                    "expect_display different: no code was read earlier in this scenario",
                )),
                Some(before) if *before != code => Ok(StepResult::pass_with(format!(
                    "code {code} at {at:.3} s, new (before: {before})"
                ))),
                Some(_) => Err(StepResult::fail(format!(
                    "code {code} at {at:.3} s is the same as the code read before"
                ))),
            },
            Shows::Any if code.len() == self.profile.display_digits => {
                Ok(StepResult::pass_with(format!("code {code} at {at:.3} s")))
            }
            Shows::Any => Err(StepResult::fail(format!(
                "code {code} at {at:.3} s has {} digits, not {}",
                code.len(),
                self.profile.display_digits
            ))),
            Shows::Literal(expected) if *expected == code => {
                Ok(StepResult::pass_with(format!("code {code} at {at:.3} s")))
            }
            Shows::Literal(expected) => Err(StepResult::fail(format!(
                "code {code} at {at:.3} s, expected {expected}"
            ))),
        };
        if verdict.is_ok() {
            self.last_code = Some(code);
        }
        verdict
            .map(|r| r.with_frame(&event.frame, caption.clone()))
            .map_err(|r| r.with_frame(&event.frame, caption))
    }

    /// The display stayed blank where something else was expected: who is to blame depends on
    /// whether press feedback confirmed the contact closed.
    fn no_reaction(
        &self,
        shows: &Shows,
        start: Instant,
        deadline: Instant,
        last: Option<&DisplayEvent>,
    ) -> StepResult {
        let Some(last) = last else {
            return StepResult::error(
                "camera: no display event at all; is the camera seeing the token?",
            );
        };
        let press = self.timeline.entries().last_press(deadline).cloned();
        let waited = (deadline - start).as_secs_f64();
        let result = match press {
            None => StepResult::fail(format!(
                "display stayed blank; expected {} within {waited:.3} s",
                shows_text(shows)
            )),
            Some(press) => {
                let at = self.device_s(press.at);
                match press.confirmed {
                    Some(true) => StepResult::fail(format!(
                        "no reaction to the press of \"{}\" at {at:.3} s: the display stayed blank until {:.3} s although press feedback confirmed the contact closed",
                        press.button,
                        self.device_s(deadline)
                    )),
                    Some(false) => StepResult::error(format!(
                        "relay \"{}\": the contact did not close at {at:.3} s",
                        press.button
                    )),
                    None => StepResult::error(format!(
                        "no reaction to the press of \"{}\" at {at:.3} s: either the relay did not close the contact or the token ignored the press; this rig has no press feedback to tell which",
                        press.button
                    )),
                }
            }
        };
        result.with_frame(&last.frame, "blank display at the deadline")
    }

    /// `expect_off`: the display goes blank, judged against a deadline or the auto-off time.
    pub async fn expect_off(&mut self, expectation: OffExpectation) -> StepResult {
        match expectation {
            OffExpectation::Within(within) => self.expect_display(&Shows::Blank, within).await,
            OffExpectation::AfterRelease { after, tolerance } => {
                let profile_off = self.profile.auto_off.clone();
                let Some(after) = after.or(profile_off.as_ref().map(|a| a.after)) else {
                    return StepResult::error(format!(
                        "expect_off: the profile of {} gives no auto-off time and the step none",
                        self.profile.name
                    ));
                };
                let tolerance = tolerance
                    .or(profile_off.map(|a| a.tolerance))
                    .unwrap_or(Duration::from_secs(1));
                let min = after.saturating_sub(tolerance).as_secs_f64();
                let max = (after + tolerance).as_secs_f64();
                self.time_off(
                    "release_to_off",
                    after + tolerance + (after / 4).max(Duration::from_secs(5)),
                    Some(min),
                    Some(max),
                )
                .await
            }
        }
    }

    /// Times the display going blank after the last key release, waiting up to `within`.
    async fn time_off(
        &mut self,
        name: &str,
        within: Duration,
        min: Option<f64>,
        max: Option<f64>,
    ) -> StepResult {
        let now = Instant::now();
        let Some(release) = self.timeline.entries().last_release(now).cloned() else {
            return StepResult::error(format!(
                "{name}: no key was released before this step; nothing to time from"
            ));
        };
        let deadline = release.at + within;
        let uncertainty = self.timing.edge_to_frame_uncertainty();
        let outcome = self
            .watch(deadline, |entries, settled| {
                let (was_on, off) = first_off_after(entries, release.at, deadline);
                if let Some(found) = off {
                    return Some(Ok((found, was_on)));
                }
                if let Some(error) =
                    rig_error_after(entries, release.at, deadline, |at| self.device_s(at))
                {
                    return Some(Err(error));
                }
                settled.then(|| Err(if was_on {
                    StepResult::fail(format!(
                        "display still on {:.3} s after the last key release at {:.3} s",
                        within.as_secs_f64(),
                        self.device_s(release.at)
                    ))
                } else {
                    StepResult::fail(format!("display was not on after the last key release at {:.3} s; nothing switched off", self.device_s(release.at)))
                }))
            })
            .await;
        match outcome {
            Err(stop) => stop.into_result(),
            Ok(Err(result)) => {
                let last = self
                    .timeline
                    .entries()
                    .display
                    .last()
                    .map(|e| e.frame.clone());
                match last {
                    Some(frame) => result.with_frame(&frame, "display at the deadline"),
                    None => result,
                }
            }
            Ok(Ok(((off, on), _))) => {
                let value = (off.first_frame_at - release.at).as_secs_f64();
                let mut result = StepResult::pass_with(format!(
                    "display blank {value:.3} s after the release at {:.3} s",
                    self.device_s(release.at)
                ))
                .measured(Measurement::new(name, value, "s", min, max, uncertainty))
                .with_frame(&off.frame, "first blank frame");
                if let Some(on) = on {
                    result = result.with_frame(&on.frame, "display before switching off");
                }
                result
            }
        }
    }

    /// `measure`: a timed quantity with limits.
    pub async fn measure(
        &mut self,
        quantity: Quantity,
        min: Option<f64>,
        max: Option<f64>,
        within: Duration,
        relative: bool,
    ) -> StepResult {
        match quantity {
            Quantity::ReleaseToOff => self.time_off(quantity.name(), within, min, max).await,
            Quantity::SpeechLatency
            | Quantity::SpeechLevel
            | Quantity::SpeechLoudness
            | Quantity::SpeechDuration
            | Quantity::DigitRate => {
                self.measure_speech(quantity, min, max, within, relative)
                    .await
            }
            Quantity::PressToDisplay => {
                let now = Instant::now();
                let Some(press) = self.timeline.entries().last_press(now).cloned() else {
                    return StepResult::error(
                        "press_to_display: no key was pressed before this step; nothing to time from",
                    );
                };
                let deadline = press.at + within;
                let uncertainty = self.timing.edge_to_frame_uncertainty();
                let found = self
                    .watch(deadline, |entries, settled| {
                        let shown = entries
                            .display
                            .iter()
                            .find(|e| {
                                e.first_frame_at > press.at
                                    && e.first_frame_at <= deadline
                                    && matches!(e.reading, LcdReading::Code(_))
                            })
                            .cloned();
                        if shown.is_none()
                            && let Some(error) =
                                rig_error_after(entries, press.at, deadline, |at| self.device_s(at))
                        {
                            return Some(Err(error));
                        }
                        match shown {
                            Some(event) => Some(Ok(Some(event))),
                            None if settled => Some(Ok(None)),
                            None => None,
                        }
                    })
                    .await;
                match found {
                    Err(stop) => stop.into_result(),
                    Ok(Err(error)) => error,
                    Ok(Ok(None)) => StepResult::fail(format!(
                        "press_to_display: no code shown within {:.3} s of the press at {:.3} s",
                        within.as_secs_f64(),
                        self.device_s(press.at)
                    )),
                    Ok(Ok(Some(event))) => {
                        let value = (event.first_frame_at - press.at).as_secs_f64();
                        StepResult::pass_with(format!("code shown {value:.3} s after the press"))
                            .measured(Measurement::new(
                                quantity.name(),
                                value,
                                "s",
                                min,
                                max,
                                uncertainty,
                            ))
                            .with_frame(&event.frame, "first frame showing the code")
                    }
                }
            }
        }
    }

    /// `expect_log`: a console line matching `pattern` arrives within `within`.
    pub async fn expect_log(
        &mut self,
        pattern: &regex::Regex,
        within: Duration,
        since: Instant,
    ) -> StepResult {
        if !self.has_console {
            return StepResult::error("expect_log: this rig has no console wired");
        }
        let deadline = Instant::now() + within;
        let found = self
            .watch(deadline, |entries, settled| {
                let hit = entries
                    .logs
                    .iter()
                    .find(|l| {
                        l.captured_at >= since
                            && l.captured_at <= deadline
                            && pattern.is_match(&l.text)
                    })
                    .cloned();
                first_or_settled(hit, settled)
            })
            .await;
        match found {
            Err(stop) => stop.into_result(),
            Ok(Some(line)) => StepResult::pass_with(format!(
                "console at {:.3} s: {}",
                self.device_s(line.captured_at),
                line.text
            )),
            Ok(None) => StepResult::fail(format!(
                "no console line matched /{pattern}/ within {:.3} s",
                within.as_secs_f64()
            )),
        }
    }

    /// `power_off`: leaves the token off — its off key, else its auto-off.
    pub async fn power_off(&mut self, within: Duration) -> StepResult {
        let off_input = self.profile.off_input().map(str::to_string);
        // Twice: if auto-off came just before the off key, that key switched the token on.
        for attempt in 0..2 {
            let now = Instant::now();
            let state = self
                .watch(now, |entries, settled| {
                    settled.then(|| entries.display_at(now).cloned())
                })
                .await;
            let state = match state {
                Err(stop) => return stop.into_result(),
                Ok(None) => {
                    return StepResult::error(
                        "camera: no display event yet; cannot tell whether the token is on",
                    );
                }
                Ok(Some(state)) => state,
            };
            if state.reading == LcdReading::Blank {
                return StepResult::pass_with(if attempt == 0 {
                    "already off"
                } else {
                    "switched off"
                });
            }
            if let Some(error) = rig_error(&state.reading, self.device_s(state.first_frame_at)) {
                return error;
            }
            let Some(input) = &off_input else { break };
            let pressed = self.input(&input.clone()).await;
            if pressed.outcome != super::Outcome::Pass {
                return pressed;
            }
            let off = self.expect_display(&Shows::Blank, within).await;
            if off.outcome != super::Outcome::Fail {
                return off;
            }
        }
        // The off key did not work (or there is none): wait for auto-off.
        let Some(auto_off) = self.profile.auto_off.clone() else {
            return StepResult::fail(format!(
                "the token stayed on after its off key ({})",
                off_input.unwrap_or_default()
            ));
        };
        let waited = self
            .expect_off(OffExpectation::AfterRelease {
                after: Some(auto_off.after),
                tolerance: Some(auto_off.tolerance),
            })
            .await;
        match (waited.outcome, off_input) {
            (super::Outcome::Pass, Some(input)) => StepResult {
                outcome: super::Outcome::Fail,
                message: Some(format!(
                    "the off key ({input}) did not switch the token off; auto-off did"
                )),
                ..waited
            },
            (super::Outcome::Pass, None) => waited,
            _ => StepResult {
                message: Some(format!(
                    "the token could not be switched off: {}",
                    waited.message.unwrap_or_default()
                )),
                ..waited
            },
        }
    }
}

fn shows_text(shows: &Shows) -> String {
    match shows {
        Shows::Oracle => "a code the oracle accepts".into(),
        Shows::Same => "the same code as before".into(),
        Shows::Different => "a new code".into(),
        Shows::Any => "a code".into(),
        Shows::Blank => "a blank display".into(),
        Shows::Literal(code) => format!("code {code}"),
    }
}
