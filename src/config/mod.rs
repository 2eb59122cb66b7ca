//! Configuration: the YAML files (rig, token profile, scenario, requirements), read strictly.
//!
//! `raw` mirrors the files as written; `source` parses text and maps YAML paths to line:column;
//! the other modules validate raw files into the types the rest of the crate uses. Every problem
//! of a file is reported at once, each naming file, line, column and YAML path.

pub mod error;
pub mod raw;
pub mod source;

pub use error::{ConfigError, Problem, Problems};
