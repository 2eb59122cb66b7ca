//! Buttons: relays that close a token's key contacts, with optional press feedback.

use super::{DeviceId, RigError};

/// A relay board wired to the token's keys.
///
/// Relays are requested released; `release_all` must leave every contact open and is called on
/// every exit path (normal end, error, Ctrl-C, panic). Calls do not block for long.
pub trait Buttons: Send {
    /// The relay board, for messages.
    fn id(&self) -> &DeviceId;
    /// Energise (`closed = true`) or release the relay of one button.
    fn set(&mut self, button: &str, closed: bool) -> Result<(), RigError>;
    /// Press feedback: `Some(true)` when the sense line reports the contact closed now,
    /// `Some(false)` when it reports it open, `None` when this button has no sense line.
    fn sense(&mut self, button: &str) -> Result<Option<bool>, RigError>;
    /// Open every contact.
    fn release_all(&mut self) -> Result<(), RigError>;
}
