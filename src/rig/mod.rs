//! The bench around one token: buttons (relays), camera, console and clock, as traits with
//! real and simulated backends. `build` picks the backends from a validated `RigConfig`.
//!
//! Everything that crosses from here to perception and the runner is pixels, lines and
//! press feedback, each with a capture time on the rig's one monotonic clock.

pub mod buttons;
pub mod camera;
pub mod clock;
pub mod console;
pub mod device;
pub mod error;
pub mod sim;

pub use buttons::Buttons;
pub use camera::{Camera, Frame};
pub use clock::Clock;
pub use console::{Console, LogLine};
pub use device::DeviceId;
pub use error::RigError;
