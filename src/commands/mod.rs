//! Commands besides `run`, `validate` and `listen`: small tools around one stage each.
//!
//! `ocr` reads LCD photos, `calibrate` finds and stores a rig's LCD window.

pub mod calibrate;
pub mod ocr;
