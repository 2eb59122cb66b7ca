//! Errors of the rig's devices. Each names the device by role and address.

use super::DeviceId;

/// A device on the bench failed; the rig, not the token, is at fault.
#[derive(Debug, thiserror::Error)]
pub enum RigError {
    /// A device refused an operation or returned garbage.
    #[error("{device}: {message}")]
    Device {
        /// The device that failed.
        device: DeviceId,
        /// What went wrong, lowercase, no trailing period.
        message: String,
    },
    /// A button name that this rig has no relay for.
    #[error("{device}: no relay wired for button \"{button}\"")]
    UnknownButton {
        /// The relay board.
        device: DeviceId,
        /// The button asked for.
        button: String,
    },
    /// A backend the rig file asks for is not compiled into this binary.
    #[error("{what} needs otprig built with feature \"{feature}\"")]
    FeatureMissing {
        /// The backend asked for.
        what: String,
        /// The cargo feature that provides it.
        feature: &'static str,
    },
    /// Reading a file the rig needs (secret, counter) failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}
