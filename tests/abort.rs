//! The operator's abort: the scenario stops at the current step with outcome Aborted, the
//! teardown is skipped, the relays are released and the record is still produced.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use otprig::config::{RigConfig, Scenario};
use otprig::oracle::{Encoding, Oracle, Secret, TotpOracle};
use otprig::perception::lcd::LcdReader;
use otprig::rig::sim::{self, SimOptions};
use otprig::runner::Outcome;
use otprig::runner::context::BenchTiming;
use otprig::runner::evidence::EvidenceWriter;
use otprig::runner::journal::Journal;
use otprig::runner::record::Phase;
use otprig::runner::scenario::{ScenarioRun, run_scenario};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

#[tokio::test(start_paused = true)]
async fn an_abort_mid_step_releases_the_relays_and_records_aborted() {
    let root = common::root();
    let config = RigConfig::load(&root.join("rig/sim-code-display.yaml")).unwrap();
    let scenario = Scenario::load(&root.join("scenarios/code-display/auto-off.yaml")).unwrap();
    let secret_file = root.join("fixtures/otp/sim-code-display.base32");
    let rig = sim::build(
        &config,
        config.sim.as_ref().unwrap(),
        Secret::from_file(&secret_file, Encoding::Base32).unwrap(),
        &SimOptions {
            seed: 1,
            faults: Vec::new(),
        },
    )
    .unwrap();
    let buttons = rig.buttons.clone();
    let cancel = CancellationToken::new();
    let abort = cancel.clone();
    tokio::spawn(async move {
        // Mid-way through the 20 s auto-off wait.
        tokio::time::sleep(Duration::from_secs(5)).await;
        abort.cancel();
    });
    let record = run_scenario(ScenarioRun {
        scenario: &scenario,
        rig_name: config.name.clone(),
        rig,
        reader: LcdReader::new(6),
        timing: BenchTiming {
            frame_period: config.camera.frame_period(),
            stable_frames: 3,
            relay_settle: config.relays.settle,
        },
        profile: config.token.profile.clone(),
        oracle: Oracle::Totp(TotpOracle::new(
            Secret::from_file(&secret_file, Encoding::Base32).unwrap(),
        )),
        drift_window: Some(1),
        journal: Journal::discard(),
        evidence: EvidenceWriter::discard(),
        cancel,
        run_start: Instant::now(),
        shutdown_grace: Duration::from_secs(5),
        listener: None,
        serial: config.token.serial.clone(),
    })
    .await;
    assert_eq!(record.outcome, Outcome::Aborted, "{:?}", record.message);
    assert!(
        record.device_s < 10.0,
        "the abort did not stop the wait: {} s",
        record.device_s
    );
    assert!(
        record
            .steps
            .iter()
            .filter(|s| s.phase == Phase::Teardown)
            .all(|s| s.outcome == Outcome::Skip)
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        buttons.lock().unwrap().sense("button").unwrap(),
        Some(false),
        "relay left closed"
    );
}
