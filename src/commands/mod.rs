//! Commands besides `run`, `validate` and `listen`: small tools around one stage each.
//!
//! `ocr` reads LCD photos, `calibrate` finds and stores a rig's LCD window,
//! `enroll` builds a voice pack from the rig's token, `bench` measures the
//! reader against the tools a lab would use instead.

pub mod bench;
pub mod calibrate;
pub mod enroll;
pub mod ocr;
