//! The runner: executes scenarios step by step on a rig, waits on observations before
//! deadlines and writes the record. Knows the token only through the rig's senses: relays with
//! press feedback, camera frames read by the LCD reader, console lines.

pub mod actions;
pub mod context;
pub mod evidence;
pub mod expectation;
pub mod journal;
pub mod listening;
pub mod outcome;
pub mod record;
pub mod scenario;
pub mod tasks;
pub mod timeline;

pub use outcome::Outcome;
