//! The runner: executes scenarios step by step on a rig, waits on observations before
//! deadlines and writes the record. Knows the token only through the rig's senses.

pub mod outcome;
pub mod record;

pub use outcome::Outcome;
