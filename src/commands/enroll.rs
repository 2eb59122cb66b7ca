//! `otprig enroll --rig FILE --lang L`: builds a voice pack from the device on the rig.
//!
//! It makes the token speak through its relays and labels the words it hears with digits the
//! rig knows: each code reading (the key that shows a code, then the repeat chord) with the code
//! the LCD reader sees, the serial number reading with the serial the rig file declares. Between
//! rounds it switches the token off and waits one OTP time step for a new code, until every digit
//! has [`WANTED`] examples or [`MAX_ROUNDS`] have passed. The pack is written to `--out` as
//! `<out>/<lang>/<digit>.wav` (see [`Enrolment`]).
//!
//! The token must speak `L`. When the rig's current voice pack can tell the language (it holds
//! both) and hears the other one in the first reading, enroll presses the language chord once
//! and starts again; otherwise `L` is taken as said, and the output says so. A token switched so
//! is switched back at the end, and one more reading confirms it speaks its own language again:
//! a lab bench is left as it was found.
//!
//! Every press, every reading (what the LCD showed, when the speech began and ended, whether its
//! words were used) and the outcome go to `<out>/<lang>/enroll.jsonl` as they happen, in the
//! run journal's format: the pack's provenance, readable after a crash.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::app::{EXIT_RIG_ERROR, build_rig, lcd_reader_for};
use crate::cli::EnrollArgs;
use crate::config::RigConfig;
use crate::config::rig::{Backend, file_beside};
use crate::config::token::Action;
use crate::error::Error;
use crate::perception::capture::{AudioCapture, AudioRing};
use crate::perception::enrolment::Enrolment;
use crate::perception::lcd::LcdReading;
use crate::perception::listener::{LanguageChoice, Listener};
use crate::perception::observation::DisplayTracker;
use crate::perception::segmenter::{Segmenter, Utterance};
use crate::perception::voice_pack::VoicePack;
use crate::rig::{self, Camera, Microphone, ReleaseOnDrop, SharedButtons};
use crate::runner::journal::{Journal, round_ms};

/// Examples wanted of every digit.
pub const WANTED: usize = 2;
/// Code rounds at most (a round: show, repeat; the first also reads the serial number).
pub const MAX_ROUNDS: usize = 8;
/// How long a reading may take to start and end after its key.
const SPEECH_TIMEOUT: Duration = Duration::from_secs(15);
/// The LCD's code is taken at least this long after the key (the display settles).
const DISPLAY_WAIT: Duration = Duration::from_secs(2);

/// What the camera and microphone tasks have seen.
#[derive(Default)]
struct Senses {
    /// Stable display readings with the capture time of their first frame, in order.
    display: Vec<(Instant, LcdReading)>,
    /// Utterances, in order.
    utterances: Vec<Utterance>,
    /// A task's failure, naming the device.
    failure: Option<String>,
}

type SharedSenses = Arc<Mutex<Senses>>;

fn lock(senses: &SharedSenses) -> std::sync::MutexGuard<'_, Senses> {
    match senses.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Runs `otprig enroll`; exit 0 with the pack written, 2 when the rig could not make one.
pub async fn enroll_command(args: &EnrollArgs) -> Result<i32, Error> {
    let config = RigConfig::load(&args.rig)?;
    if config.backend == Backend::Lab {
        tokio::time::resume();
    }
    let profile = &config.token.profile;
    let speaks = profile
        .speech
        .as_ref()
        .is_some_and(|s| s.languages.iter().any(|l| l == &args.lang));
    if !speaks {
        return Err(Error::Usage(format!(
            "{}: the token ({}) does not speak {:?}",
            config.file.display(),
            profile.name,
            args.lang
        )));
    }
    let Some(microphone_config) = config.microphone.clone() else {
        return Err(Error::Usage(format!(
            "{}: the rig has no microphone",
            config.file.display()
        )));
    };
    let input = |state: &str, action: Action| profile.input_for(state, action).map(str::to_owned);
    let show = profile.show_code_input().map(str::to_owned);
    let (Some(show), Some(off)) = (show, profile.off_input().map(str::to_owned)) else {
        return Err(Error::Usage(format!(
            "{}: the token's profile has no key that shows a code and switches it off",
            profile.file.display()
        )));
    };
    let repeat = input("on", Action::RepeatCode);
    let serial = input("on", Action::ReadSerial);
    let toggle = input("on", Action::ToggleLanguage);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| file_beside(&config.file, "voice"));

    let rig = build_rig(&config, args.seed, &[])?;
    let _release = ReleaseOnDrop(rig.buttons.clone());
    let journal_folder = out.join(&args.lang);
    std::fs::create_dir_all(&journal_folder)
        .map_err(|e| Error::Usage(format!("{}: {e}", journal_folder.display())))?;
    let journal = Journal::create(&journal_folder.join("enroll.jsonl"))?;
    let Some(microphone) = rig.microphone else {
        return Err(Error::Usage(format!(
            "{}: the rig has no microphone",
            config.file.display()
        )));
    };
    let senses: SharedSenses = Arc::default();
    let cancel = CancellationToken::new();
    let camera_task = tokio::spawn(watch_display(
        rig.camera,
        lcd_reader_for(&config),
        DisplayTracker::new(config.camera.stable_frames),
        senses.clone(),
        cancel.clone(),
    ));
    let microphone_task = tokio::spawn(listen(microphone, senses.clone(), cancel.clone()));
    let press = Presser {
        buttons: rig.buttons.clone(),
        hold: profile.timing.press,
        gap: profile.timing.chord_gap,
        journal: journal.clone(),
        started: Instant::now(),
    };
    journal.append(
        0.0,
        "enroll_started",
        json!({ "rig": config.name, "token": profile.name, "language": args.lang }),
    )?;
    let checker = VoicePack::load(&microphone_config.voice_pack)
        .ok()
        .filter(|pack| pack.languages().len() > 1)
        .map(Listener::new);

    println!(
        "otprig enroll: {} ({}), language {}",
        config.name, profile.name, args.lang
    );
    let mut enrolment = Enrolment::new();
    let mut readings: Vec<(Utterance, String)> = Vec::new();
    let mut language_checked = checker.is_none();
    // The language the token spoke before enroll switched it.
    let mut switched_from: Option<String> = None;
    if checker.is_none() {
        println!(
            "  the rig's voice pack cannot tell the language: the token is taken to speak {}",
            args.lang
        );
    }
    let result: Result<(), String> = async {
        let mut round = 0;
        let mut started = false;
        while round < MAX_ROUNDS {
            if started {
                press.input(&off, "off").await?;
                // A new code comes with the next time step.
                tokio::time::sleep(profile.otp.step).await;
            }
            let (pressed, utterance) = press.hear(&show, "show a code", &senses).await?;
            started = true;
            let code = code_shown(&senses, pressed).await?;
            press.note("display", json!({ "code": code }))?;
            if !language_checked {
                language_checked = true;
                if let Some(listener) = &checker {
                    let heard = language_of(listener, &utterance, &[code.len()]);
                    press.note("language_heard", json!({ "language": heard }))?;
                    if let Some(language) = heard.filter(|l| l != &args.lang) {
                        let Some(toggle) = &toggle else {
                            return Err(format!(
                                "the token speaks {language}, and its profile has no language chord"
                            ));
                        };
                        println!(
                            "  the token speaks {language}: pressing {toggle} for {}",
                            args.lang
                        );
                        press.input(toggle, "switch the language").await?;
                        switched_from = Some(language);
                        continue;
                    }
                    println!(
                        "  the rig's voice pack hears {} in the first reading",
                        args.lang
                    );
                }
            }
            round += 1;
            let mut take = |what: &str, utterance: Utterance, digits: &str| {
                let refused = enrolment.add_reading(&utterance, digits).err();
                match &refused {
                    None => {
                        println!("  {what} {digits}: {} words", digits.len());
                        readings.push((utterance, digits.to_owned()));
                    }
                    Some(e) => println!("  {what} {digits}: not used ({e})"),
                }
                let not_used = refused.map(|e| e.to_string());
                press.note(
                    "reading",
                    json!({ "what": what, "digits": digits, "not_used": not_used }),
                )
            };
            take(&format!("round {round}, code"), utterance, &code)?;
            if let Some(repeat) = &repeat {
                let (_, utterance) = press.hear(repeat, "repeat the code", &senses).await?;
                take(&format!("round {round}, repeat"), utterance, &code)?;
            }
            if round == 1
                && let Some(serial) = &serial
                && !config.token.serial.is_empty()
            {
                let (_, utterance) = press.hear(serial, "read the serial number", &senses).await?;
                take("serial number", utterance, &config.token.serial)?;
            }
            if enrolment.short_of(WANTED).is_empty() {
                break;
            }
        }
        if let (Some(original), Some(toggle), Some(listener)) = (&switched_from, &toggle, &checker)
        {
            println!("  switching the token back to {original}: pressing {toggle}");
            press.input(toggle, "switch the language").await?;
            press.input(&off, "off").await?;
            let (_, utterance) = press.hear(&show, "show a code", &senses).await?;
            let heard = language_of(listener, &utterance, &[]);
            press.note("language_heard", json!({ "language": heard }))?;
            match heard {
                Some(language) if &language == original => {
                    println!("  the token speaks {language} again");
                }
                other => {
                    return Err(format!(
                        "the token was switched back to {original}, but its reading was heard in {}",
                        other.as_deref().unwrap_or("no language")
                    ));
                }
            }
        }
        press.input(&off, "off").await
    }
    .await;
    cancel.cancel();
    let _ = camera_task.await;
    let _ = microphone_task.await;
    rig::release_all(&rig.buttons)?;
    let counts = enrolment.counts();
    let examples: serde_json::Map<String, serde_json::Value> = counts
        .iter()
        .map(|(digit, n)| (digit.to_string(), json!(n)))
        .collect();
    let written = result.and_then(|()| {
        enrolment
            .write_pack(&out, &args.lang)
            .map_err(|e| e.to_string())
    });
    let outcome = match &written {
        Ok(_) => json!({ "outcome": "pack written", "examples": examples }),
        Err(message) => json!({ "outcome": "rig error", "message": message, "examples": examples }),
    };
    journal.append(press.device_s(Instant::now()), "enroll_finished", outcome)?;
    let written = match written {
        Ok(written) => written,
        Err(message) => {
            eprintln!("otprig enroll: {}: {message}", config.name);
            return Ok(EXIT_RIG_ERROR);
        }
    };
    for (digit, path) in written.iter().enumerate() {
        let examples = counts.get(&(digit as u8)).copied().unwrap_or(0);
        println!(
            "{}: the most typical of {examples} examples",
            path.display()
        );
    }
    check_pack(&out, &args.lang, &readings);
    Ok(0)
}

/// Hears the enrolled readings again with the new pack and prints how many it gets right: a
/// pack that cannot hear its own readings is a bad enrolment.
fn check_pack(out: &std::path::Path, language: &str, readings: &[(Utterance, String)]) {
    let pack = match VoicePack::load(out) {
        Ok(pack) => pack,
        Err(e) => {
            println!("  the new pack does not load: {e}");
            return;
        }
    };
    let listener = Listener::new(pack);
    let right = readings
        .iter()
        .filter(|(u, digits)| {
            let heard = listener.recognise(
                &u.samples,
                u.sample_rate,
                &LanguageChoice::Fixed(language.to_owned()),
                &[digits.len()],
            );
            heard.digits.as_deref() == Some(digits.as_str())
        })
        .count();
    println!(
        "{}: {language} pack written; it hears {right} of its {} readings right",
        out.display(),
        readings.len()
    );
}

/// The first utterance that starts after `after`, waiting for it to end.
async fn next_utterance(senses: &SharedSenses, after: Instant) -> Result<Utterance, String> {
    let deadline = after + SPEECH_TIMEOUT;
    loop {
        {
            let senses = lock(senses);
            if let Some(failure) = &senses.failure {
                return Err(failure.clone());
            }
            if let Some(u) = senses.utterances.iter().find(|u| u.start > after) {
                return Ok(u.clone());
            }
        }
        if Instant::now() > deadline {
            return Err(format!(
                "no speech within {} s of the key",
                SPEECH_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The code the LCD shows after `after` (the last stable reading seen by then).
async fn code_shown(senses: &SharedSenses, after: Instant) -> Result<String, String> {
    let until = after + DISPLAY_WAIT;
    if Instant::now() < until {
        tokio::time::sleep_until(until).await;
    }
    let senses = lock(senses);
    match senses.display.iter().rev().find(|(at, _)| *at > after) {
        Some((_, LcdReading::Code(code))) => Ok(code.clone()),
        Some((_, other)) => Err(format!("the LCD reader sees {other:?}, not a code")),
        None => Err("the LCD showed no new reading after the key".into()),
    }
}

/// Presses the token's inputs (`red`, `red+0`) through the relays with its profile's timing,
/// and journals each press and what it made the token say.
struct Presser {
    buttons: SharedButtons,
    hold: Duration,
    gap: Duration,
    journal: Journal,
    /// Device time 0 of the journal.
    started: Instant,
}

impl Presser {
    /// Seconds since the enrolment started, at `at`.
    fn device_s(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.started).as_secs_f64()
    }

    /// Appends an event to the enrolment's journal, stamped now.
    fn note(&self, event: &str, fields: serde_json::Value) -> Result<(), String> {
        self.journal
            .append(self.device_s(Instant::now()), event, fields)
            .map_err(|e| e.to_string())
    }

    /// Presses `input`, which is meant to do `purpose` (journalled with it).
    async fn input(&self, input: &str, purpose: &str) -> Result<(), String> {
        self.note("press", json!({ "input": input, "purpose": purpose }))?;
        rig::press_input(&self.buttons, input, self.hold, self.gap)
            .await
            .map_err(|e| e.to_string())
    }

    /// Presses `input` and waits for what the token says after it; also gives when the press
    /// began (the display's reading after it is the code spoken).
    async fn hear(
        &self,
        input: &str,
        purpose: &str,
        senses: &SharedSenses,
    ) -> Result<(Instant, Utterance), String> {
        let pressed = Instant::now();
        self.input(input, purpose).await?;
        let utterance = next_utterance(senses, pressed).await?;
        self.note(
            "speech",
            json!({
                "start_s": round_ms(self.device_s(utterance.start)),
                "end_s": round_ms(self.device_s(utterance.end)),
            }),
        )?;
        Ok((pressed, utterance))
    }
}

/// The language `listener` hears `utterance` in, listening for a code of one of `lengths`.
fn language_of(listener: &Listener, utterance: &Utterance, lengths: &[usize]) -> Option<String> {
    listener
        .recognise(
            &utterance.samples,
            utterance.sample_rate,
            &LanguageChoice::Auto,
            lengths,
        )
        .language
}

/// Reads the LCD at the camera's rate into `senses` until cancelled.
async fn watch_display(
    mut camera: Box<dyn Camera>,
    mut reader: crate::perception::lcd::LcdReader,
    mut tracker: DisplayTracker,
    senses: SharedSenses,
    cancel: CancellationToken,
) {
    let mut ticks = tokio::time::interval(camera.frame_period());
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            _ = ticks.tick() => {
                let frame = match camera.capture() {
                    Ok(frame) => frame,
                    Err(e) => {
                        lock(&senses).failure = Some(e.to_string());
                        return;
                    }
                };
                let read = reader.read(&frame.image);
                if let Ok(Some(event)) = tracker.push(&frame, read) {
                    lock(&senses).display.push((event.first_frame_at, event.reading));
                }
            }
        }
    }
}

/// Captures audio at the microphone's rate, cuts it into utterances into `senses`.
async fn listen(
    mut microphone: Box<dyn Microphone>,
    senses: SharedSenses,
    cancel: CancellationToken,
) {
    let ring = Arc::new(Mutex::new(AudioRing::with_capacity(Duration::from_secs(1))));
    let mut capture = AudioCapture::new(ring);
    let mut segmenter = Segmenter::new(crate::perception::features::SAMPLE_RATE);
    let period = microphone.block_period();
    let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let device = microphone.id().clone();
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            _ = ticks.tick() => {
                let block = microphone
                    .capture()
                    .map_err(|e| e.to_string())
                    .and_then(|b| capture.push(&b).map_err(|e| format!("{device}: {e}")));
                match block {
                    Ok(Some(block)) => {
                        let found = segmenter.push(&block);
                        lock(&senses).utterances.extend(found);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        lock(&senses).failure = Some(e);
                        return;
                    }
                }
            }
        }
    }
}
