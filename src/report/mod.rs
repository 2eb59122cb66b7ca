//! Reports: one writer per format, each reading only the `RunRecord`.
