//! otprig: a hardware-in-the-loop test rig for one-time-password tokens.
//!
//! A rig presses a token's buttons through relays, reads its LCD through a camera and (later)
//! hears it through a microphone, and judges what it saw against an OTP oracle and timing limits.
//! The simulator (`rig::sim`) is a virtual token plus a fake world that renders camera frames; the
//! runner reads them back with the same LCD reader a lab bench uses.
//!
//! ```text
//! scenarios/*.yaml ─┐                      ┌─ oracle (TOTP/HOTP/properties/external)
//! rig/*.yaml ───────┤                      │
//!                   ▼                      ▼
//!              runner (tokio) ── steps ──► expectations ──► verdicts + measurements
//!                   │  act                  ▲ wait on
//!                   ▼                       │
//!    buttons ──► token (real or sim) ──► camera ─► LCD reader ──► display events ─┐
//!                                     └► serial console ────────► log events ─────┴─► timeline
//!                                                                                     │
//!                          reports/<run>/ journal.jsonl → run.json → junit.xml, evidence/ ◄┘
//! ```
//!
//! Glossary (these words are used in code, YAML, logs and reports):
//! - **Rig**: the bench around one token (relays, camera, console, clock), described by `rig/*.yaml`.
//! - **Token**: the device under test; its **token profile** holds the facts of its kind.
//! - **Requirement**: an id in `scenarios/requirements.yaml` tied to a reference sentence or an assumption.
//! - **Scenario**: one YAML test of `setup`, `steps` and `teardown`.
//! - **Observation**: a timestamped perceived fact (a display event, a console line).
//! - **Expectation**: a predicate over observations with a deadline.
//! - **Outcome**: `Pass | Fail | Error | Skip | Aborted`; Fail = the token is wrong, Error = the rig is wrong.
//! - **Record**: the immutable result (`run.json`); every report is rendered from it.
//!
//! Dependencies point downstream only: config → rig → perception → oracle → runner → report.
//! `perception` and `runner` never import `rig::sim`.

#![warn(missing_docs)]

pub mod app;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod oracle;
pub mod perception;
pub mod report;
pub mod rig;
pub mod runner;
