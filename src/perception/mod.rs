//! Perception: turns what the rig's senses capture (frames) into observations (display events).
//! Never imports the simulator: it sees only pixels with capture times.

pub mod lcd;
pub mod observation;
pub mod features;
pub mod listener;
pub mod segmenter;
pub mod voice_pack;
