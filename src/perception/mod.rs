//! Perception: turns what the rig's sensors captured into observations.
//!
//! Inputs are pixels (and later audio samples and console lines) with their capture times; outputs
//! are readings such as an [`lcd::LcdRead`]. Invariant: nothing here knows whether the frames came
//! from a real camera or the simulator; this module never imports `rig::sim`.

pub mod lcd;
