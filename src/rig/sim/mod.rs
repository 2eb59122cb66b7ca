//! The simulator: a virtual token plus a fake world (placeholder).

pub mod scene;
