//! Commands besides `run`, `validate` and `listen`: small tools around one stage each.
//!
//! `ocr` reads LCD photos, `calibrate` finds and stores a rig's LCD window, `bench` measures the
//! reader against the tools a lab would use instead.

pub mod bench;
pub mod calibrate;
pub mod ocr;
