//! Crate-level error (placeholder).
