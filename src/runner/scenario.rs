//! Running one scenario: start the source and perception tasks, run setup, steps and teardown,
//! release the relays and stop the tasks in order, and return the scenario's record.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Outcome;
use super::context::{BenchTiming, Context, StepResult};
use super::evidence::EvidenceWriter;
use super::journal::{Journal, round_ms};
use super::record::{FrameCounts, Phase, ScenarioRecord, Statistic, StepRecord};
use super::tasks::{CameraTask, ConsoleTask, LcdTask, ListenerTask, MicrophoneTask, spawn_stage};
use super::timeline::Timeline;
use crate::config::scenario::{OffExpectation, Says, Scenario, Shows, Step, StepAction};
use crate::config::token::TokenProfile;
use crate::oracle::Oracle;
use crate::perception::capture::AudioCapture;
use crate::perception::features::SAMPLE_RATE;
use crate::perception::lcd::LcdReader;
use crate::perception::listener::{LanguageChoice, Listener};
use crate::perception::observation::DisplayTracker;
use crate::perception::segmenter::Segmenter;
use crate::rig::{self, Rig};

/// Everything one scenario run needs.
pub struct ScenarioRun<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// The rig's name, for the record.
    pub rig_name: String,
    /// The rig's devices.
    pub rig: Rig,
    /// The LCD reader configured for this rig.
    pub reader: LcdReader,
    /// The bench's timing facts.
    pub timing: BenchTiming,
    /// The token profile.
    pub profile: TokenProfile,
    /// The oracle.
    pub oracle: Oracle,
    /// Accepted drift of time-based codes, steps each way.
    pub drift_window: Option<u32>,
    /// The run's journal.
    pub journal: Journal,
    /// Where evidence goes.
    pub evidence: EvidenceWriter,
    /// The operator's abort.
    pub cancel: CancellationToken,
    /// When the run started.
    pub run_start: Instant,
    /// How long tasks get to stop.
    pub shutdown_grace: Duration,
    /// The speech listener and the language it expects, for rigs with a microphone.
    pub listener: Option<(Arc<Listener>, LanguageChoice)>,
    /// The unit's serial number (from the rig file).
    pub serial: String,
}

/// Runs a scenario to its record. Relays are released on every path out of here.
pub async fn run_scenario(run: ScenarioRun<'_>) -> ScenarioRecord {
    let ScenarioRun {
        scenario,
        rig_name,
        rig,
        reader,
        timing,
        profile,
        oracle,
        drift_window,
        journal,
        evidence,
        cancel,
        run_start,
        shutdown_grace,
        listener,
        serial,
    } = run;
    let timeline = Timeline::new(run_start, journal.clone());
    let started = Instant::now();
    let _ = journal.append(timeline.device_s(started), "scenario_started", json!({ "scenario": scenario.name, "file": scenario.file.display().to_string(), "rig": rig_name }));

    let Rig {
        microphone,
        buttons,
        camera,
        camera_phase,
        console,
        clock,
    } = rig;
    // Released again on every way out, a panic included; the normal path releases explicitly
    // below so that a failure can be recorded.
    let _release = rig::ReleaseOnDrop(buttons.clone());
    // Not a child of the operator's token: on Ctrl-C the relays are released first, and the
    // sources are stopped after (the shutdown order).
    let sources = CancellationToken::new();
    let tracker = TaskTracker::new();
    let (frames_tx, frames_rx) = watch::channel(None);
    let captured = Arc::new(AtomicU64::new(0));
    let camera_name = camera.id().to_string();
    spawn_stage(
        &tracker,
        &timeline,
        "camera",
        camera_name.clone(),
        CameraTask {
            camera,
            phase: camera_phase,
            frames: frames_tx,
            captured: captured.clone(),
        }
        .run(sources.clone()),
    );
    let lcd = LcdTask {
        reader,
        tracker: DisplayTracker::new(timing.stable_frames),
        frames: frames_rx,
        timeline: timeline.clone(),
        captured,
    };
    spawn_stage(
        &tracker,
        &timeline,
        "lcd",
        camera_name,
        lcd.run(sources.clone()),
    );
    let has_console = console.is_some();
    if let Some(console) = console {
        let name = console.id().to_string();
        spawn_stage(
            &tracker,
            &timeline,
            "console",
            name,
            ConsoleTask {
                console,
                timeline: timeline.clone(),
                poll: Duration::from_millis(20),
            }
            .run(sources.clone()),
        );
    }

    let has_microphone = match (microphone, listener) {
        (Some(microphone), Some((listener, language))) => {
            let name = microphone.id().to_string();
            let microphone_id = microphone.id().clone();
            let (blocks_tx, blocks_rx) = mpsc::channel(256);
            let dropped = Arc::new(AtomicU64::new(0));
            let sample_rate_task = MicrophoneTask {
                microphone,
                blocks: blocks_tx,
                dropped: dropped.clone(),
            };
            spawn_stage(
                &tracker,
                &timeline,
                "microphone",
                name.clone(),
                sample_rate_task.run(sources.clone()),
            );
            let listen = ListenerTask {
                capture: AudioCapture::new(timeline.audio_ring()),
                segmenter: Segmenter::new(SAMPLE_RATE),
                microphone: microphone_id,
                listener,
                language,
                blocks: blocks_rx,
                timeline: timeline.clone(),
                dropped,
            };
            spawn_stage(
                &tracker,
                &timeline,
                "listener",
                name,
                listen.run(sources.clone()),
            );
            true
        }
        _ => false,
    };
    let mut ctx = Context {
        timeline: timeline.clone(),
        buttons: buttons.clone(),
        clock,
        timing,
        profile,
        oracle,
        drift_window,
        cancel: cancel.clone(),
        evidence,
        last_code: None,
        verdicts: Vec::new(),
        has_console,
        has_microphone,
        serial,
        last_speech: None,
        scenario_start: started,
    };
    let mut records = Vec::new();
    let mut stopped = warm_up(&mut ctx, &mut records).await;
    if stopped.is_none() {
        stopped = run_steps(&mut ctx, &scenario.setup, Phase::Setup, None, &mut records).await;
    }
    if stopped.is_none() {
        stopped = run_steps(&mut ctx, &scenario.steps, Phase::Steps, None, &mut records).await;
    } else {
        skip_all(
            &ctx,
            &scenario.steps,
            Phase::Steps,
            "setup did not pass",
            &mut records,
        );
    }
    if stopped == Some(Outcome::Aborted) {
        skip_all(
            &ctx,
            &scenario.teardown,
            Phase::Teardown,
            "aborted by the operator",
            &mut records,
        );
    } else {
        // Teardown always runs, every step of it, whatever the steps came to.
        for step in &scenario.teardown {
            run_steps(
                &mut ctx,
                std::slice::from_ref(step),
                Phase::Teardown,
                None,
                &mut records,
            )
            .await;
        }
    }

    // Shutdown order: relays, sources, then wait for the stages to drain.
    let released = rig::release_all(&buttons);
    let _ = journal.append(
        timeline.device_s(Instant::now()),
        "relays_released",
        json!({ "ok": released.is_ok() }),
    );
    if let Err(e) = released {
        tracing::error!("releasing relays: {e}");
        records.push(plain_record(
            &ctx,
            Phase::Teardown,
            "shutdown",
            "release_all",
            "release every relay",
            StepResult::error(format!("releasing relays: {e}")),
        ));
    }
    sources.cancel();
    tracker.close();
    if tokio::time::timeout(shutdown_grace, tracker.wait())
        .await
        .is_err()
    {
        tracing::error!(
            "tasks still running {} s after shutdown began",
            shutdown_grace.as_secs_f64()
        );
    }

    let ended = Instant::now();
    let outcome = records
        .iter()
        .map(|r| r.outcome)
        .find(|o| !matches!(o, Outcome::Pass | Outcome::Skip))
        .unwrap_or(Outcome::Pass);
    let message = records
        .iter()
        .find(|r| r.outcome == outcome && outcome != Outcome::Pass)
        .and_then(|r| r.message.as_ref().map(|m| format!("{}: {m}", r.path)));
    let frames = {
        let entries = timeline.entries();
        FrameCounts {
            audio_blocks_dropped: entries.audio_dropped,
            ..entries.frames
        }
    };
    let _ = journal.append(
        timeline.device_s(ended),
        "scenario_finished",
        json!({ "scenario": scenario.name, "outcome": outcome, "message": message }),
    );
    ScenarioRecord {
        name: scenario.name.clone(),
        file: scenario.file.display().to_string(),
        token: scenario.token.clone(),
        rig: rig_name,
        verifies: scenario.verifies.clone(),
        outcome,
        message,
        started_s: round_ms(timeline.device_s(started)),
        device_s: round_ms((ended - started).as_secs_f64()),
        statistics: statistics(&records),
        steps: records,
        frames,
    }
}

/// Waits for the first display event, so that a rig that sees nothing errs before any press.
async fn warm_up(ctx: &mut Context, records: &mut Vec<StepRecord>) -> Option<Outcome> {
    let now = Instant::now();
    let result = match ctx
        .watch(now, |entries, settled| {
            settled.then(|| entries.display.last().cloned())
        })
        .await
    {
        Err(stop) => stop.into_result(),
        Ok(None) => StepResult::error("camera: frames arrive but no display reading settled"),
        Ok(Some(event)) => {
            super::expectation::rig_error(&event.reading, ctx.device_s(event.first_frame_at))
                .unwrap_or_else(|| {
                    StepResult::pass_with(format!("camera sees {:?}", event.reading))
                })
        }
    };
    let outcome = result.outcome;
    let record = finish(
        ctx,
        Phase::Setup,
        "warm_up",
        None,
        "warm_up",
        "wait for the first display reading".into(),
        now,
        result,
    );
    records.push(record);
    outcome.is_stopping().then_some(outcome)
}

/// Runs steps in order until one does not pass; returns that outcome.
fn run_steps<'a>(
    ctx: &'a mut Context,
    steps: &'a [Step],
    phase: Phase,
    iteration: Option<u32>,
    records: &'a mut Vec<StepRecord>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Outcome>> + 'a>> {
    Box::pin(async move {
        for (i, step) in steps.iter().enumerate() {
            if let StepAction::Repeat {
                times,
                steps: inner,
            } = &step.action
            {
                for n in 1..=*times {
                    if let Some(stop) = run_steps(ctx, inner, phase, Some(n), records).await {
                        skip_all(
                            ctx,
                            &steps[i + 1..],
                            phase,
                            "an earlier step did not pass",
                            records,
                        );
                        return Some(stop);
                    }
                }
                continue;
            }
            let started = Instant::now();
            let _ = ctx.timeline.journal().append(
                ctx.device_s(started),
                "step_started",
                json!({ "path": step.path, "kind": step.action.kind(), "iteration": iteration }),
            );
            let result = execute(ctx, step).await;
            let outcome = result.outcome;
            let record = finish(
                ctx,
                phase,
                &step.path,
                iteration,
                step.action.kind(),
                describe(step),
                started,
                result,
            );
            records.push(record);
            if outcome.is_stopping() {
                skip_all(
                    ctx,
                    &steps[i + 1..],
                    phase,
                    "an earlier step did not pass",
                    records,
                );
                return Some(outcome);
            }
        }
        None
    })
}

async fn execute(ctx: &mut Context, step: &Step) -> StepResult {
    match &step.action {
        StepAction::Press { button, hold } => ctx.press(button, *hold).await,
        StepAction::Chord { keys, hold } => ctx.chord(keys, *hold).await,
        StepAction::Hold { button, duration } => ctx.press(button, Some(*duration)).await,
        StepAction::Wait(duration) => ctx.wait(*duration).await,
        StepAction::WaitForStepStart { margin } => ctx.wait_for_step_start(*margin).await,
        StepAction::ExpectDisplay { shows, within } => ctx.expect_display(shows, *within).await,
        StepAction::ExpectOff(expectation) => ctx.expect_off(*expectation).await,
        StepAction::ExpectLog {
            pattern,
            within,
            since_scenario_start,
        } => {
            let since = if *since_scenario_start {
                ctx.scenario_start
            } else {
                Instant::now()
            };
            ctx.expect_log(pattern, *within, since).await
        }
        StepAction::Measure {
            quantity,
            min,
            max,
            within,
            relative,
        } => ctx.measure(*quantity, *min, *max, *within, *relative).await,
        StepAction::ExpectSpeech {
            says,
            language,
            within,
        } => ctx.expect_speech(says, language.as_deref(), *within).await,
        StepAction::RestoreSettings => ctx.restore_settings().await,
        StepAction::ExpectSilence { duration } => ctx.expect_silence(*duration).await,
        StepAction::PowerOff { within } => ctx.power_off(*within).await,
        StepAction::Repeat { .. } => StepResult::error("repeat is expanded by the runner"),
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    ctx: &mut Context,
    phase: Phase,
    path: &str,
    iteration: Option<u32>,
    kind: &str,
    description: String,
    started: Instant,
    result: StepResult,
) -> StepRecord {
    let (evidence, problem) = ctx.save_evidence(path, &result);
    let mut message = result.message;
    if let Some(problem) = problem {
        message = Some(format!(
            "{} (evidence not saved: {problem})",
            message.unwrap_or_default()
        ));
    }
    let ended = Instant::now();
    let record = StepRecord {
        phase,
        path: path.to_string(),
        iteration,
        kind: kind.to_string(),
        description,
        outcome: result.outcome,
        message,
        started_s: round_ms(ctx.device_s(started)),
        ended_s: round_ms(ctx.device_s(ended)),
        measurements: result.measurements,
        evidence,
    };
    let _ = ctx.timeline.journal().append(
        ctx.device_s(ended),
        "step_finished",
        json!({ "path": record.path, "iteration": iteration, "outcome": record.outcome, "message": record.message, "measurements": record.measurements, "evidence": record.evidence }),
    );
    record
}

fn plain_record(
    ctx: &Context,
    phase: Phase,
    path: &str,
    kind: &str,
    description: &str,
    result: StepResult,
) -> StepRecord {
    let now = round_ms(ctx.device_s(Instant::now()));
    StepRecord {
        phase,
        path: path.into(),
        iteration: None,
        kind: kind.into(),
        description: description.into(),
        outcome: result.outcome,
        message: result.message,
        started_s: now,
        ended_s: now,
        measurements: result.measurements,
        evidence: Vec::new(),
    }
}

fn skip_all(ctx: &Context, steps: &[Step], phase: Phase, why: &str, records: &mut Vec<StepRecord>) {
    for step in steps {
        let mut result = StepResult::pass();
        result.outcome = Outcome::Skip;
        result.message = Some(format!("not run: {why}"));
        records.push(plain_record(
            ctx,
            phase,
            &step.path,
            step.action.kind(),
            &describe(step),
            result,
        ));
    }
}

/// min/median/max of each measurement repeated inside a `repeat`.
fn statistics(records: &[StepRecord]) -> Vec<Statistic> {
    let mut groups: Vec<(String, String, String, Vec<f64>)> = Vec::new();
    for record in records.iter().filter(|r| r.iteration.is_some()) {
        for m in &record.measurements {
            match groups
                .iter_mut()
                .find(|(path, name, _, _)| *path == record.path && *name == m.name)
            {
                Some((_, _, _, values)) => values.push(m.value),
                None => groups.push((
                    record.path.clone(),
                    m.name.clone(),
                    m.unit.clone(),
                    vec![m.value],
                )),
            }
        }
    }
    groups
        .into_iter()
        .map(|(path, name, unit, mut values)| {
            values.sort_by(f64::total_cmp);
            let n = values.len();
            let median = if n % 2 == 1 {
                values[n / 2]
            } else {
                (values[n / 2 - 1] + values[n / 2]) / 2.0
            };
            Statistic {
                path,
                name,
                unit,
                count: n,
                min: values[0],
                median,
                max: values[n - 1],
            }
        })
        .collect()
}

fn secs(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// A step in words, for records.
pub fn describe(step: &Step) -> String {
    let text = match &step.action {
        StepAction::Press { button, hold } => match hold {
            Some(hold) => format!("press \"{button}\" for {}", secs(*hold)),
            None => format!("press \"{button}\""),
        },
        StepAction::Chord { keys, .. } => format!("chord {}", keys.join("+")),
        StepAction::Hold { button, duration } => {
            format!("hold \"{button}\" for {}", secs(*duration))
        }
        StepAction::Wait(d) => format!("wait {}", secs(*d)),
        StepAction::WaitForStepStart { margin } => {
            format!("wait for the next OTP time step, +{}", secs(*margin))
        }
        StepAction::ExpectDisplay { shows, within } => {
            let what = match shows {
                Shows::Oracle => "a code the oracle accepts".to_string(),
                Shows::Same => "the same code as before".to_string(),
                Shows::Different => "a code different from before".to_string(),
                Shows::Any => "any code".to_string(),
                Shows::Blank => "blank".to_string(),
                Shows::Literal(code) => format!("code {code}"),
            };
            format!("expect the display to show {what} within {}", secs(*within))
        }
        StepAction::ExpectOff(OffExpectation::Within(d)) => {
            format!("expect the display off within {}", secs(*d))
        }
        StepAction::ExpectOff(OffExpectation::AfterRelease { after, tolerance }) => format!(
            "expect auto-off {} ± {} after the last key release",
            after.map_or("(profile)".to_string(), secs),
            tolerance.map_or("(profile)".to_string(), secs)
        ),
        StepAction::ExpectLog {
            pattern, within, ..
        } => format!(
            "expect a console line matching /{pattern}/ within {}",
            secs(*within)
        ),
        StepAction::Measure {
            quantity,
            min,
            max,
            relative,
            ..
        } => {
            let limit = |v: &Option<f64>| v.map_or("-".to_string(), |v| format!("{v}"));
            format!(
                "measure {}{} within [{}, {}] {}",
                quantity.name(),
                if *relative {
                    " relative to the previous utterance"
                } else {
                    ""
                },
                limit(min),
                limit(max),
                quantity.unit(*relative)
            )
        }
        StepAction::ExpectSpeech {
            says,
            language,
            within,
        } => {
            let what = match says {
                Says::Display => "the code displayed".to_string(),
                Says::Oracle => "a code the oracle accepts".to_string(),
                Says::Serial => "the serial number".to_string(),
                Says::Same => "the same digits as before".to_string(),
                Says::Any => "any digits".to_string(),
                Says::Literal(digits) => digits.clone(),
            };
            let language = language
                .as_ref()
                .map_or(String::new(), |l| format!(" in {l}"));
            format!("expect speech of {what}{language} within {}", secs(*within))
        }
        StepAction::RestoreSettings => {
            "restore volume, speed and language to the defaults".to_string()
        }
        StepAction::ExpectSilence { duration } => {
            format!(
                "expect no speech for {} after the last key",
                secs(*duration)
            )
        }
        StepAction::Repeat { times, steps } => format!("repeat {times}× {} steps", steps.len()),
        StepAction::PowerOff { .. } => "switch the token off".to_string(),
    };
    match &step.name {
        Some(name) => format!("{name}: {text}"),
        None => text,
    }
}
