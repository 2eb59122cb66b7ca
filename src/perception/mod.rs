//! Perception: turns what the rig's senses capture into observations — camera frames into
//! display events (the LCD reader), audio blocks into utterances with their digits, language,
//! level and timing (the speech listener). Never imports the simulator: it sees only pixels and
//! samples with capture times.

pub mod capture;
pub mod enrolment;
pub mod features;
pub mod lcd;
pub mod listener;
pub mod observation;
pub mod sample_clock;
pub mod segmenter;
pub mod speech_level;
pub mod voice_pack;
pub mod words;
