//! The bench around one token: buttons (relays), camera, console and clock, as traits with
//! real and simulated backends. `build` picks the backends from a validated `RigConfig`.
//!
//! Everything that crosses from here to perception and the runner is pixels, lines and
//! press feedback, each with a capture time on the rig's one monotonic clock.

pub mod audio_file;
pub mod buttons;
pub mod camera;
pub mod clock;
pub mod console;
pub mod device;
pub mod error;
pub mod microphone;
pub mod sim;

pub use buttons::Buttons;
pub use camera::{Camera, Frame};
pub use clock::Clock;
pub use console::{Console, LogLine};
pub use device::DeviceId;
pub use error::RigError;
pub use microphone::{AudioBlock, Microphone};

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Buttons shared between the runner and the safety paths that must release them
/// (Ctrl-C, panic, drop).
pub type SharedButtons = Arc<Mutex<Box<dyn Buttons>>>;

/// The devices of one bench, ready to use.
pub struct Rig {
    /// The relays.
    pub buttons: SharedButtons,
    /// The camera.
    pub camera: Box<dyn Camera>,
    /// Delay before the first frame (the camera's phase against the run's start).
    pub camera_phase: Duration,
    /// The token's console, if wired.
    pub console: Option<Box<dyn Console>>,
    /// The microphone, if the token speaks.
    pub microphone: Option<Box<dyn Microphone>>,
    /// Monotonic time plus the UTC anchor.
    pub clock: Arc<dyn Clock>,
}

/// Releases every relay when dropped: held on every path that presses, a panic included.
pub struct ReleaseOnDrop(pub SharedButtons);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        if let Err(e) = release_all(&self.0) {
            tracing::error!("releasing relays: {e}");
        }
    }
}

/// Presses an input of the token's (`red`, or a chord such as `red+0`) outside a scenario, as
/// the commands that drive a rig do: keys closed in order `gap` apart, the last held `hold`,
/// opened in reverse. (A scenario's presses go through the runner, which journals each edge.)
pub async fn press_input(
    buttons: &SharedButtons,
    input: &str,
    hold: Duration,
    gap: Duration,
) -> Result<(), RigError> {
    let set = |key: &str, closed: bool| board(buttons).set(key, closed);
    let keys: Vec<&str> = input.split('+').collect();
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(gap).await;
        }
        set(key, true)?;
    }
    tokio::time::sleep(hold).await;
    for (i, key) in keys.iter().rev().enumerate() {
        if i > 0 {
            tokio::time::sleep(gap).await;
        }
        set(key, false)?;
    }
    Ok(())
}

/// The relay board behind `buttons`. A lock poisoned by a panic elsewhere still holds a usable
/// board, and releasing the relays is exactly what is needed then, so it is taken anyway.
pub fn board(buttons: &SharedButtons) -> MutexGuard<'_, Box<dyn Buttons>> {
    match buttons.lock() {
        Ok(board) => board,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Opens every relay of `buttons`, logging rather than failing: used on exit paths.
pub fn release_all(buttons: &SharedButtons) -> Result<(), RigError> {
    board(buttons).release_all()
}
