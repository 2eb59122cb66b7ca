//! Command-line types (placeholder).
