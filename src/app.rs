//! Wiring (placeholder).
