//! The simulated token: a state machine driven by the token profile's state × key table, the
//! OTP it computes from its secret and its own clock, auto-off, and the device faults.
//!
//! Inputs are key edges with the times the contacts changed; outputs are what the LCD shows over
//! time (with the display latency) and console lines. Inputs fire on release: a key alone fires
//! when it is released with no other key pressed meanwhile; a chord (`red+0`) fires when its
//! second key is released while the first is held; the first key's later release fires nothing.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use std::sync::Arc;

use super::faults::Fault;
use super::scene::{LcdContent, font_mask};
use super::voice::VoiceBank;
use crate::config::token::{Action, OtpAlgorithm, OtpKind, SpeechSpec, TokenProfile};
use crate::oracle::{Algorithm, Secret, hotp};
use crate::rig::LogLine;

/// A key contact edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEdge {
    /// When the contact changed.
    pub at: Instant,
    /// Which key.
    pub key: String,
    /// Closed (pressed) or open (released).
    pub down: bool,
}

/// What a speaking token speaks with.
pub struct Speaker {
    /// The voice it speaks in.
    pub voice: Arc<VoiceBank>,
    /// Its serial number, as read aloud (digits).
    pub serial: String,
    /// Samples per second of its speech.
    pub sample_rate: u32,
}

/// One utterance of the token: samples from `start` on, cut short at `cut` if switched off.
#[derive(Debug, Clone)]
pub struct SpeechClip {
    /// When the first sample leaves the speaker.
    pub start: Instant,
    /// The samples.
    pub samples: Arc<Vec<f32>>,
    /// When it was cut off, if it was.
    pub cut: Option<Instant>,
}

impl SpeechClip {
    /// When it ends (cut or played out), at `sample_rate`.
    pub fn end(&self, sample_rate: u32) -> Instant {
        let full = self.start
            + Duration::from_secs_f64(self.samples.len() as f64 / f64::from(sample_rate));
        self.cut.map_or(full, |cut| cut.min(full))
    }
}

/// Settings of a speaking token, as indices into the profile's levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settings {
    language: usize,
    volume: usize,
    speed: usize,
}

impl Settings {
    /// The settings of a new unit.
    fn defaults(spec: &SpeechSpec) -> Self {
        Settings {
            language: spec
                .languages
                .iter()
                .position(|l| *l == spec.default_language)
                .unwrap_or(0),
            volume: spec.volume.default,
            speed: spec.speed.default,
        }
    }
}

/// The simulated token.
pub struct SimToken {
    speaker: Option<Speaker>,
    settings: Option<Settings>,
    speech: Vec<SpeechClip>,
    shown_code: Option<String>,
    profile: TokenProfile,
    secret: Secret,
    faults: Vec<Fault>,
    /// The token's own UTC at the monotonic `anchor`.
    anchor: Instant,
    anchor_utc: SystemTime,
    display_latency: Duration,
    state: String,
    /// Pending contact edges, in time order.
    pending: VecDeque<KeyEdge>,
    held: BTreeSet<String>,
    /// The first key of the current hold and whether another key joined it.
    chord_base: Option<(String, bool)>,
    last_release: Option<Instant>,
    auto_off_at: Option<Instant>,
    /// What the LCD shows from each instant on.
    lcd: Vec<(Instant, LcdContent)>,
    console: Vec<LogLine>,
    console_read: usize,
    presses: u32,
    first_code: Option<String>,
    counter: u64,
    /// What the token showed, for tests that compare the reader with the truth.
    truth: Vec<(Instant, String)>,
}

impl SimToken {
    /// A token of `profile`'s kind with `secret`, whose UTC is `anchor_utc` at `anchor`.
    pub fn new(
        profile: TokenProfile,
        secret: Secret,
        faults: Vec<Fault>,
        anchor: Instant,
        anchor_utc: SystemTime,
        display_latency: Duration,
        speaker: Option<Speaker>,
    ) -> Self {
        let settings = profile.speech.as_ref().map(Settings::defaults);
        let drift = if faults.contains(&Fault::ClockDrift) {
            profile.otp.step * 5
        } else {
            Duration::ZERO
        };
        Self {
            speaker,
            settings,
            speech: Vec::new(),
            shown_code: None,
            profile,
            secret,
            faults,
            anchor,
            anchor_utc: anchor_utc + drift,
            display_latency,
            state: "off".to_string(),
            pending: VecDeque::new(),
            held: BTreeSet::new(),
            chord_base: None,
            last_release: None,
            auto_off_at: None,
            lcd: vec![(anchor, LcdContent::Off)],
            console: Vec::new(),
            console_read: 0,
            presses: 0,
            first_code: None,
            counter: 0,
            truth: Vec::new(),
        }
    }

    /// Queues a contact edge; it takes effect when time reaches `edge.at`.
    pub fn push_edge(&mut self, edge: KeyEdge) {
        let pos = self
            .pending
            .iter()
            .position(|e| e.at > edge.at)
            .unwrap_or(self.pending.len());
        self.pending.insert(pos, edge);
    }

    /// Moves the token's state up to `now`: contact edges and auto-off, in time order.
    pub fn advance(&mut self, now: Instant) {
        loop {
            let next_edge = self.pending.front().map(|e| e.at).filter(|&at| at <= now);
            let auto_off = self.auto_off_at.filter(|&at| at <= now);
            match (next_edge, auto_off) {
                (Some(edge_at), Some(off_at)) if off_at <= edge_at => {
                    self.switch_off(off_at, "auto-off")
                }
                (None, Some(off_at)) => self.switch_off(off_at, "auto-off"),
                (Some(_), _) => {
                    if let Some(edge) = self.pending.pop_front() {
                        self.apply_edge(edge);
                    }
                }
                (None, None) => break,
            }
        }
    }

    /// What the LCD shows at `now` (call `advance` first).
    pub fn lcd_at(&self, now: Instant) -> LcdContent {
        self.lcd
            .iter()
            .rev()
            .find(|(from, _)| *from <= now)
            .map_or(LcdContent::Off, |(_, content)| content.clone())
    }

    /// Console lines printed up to `now` that were not read yet.
    pub fn read_console(&mut self, now: Instant) -> Vec<LogLine> {
        let fresh: Vec<LogLine> = self.console[self.console_read..]
            .iter()
            .take_while(|l| l.captured_at <= now)
            .cloned()
            .collect();
        self.console_read += fresh.len();
        fresh
    }

    /// What the token showed and when (ground truth for reader tests; never for verdicts).
    pub fn truth(&self) -> &[(Instant, String)] {
        &self.truth
    }

    fn log(&mut self, at: Instant, text: String) {
        self.console.push(LogLine {
            captured_at: at,
            text,
        });
    }

    fn apply_edge(&mut self, edge: KeyEdge) {
        let KeyEdge { at, key, down } = edge;
        self.log(
            at,
            format!("key {key} {}", if down { "down" } else { "up" }),
        );
        if down {
            if self.held.is_empty() {
                self.chord_base = Some((key.clone(), false));
            } else if let Some((_, joined)) = &mut self.chord_base {
                *joined = true;
            }
            self.held.insert(key);
            // A key held down keeps the token awake; the timer restarts at the release.
            self.auto_off_at = None;
            return;
        }
        self.held.remove(&key);
        self.last_release = Some(at);
        let input = match &self.chord_base {
            Some((base, false)) if *base == key => Some(key.clone()),
            Some((base, true)) if *base != key && self.held.contains(base) => {
                Some(format!("{base}+{key}"))
            }
            _ => None,
        };
        if self.held.is_empty() {
            self.chord_base = None;
        }
        if let Some(input) = input {
            self.fire(at, &input);
        }
        if self.state != "off" {
            self.schedule_auto_off(at);
        }
    }

    fn schedule_auto_off(&mut self, release: Instant) {
        let Some(auto_off) = &self.profile.auto_off else {
            return;
        };
        if self.faults.contains(&Fault::AutoOffNever) {
            self.auto_off_at = None;
            return;
        }
        let after = if self.faults.contains(&Fault::AutoOffLate) {
            auto_off.after.mul_f64(1.25)
        } else if self.faults.contains(&Fault::AutoOffEarly) {
            auto_off.after.mul_f64(0.7)
        } else {
            auto_off.after
        };
        self.auto_off_at = Some(release + after);
    }

    fn fire(&mut self, at: Instant, input: &str) {
        self.presses += 1;
        if self.presses == 1 && self.faults.contains(&Fault::PressIgnored) {
            self.log(at, format!("input {input} ignored"));
            return;
        }
        let Some(cell) = self.profile.cell(&self.state, input).cloned() else {
            self.log(
                at,
                format!("input {input} has no effect in state {}", self.state),
            );
            return;
        };
        self.log(
            at,
            format!("input {input}: {:?} -> {}", cell.action, cell.next),
        );
        match cell.action {
            Action::ShowCode => {
                let code = self.code_at(at);
                self.show(at + self.display_latency, &code);
                self.speak_code(at, &code);
            }
            Action::RepeatCode => {
                if let Some(code) = self.shown_code.clone() {
                    self.speak_code(at, &code);
                }
            }
            Action::ReadSerial => {
                let serial = self
                    .speaker
                    .as_ref()
                    .map(|s| s.serial.clone())
                    .unwrap_or_default();
                let serial = if self.faults.contains(&Fault::WrongSerial) {
                    bump_digit(&serial, serial.len().saturating_sub(1))
                } else {
                    serial
                };
                self.speak(at, &serial);
            }
            Action::VolumeUp
            | Action::VolumeDown
            | Action::SpeedUp
            | Action::SpeedDown
            | Action::ToggleLanguage => {
                self.change_setting(at, cell.action);
            }
            Action::PowerOff => {
                if self.is_speaking(at) && self.faults.contains(&Fault::RedIgnoredWhileSpeaking) {
                    self.log(at, "off key ignored while speaking".to_string());
                    return;
                }
                self.switch_off(at, "off key");
            }
            Action::Nothing => {}
        }
        self.state = cell.next;
        if self.state == "off" {
            self.auto_off_at = None;
        }
    }

    /// Whether an utterance is playing at `at`.
    fn is_speaking(&self, at: Instant) -> bool {
        let rate = self.speaker.as_ref().map_or(16_000, |s| s.sample_rate);
        self.speech
            .iter()
            .any(|c| c.start <= at && at < c.end(rate))
    }

    /// Reads the code aloud (the speech fault changes the fourth digit).
    fn speak_code(&mut self, at: Instant, code: &str) {
        let spoken = if self.faults.contains(&Fault::SpeechDiffers) {
            bump_digit(code, 3)
        } else {
            code.to_string()
        };
        self.speak(at, &spoken);
    }

    /// Starts an utterance of `digits` after the speech latency, cutting any utterance still
    /// playing then.
    fn speak(&mut self, at: Instant, digits: &str) {
        let (Some(speaker), Some(settings), Some(spec)) =
            (&self.speaker, self.settings, &self.profile.speech)
        else {
            return;
        };
        let mut latency = spec.latency;
        if self.faults.contains(&Fault::SpeechLate) {
            latency += Duration::from_secs(2);
        }
        let language = spec
            .languages
            .get(settings.language)
            .cloned()
            .unwrap_or_default();
        let speed = spec
            .speed
            .levels
            .get(settings.speed)
            .copied()
            .unwrap_or(1.0) as f32;
        let gain_db = spec
            .volume
            .levels
            .get(settings.volume)
            .copied()
            .unwrap_or(0.0) as f32;
        let start = at + latency;
        match speaker.voice.render(digits, &language, speed, gain_db) {
            Ok(samples) => {
                for clip in &mut self.speech {
                    if clip.cut.is_none() {
                        clip.cut = Some(start);
                    }
                }
                self.speech.push(SpeechClip {
                    start,
                    samples: Arc::new(samples),
                    cut: None,
                });
                self.log(
                    start,
                    format!("speaking {} digits in {language}", digits.len()),
                );
                self.truth
                    .push((start, format!("speech {digits} {language}")));
            }
            Err(e) => self.log(at, format!("speech failed: {e}")),
        }
    }

    fn change_setting(&mut self, at: Instant, action: Action) {
        let (Some(settings), Some(spec)) = (&mut self.settings, &self.profile.speech) else {
            return;
        };
        let stuck = match action {
            Action::VolumeUp | Action::VolumeDown => self.faults.contains(&Fault::VolumeStuck),
            Action::SpeedUp | Action::SpeedDown => self.faults.contains(&Fault::SpeedStuck),
            _ => self.faults.contains(&Fault::WrongLanguage),
        };
        if !stuck {
            let top = |levels: &Vec<f64>| levels.len().saturating_sub(1);
            match action {
                Action::VolumeUp => {
                    settings.volume = (settings.volume + 1).min(top(&spec.volume.levels))
                }
                Action::VolumeDown => settings.volume = settings.volume.saturating_sub(1),
                Action::SpeedUp => {
                    settings.speed = (settings.speed + 1).min(top(&spec.speed.levels))
                }
                Action::SpeedDown => settings.speed = settings.speed.saturating_sub(1),
                _ => settings.language = (settings.language + 1) % spec.languages.len().max(1),
            }
        }
        let now = *settings;
        self.log(
            at,
            format!(
                "settings: volume {} speed {} language {}",
                now.volume + 1,
                now.speed + 1,
                spec.languages.get(now.language).map_or("?", String::as_str)
            ),
        );
    }

    /// Every utterance so far (for the simulated microphone).
    pub fn speech(&self) -> &[SpeechClip] {
        &self.speech
    }

    /// Forgets utterances that ended before `before` (the microphone has heard them).
    pub fn forget_speech_before(&mut self, before: Instant, sample_rate: u32) {
        self.speech.retain(|c| c.end(sample_rate) >= before);
    }

    fn switch_off(&mut self, at: Instant, why: &str) {
        self.state = "off".to_string();
        self.auto_off_at = None;
        for clip in &mut self.speech {
            if clip.cut.is_none() {
                clip.cut = Some(at);
            }
        }
        if let (Some(settings), Some(spec)) = (&mut self.settings, &self.profile.speech)
            && !spec.settings_survive_off
        {
            *settings = Settings::defaults(spec);
        }
        self.log(at, format!("display off ({why})"));
        self.lcd.push((at + self.display_latency, LcdContent::Off));
        self.truth
            .push((at + self.display_latency, "off".to_string()));
    }

    fn show(&mut self, at: Instant, code: &str) {
        let mut masks = [0u8; 6];
        for (i, digit) in code.bytes().take(6).enumerate() {
            masks[i] = font_mask(digit - b'0', false);
        }
        if self.faults.contains(&Fault::DeadSegment) {
            masks[0] &= !0b0000_0100;
        }
        self.shown_code = Some(code.to_string());
        self.log(at, "display on".to_string());
        self.lcd.push((at, LcdContent::On(masks)));
        self.truth.push((at, code.to_string()));
    }

    /// The code the token computes at `at` (faults applied).
    fn code_at(&mut self, at: Instant) -> String {
        let otp = &self.profile.otp;
        let algorithm = match otp.algorithm {
            OtpAlgorithm::Sha1 => Algorithm::Sha1,
            OtpAlgorithm::Sha256 => Algorithm::Sha256,
            OtpAlgorithm::Sha512 => Algorithm::Sha512,
        };
        let moving_factor = match otp.kind {
            OtpKind::Time | OtpKind::Unknown => {
                let utc = self.anchor_utc + at.saturating_duration_since(self.anchor);
                let secs = utc
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                secs / otp.step.as_secs().max(1)
            }
            OtpKind::Event => {
                self.counter += 1;
                self.counter - 1
            }
        };
        let mut code = hotp(&self.secret, moving_factor, otp.digits, algorithm);
        if self.faults.contains(&Fault::StaleCode) {
            code = self.first_code.get_or_insert(code).clone();
        }
        if self.faults.contains(&Fault::WrongDigit) {
            code = bump_digit(&code, 2);
        }
        code
    }
}

/// `text` with the digit at `index` raised by one (9 becomes 0).
fn bump_digit(text: &str, index: usize) -> String {
    text.bytes()
        .enumerate()
        .map(|(i, b)| {
            if i == index && b.is_ascii_digit() {
                char::from(b'0' + (b - b'0' + 1) % 10)
            } else {
                char::from(b)
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::rig::clock::from_unix_seconds;

    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    fn profile() -> TokenProfile {
        TokenProfile::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("rig/tokens/mitid-code-display.yaml"),
        )
        .unwrap()
    }

    fn token(faults: Vec<Fault>) -> (SimToken, Instant) {
        let t0 = Instant::now();
        let token = SimToken::new(
            profile(),
            Secret::from_base32(RFC_SECRET).unwrap(),
            faults,
            t0,
            from_unix_seconds(59),
            Duration::from_millis(60),
            None,
        );
        (token, t0)
    }

    fn press(token: &mut SimToken, at: Instant) {
        token.push_edge(KeyEdge {
            at,
            key: "button".into(),
            down: true,
        });
        token.push_edge(KeyEdge {
            at: at + Duration::from_millis(150),
            key: "button".into(),
            down: false,
        });
    }

    fn masks(code: &str) -> LcdContent {
        let mut masks = [0u8; 6];
        for (i, d) in code.bytes().enumerate() {
            masks[i] = font_mask(d - b'0', false);
        }
        LcdContent::On(masks)
    }

    fn at(token: &mut SimToken, t: Instant) -> LcdContent {
        token.advance(t);
        token.lcd_at(t)
    }

    /// At unix 59 the RFC 6238 SHA-1 code is 94287082; six digits: 287082.
    #[test]
    fn a_press_shows_the_totp_code_after_release_and_display_latency() {
        let (mut token, t0) = token(Vec::new());
        press(&mut token, t0);
        assert_eq!(
            at(&mut token, t0 + Duration::from_millis(200)),
            LcdContent::Off
        );
        assert_eq!(
            at(&mut token, t0 + Duration::from_millis(211)),
            masks("287082")
        );
    }

    #[test]
    fn a_press_while_on_switches_off_and_auto_off_follows_the_last_release() {
        let (mut token, t0) = token(Vec::new());
        press(&mut token, t0);
        let release = t0 + Duration::from_millis(150);
        assert_eq!(
            at(&mut token, release + Duration::from_millis(19_999)),
            masks("287082")
        );
        assert_eq!(
            at(&mut token, release + Duration::from_millis(20_061)),
            LcdContent::Off
        );
        press(&mut token, t0 + Duration::from_secs(30));
        press(&mut token, t0 + Duration::from_secs(32));
        assert_eq!(
            at(&mut token, t0 + Duration::from_millis(32_100)),
            masks("359152")
        );
        assert_eq!(
            at(&mut token, t0 + Duration::from_millis(32_300)),
            LcdContent::Off
        );
    }

    #[test]
    fn a_held_key_keeps_the_token_awake() {
        let (mut token, t0) = token(Vec::new());
        press(&mut token, t0);
        token.push_edge(KeyEdge {
            at: t0 + Duration::from_secs(5),
            key: "button".into(),
            down: true,
        });
        // Held for 30 s: no auto-off while held; the release then switches the display off.
        assert_eq!(
            at(&mut token, t0 + Duration::from_secs(34)),
            masks("287082")
        );
    }

    #[test]
    fn faults_change_what_the_token_does() {
        let release = |t0: Instant| t0 + Duration::from_millis(150);
        let (mut early, t0) = token(vec![Fault::AutoOffEarly]);
        press(&mut early, t0);
        assert_eq!(
            at(&mut early, release(t0) + Duration::from_millis(14_100)),
            LcdContent::Off
        );
        let (mut never, t0) = token(vec![Fault::AutoOffNever]);
        press(&mut never, t0);
        assert_eq!(
            at(&mut never, t0 + Duration::from_secs(300)),
            masks("287082")
        );
        let (mut ignored, t0) = token(vec![Fault::PressIgnored]);
        press(&mut ignored, t0);
        assert_eq!(
            at(&mut ignored, t0 + Duration::from_secs(1)),
            LcdContent::Off
        );
        let (mut wrong, t0) = token(vec![Fault::WrongDigit]);
        press(&mut wrong, t0);
        assert_eq!(at(&mut wrong, t0 + Duration::from_secs(1)), masks("288082"));
        let (mut dead, t0) = token(vec![Fault::DeadSegment]);
        press(&mut dead, t0);
        let LcdContent::On(m) = at(&mut dead, t0 + Duration::from_secs(1)) else {
            panic!("off")
        };
        assert_eq!(m[0], font_mask(2, false) & !0b100);
        let (mut stale, t0) = token(vec![Fault::StaleCode]);
        press(&mut stale, t0);
        // Auto-off at 20 s, then a press in a later time step shows the first code again.
        press(&mut stale, t0 + Duration::from_secs(40));
        assert_eq!(
            at(&mut stale, t0 + Duration::from_millis(40_300)),
            masks("287082")
        );
        let shown: Vec<&str> = stale.truth().iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(shown, ["287082", "off", "287082"]);
    }

    #[test]
    fn chords_fire_on_the_second_key_and_swallow_the_modifier_release() {
        let text = "kind: token
name: keypad
buttons: [red, \"0\"]
otp: { kind: time, digits: 6 }
auto_off: { after: 20s, source: seed }
table:
  off:
    red: { action: show_code, next: \"on\", source: seed }
  \"on\":
    red: { action: power_off, next: \"off\", source: seed }
    red+0: { action: show_code, next: \"on\", source: seed }
";
        let profile = TokenProfile::from_text(Path::new("keypad.yaml"), text).unwrap();
        let t0 = Instant::now();
        let mut token = SimToken::new(
            profile,
            Secret::from_base32(RFC_SECRET).unwrap(),
            Vec::new(),
            t0,
            from_unix_seconds(59),
            Duration::ZERO,
            None,
        );
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let edge = |key: &str, down, t| KeyEdge {
            at: t,
            key: key.into(),
            down,
        };
        token.push_edge(edge("red", true, ms(0)));
        token.push_edge(edge("red", false, ms(100)));
        assert!(matches!(at(&mut token, ms(150)), LcdContent::On(_)));
        // red down, 0 down, 0 up, red up: a repeat, and the red release does not switch off.
        for e in [
            edge("red", true, ms(1000)),
            edge("0", true, ms(1080)),
            edge("0", false, ms(1230)),
            edge("red", false, ms(1310)),
        ] {
            token.push_edge(e);
        }
        assert!(matches!(at(&mut token, ms(2000)), LcdContent::On(_)));
        assert_eq!(token.truth().len(), 2);
    }

    fn audio_token(faults: Vec<Fault>) -> (SimToken, Instant) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let profile =
            TokenProfile::load(&root.join("rig/tokens/mitid-audio-code-reader.yaml")).unwrap();
        let voice = VoiceBank::load(&root.join("fixtures/voices/sim"), 16_000).unwrap();
        let speaker = Speaker {
            voice: Arc::new(voice),
            serial: "4711093582".into(),
            sample_rate: 16_000,
        };
        let t0 = Instant::now();
        let token = SimToken::new(
            profile,
            Secret::from_base32(RFC_SECRET).unwrap(),
            faults,
            t0,
            from_unix_seconds(59),
            Duration::from_millis(60),
            Some(speaker),
        );
        (token, t0)
    }

    /// Keys at `at_ms` onwards: `red` alone, or `red+N` as a chord.
    fn input(token: &mut SimToken, t0: Instant, at_ms: u64, input: &str) {
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let edge = |key: &str, down, at| KeyEdge {
            at,
            key: key.into(),
            down,
        };
        match input.split_once('+') {
            None => {
                token.push_edge(edge(input, true, ms(at_ms)));
                token.push_edge(edge(input, false, ms(at_ms + 150)));
            }
            Some((modifier, key)) => {
                token.push_edge(edge(modifier, true, ms(at_ms)));
                token.push_edge(edge(key, true, ms(at_ms + 80)));
                token.push_edge(edge(key, false, ms(at_ms + 230)));
                token.push_edge(edge(modifier, false, ms(at_ms + 310)));
            }
        }
    }

    fn rms_db(samples: &[f32]) -> f32 {
        let mean = samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32;
        10.0 * mean.log10()
    }

    /// Issue #3: the audio code reader speaks, repeats, changes volume and speed (stopping at
    /// the ends), toggles the language, reads its serial, and the red button cuts speech.
    #[test]
    fn the_audio_code_reader_speaks_and_obeys_its_chords() {
        let (mut token, t0) = audio_token(Vec::new());
        input(&mut token, t0, 0, "red");
        input(&mut token, t0, 5_000, "red+0");
        for at in [10_000, 11_000, 12_000] {
            input(&mut token, t0, at, "red+9");
        }
        input(&mut token, t0, 13_000, "red+0");
        input(&mut token, t0, 18_000, "red+6");
        input(&mut token, t0, 19_000, "red+0");
        input(&mut token, t0, 24_000, "red+1");
        input(&mut token, t0, 25_000, "red+0");
        input(&mut token, t0, 30_000, "red+5");
        token.advance(t0 + Duration::from_secs(40));
        let spoken: Vec<&str> = token
            .truth()
            .iter()
            .map(|(_, s)| s.as_str())
            .filter(|s| s.starts_with("speech"))
            .collect();
        assert_eq!(
            spoken,
            [
                "speech 287082 da",
                "speech 287082 da",
                "speech 287082 da",
                "speech 287082 da",
                "speech 287082 en",
                "speech 4711093582 en"
            ]
        );
        let clips = token.speech();
        // Volume: default level 3 (-10 dB), up three presses stops at level 5 (0 dB): +10 dB.
        let gain = rms_db(&clips[2].samples) - rms_db(&clips[1].samples);
        assert!((gain - 10.0).abs() < 0.5, "gain {gain}");
        // Speed: one step up (1.0 to 1.2) shortens the reading.
        let ratio = clips[3].samples.len() as f64 / clips[2].samples.len() as f64;
        assert!((0.78..0.9).contains(&ratio), "ratio {ratio}");
        // Speech starts 300 ms after the release of the key that caused it.
        assert_eq!(clips[0].start, t0 + Duration::from_millis(450));
    }

    #[test]
    fn red_cuts_the_speech_and_the_fault_ignores_it() {
        let (mut token, t0) = audio_token(Vec::new());
        input(&mut token, t0, 0, "red");
        input(&mut token, t0, 1_000, "red");
        token.advance(t0 + Duration::from_secs(2));
        assert_eq!(
            token.speech()[0].cut,
            Some(t0 + Duration::from_millis(1_150))
        );
        assert_eq!(token.lcd_at(t0 + Duration::from_secs(2)), LcdContent::Off);

        let (mut stubborn, t0) = audio_token(vec![Fault::RedIgnoredWhileSpeaking]);
        input(&mut stubborn, t0, 0, "red");
        input(&mut stubborn, t0, 1_000, "red");
        stubborn.advance(t0 + Duration::from_secs(2));
        assert_eq!(stubborn.speech()[0].cut, None);
        assert!(matches!(
            stubborn.lcd_at(t0 + Duration::from_secs(2)),
            LcdContent::On(_)
        ));
    }
}
