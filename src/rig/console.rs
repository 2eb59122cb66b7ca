//! Console: the token's serial or RTT log lines with capture times.

use tokio::time::Instant;

use super::{DeviceId, RigError};

/// One line the token printed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogLine {
    /// When the line's last byte arrived, on the rig's monotonic clock.
    #[serde(skip)]
    pub captured_at: Instant,
    /// The line without its terminator.
    pub text: String,
}

/// A console line from the token.
pub trait Console: Send {
    /// The console, for messages.
    fn id(&self) -> &DeviceId;
    /// Lines that arrived since the last call, oldest first; never blocks for long.
    fn read_lines(&mut self) -> Result<Vec<LogLine>, RigError>;
}
