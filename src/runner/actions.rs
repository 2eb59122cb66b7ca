//! Actions: pressing keys through the relays and waiting, each edge recorded on the timeline
//! with its press feedback. A contact the sense line reports open is the rig's fault.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use super::context::{Context, Interrupted, StepResult};
use super::timeline::KeyAction;
use crate::rig::board;
use crate::rig::clock::unix_seconds;

impl Context {
    fn set_relay(&self, button: &str, closed: bool) -> Result<(), String> {
        board(&self.buttons)
            .set(button, closed)
            .map_err(|e| e.to_string())
    }

    fn sense(&self, button: &str) -> Result<Option<bool>, String> {
        board(&self.buttons)
            .sense(button)
            .map_err(|e| e.to_string())
    }

    fn board_name(&self) -> String {
        board(&self.buttons).id().to_string()
    }

    /// Closes a key's contact, waits the settle time and records the press with its feedback.
    async fn key_down(&self, button: &str) -> Result<Option<String>, StepResult> {
        let at = Instant::now();
        self.set_relay(button, true).map_err(StepResult::error)?;
        self.sleep(self.timing.relay_settle)
            .await
            .map_err(Interrupted::into_result)?;
        let confirmed = self.sense(button).map_err(StepResult::error)?;
        self.timeline.push_action(KeyAction {
            at,
            button: button.to_string(),
            closed: true,
            confirmed,
        });
        if confirmed == Some(false) {
            return Err(StepResult::error(format!(
                "{}: the contact of button \"{button}\" did not close (sense line reads open {} ms after energising)",
                self.board_name(),
                self.timing.relay_settle.as_millis()
            )));
        }
        Ok(None)
    }

    fn key_up(&self, button: &str) -> Result<(), StepResult> {
        let at = Instant::now();
        self.set_relay(button, false).map_err(StepResult::error)?;
        self.timeline.push_action(KeyAction {
            at,
            button: button.to_string(),
            closed: false,
            confirmed: None,
        });
        Ok(())
    }

    /// Press and release one key, holding it `hold` (from contact command to release).
    pub async fn press(&mut self, button: &str, hold: Option<Duration>) -> StepResult {
        let hold = hold.unwrap_or(self.profile.timing.press);
        let result = async {
            self.key_down(button).await?;
            self.sleep(hold.saturating_sub(self.timing.relay_settle))
                .await
                .map_err(Interrupted::into_result)?;
            self.key_up(button)
        }
        .await;
        self.finish_keys(&[button], result)
    }

    /// Modifier down, each further key down in order; the last key held `hold`; released in
    /// reverse, with the profile's gap between edges.
    pub async fn chord(&mut self, keys: &[String], hold: Option<Duration>) -> StepResult {
        let hold = hold.unwrap_or(self.profile.timing.press);
        let gap = self.profile.timing.chord_gap;
        let result = async {
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    self.sleep(gap).await.map_err(Interrupted::into_result)?;
                }
                self.key_down(key).await?;
            }
            self.sleep(hold.saturating_sub(self.timing.relay_settle))
                .await
                .map_err(Interrupted::into_result)?;
            for (i, key) in keys.iter().rev().enumerate() {
                if i > 0 {
                    self.sleep(gap).await.map_err(Interrupted::into_result)?;
                }
                self.key_up(key)?;
            }
            Ok(())
        }
        .await;
        let names: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.finish_keys(&names, result)
    }

    /// On any outcome, leaves the keys released; a failed release is an error of the rig.
    fn finish_keys(&mut self, keys: &[&str], result: Result<(), StepResult>) -> StepResult {
        match result {
            Ok(()) => StepResult::pass(),
            Err(failure) => {
                // Every key is released, whatever the others do.
                let errors: Vec<String> = keys
                    .iter()
                    .filter_map(|key| self.key_up(key).err())
                    .filter_map(|e| e.message)
                    .collect();
                if errors.is_empty() {
                    failure
                } else {
                    StepResult::error(format!(
                        "{} (while releasing after: {})",
                        errors.join("; "),
                        failure.message.unwrap_or_default()
                    ))
                }
            }
        }
    }

    /// Waits `duration`.
    pub async fn wait(&self, duration: Duration) -> StepResult {
        match self.sleep(duration).await {
            Ok(()) => StepResult::pass(),
            Err(stop) => stop.into_result(),
        }
    }

    /// Waits for the next OTP time step to begin (by the rig's UTC), then `margin` more.
    pub async fn wait_for_step_start(&self, margin: Duration) -> StepResult {
        let step_s = self.profile.otp.step.as_secs_f64().max(1.0);
        let now = Instant::now();
        let utc = unix_seconds(self.clock.utc_at(now));
        let next = (utc / step_s).floor() * step_s + step_s;
        let wait = Duration::from_secs_f64((next - utc).max(0.0)) + margin;
        match self.sleep(wait).await {
            Ok(()) => StepResult::pass_with(format!(
                "time step starting at unix {next:.0}; resumed {:.3} s into it",
                margin.as_secs_f64()
            )),
            Err(stop) => stop.into_result(),
        }
    }

    /// The UTC time of a monotonic instant, by the rig's clock.
    pub fn utc_at(&self, at: Instant) -> SystemTime {
        self.clock.utc_at(at)
    }
}
