//! Device identities used in every device error and log line: a role and an address.

use std::fmt;

/// Names a device by its role on the bench and its address, e.g. `relay "button" (sim relay 0)`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceId {
    /// What the device is for on this bench ("button", "lcd", "console").
    pub role: String,
    /// Where it is ("/dev/video0", "gpiochip0 line 17", "sim camera").
    pub address: String,
    /// The kind of device ("relay", "camera", "console").
    pub kind: &'static str,
}

impl DeviceId {
    /// A device id of the given kind, role and address.
    pub fn new(kind: &'static str, role: impl Into<String>, address: impl Into<String>) -> Self {
        Self {
            kind,
            role: role.into(),
            address: address.into(),
        }
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} \"{}\" ({})", self.kind, self.role, self.address)
    }
}
