//! Wiring: load the files, pick each scenario's rig, build the devices (the one place that picks
//! the simulator), run the scenarios, and write the record and reports on every path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::cli::{Cli, Command, ListenArgs, RunArgs, ValidateArgs};
use crate::config::raw::Source;
use crate::config::rig::{
    Backend, OracleChoice, PixelRect, RigConfig, SecretEncoding, SecretSource,
};
use crate::config::token::OtpAlgorithm;
use crate::config::{self, Catalogue, ConfigError, ConfigFile, Scenario, TokenProfile};
use crate::error::Error;
use crate::oracle::{
    self, Algorithm, Encoding, ExternalOracle, HotpOracle, Oracle, PropertiesOracle, Secret,
    TotpOracle,
};
use crate::perception::lcd::{LcdReader, Quad};
use crate::perception::listener::{LanguageChoice, Listener};
use crate::perception::voice_pack::VoicePack;
use crate::report;
use crate::rig::{self, Rig, RigError, SharedButtons, sim};
use crate::runner::context::BenchTiming;
use crate::runner::evidence::EvidenceWriter;
use crate::runner::journal::{Journal, round_ms};
use crate::runner::outcome::{Outcome, exit_code};
use crate::runner::record::{
    FrameCounts, RequirementRecord, RigRecord, RunRecord, ScenarioRecord, Totals,
};
use crate::runner::scenario::{ScenarioRun, run_scenario};

/// Exit code: bad usage or bad files.
pub const EXIT_BAD_INPUT: i32 = 3;
/// Exit code: the rig erred and nothing failed.
pub const EXIT_RIG_ERROR: i32 = 2;
/// Exit code: aborted by the operator.
pub const EXIT_ABORTED: i32 = 130;

/// Sets up logging to stderr: warnings by default, more with -v.
pub fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("OTPRIG_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Runs a command line; returns the exit code.
pub async fn run(cli: Cli) -> i32 {
    let result = match cli.command.unwrap_or(Command::Run(RunArgs {
        seed: 1,
        ..RunArgs::default()
    })) {
        Command::Run(args) => run_command(args).await,
        Command::Validate(args) => validate_command(&args),
        Command::Listen(args) => listen_command(&args),
        Command::Ocr(args) => crate::commands::ocr::ocr_command(&args),
        Command::Calibrate(args) => crate::commands::calibrate::calibrate_command(&args).await,
        Command::Enroll(args) => crate::commands::enroll::enroll_command(&args).await,
        Command::Bench(crate::cli::BenchCommand::Ocr(args)) => {
            crate::commands::bench::bench_ocr_command(&args)
        }
        Command::Bench(crate::cli::BenchCommand::Listen(args)) => {
            crate::commands::bench::bench_listen_command(&args)
        }
        Command::Faults => {
            for fault in sim::faults::Fault::ALL {
                println!("{}", fault.name());
            }
            Ok(0)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("otprig: {e:#}");
            e.exit_code()
        }
    }
}

/// YAML files under `paths` (files as given, folders searched recursively), sorted.
fn yaml_files(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>, Error> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            collect_yaml(path, &mut found).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?;
            found.sort();
            out.extend(found.into_iter().map(|p| (p, false)));
        } else if path.exists() {
            out.push((path.clone(), true));
        } else {
            return Err(Error::Usage(format!(
                "{}: no such file or folder",
                path.display()
            )));
        }
    }
    Ok(out)
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_yaml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Problems of a scenario against its token's profile (keys) and the catalogue (ids).
fn cross_check(
    scenario: &Scenario,
    profile: Option<&TokenProfile>,
    catalogue: Option<&Catalogue>,
) -> Vec<(String, String)> {
    let mut problems = profile
        .map(|p| scenario.check_against(p))
        .unwrap_or_default();
    if let Some(catalogue) = catalogue {
        for (i, id) in scenario.verifies.iter().enumerate() {
            if !catalogue.requirements.contains_key(id) {
                problems.push((
                    format!("verifies[{i}]"),
                    format!("`{id}` is not in {}", catalogue.file.display()),
                ));
            }
        }
    }
    problems
}

fn validate_command(args: &ValidateArgs) -> Result<i32, Error> {
    let files = yaml_files(&args.paths)?;
    if files.is_empty() {
        return Err(Error::Usage("no YAML files found to validate".into()));
    }
    // Scenarios are also checked against their token's profile in rig/tokens/ and the
    // catalogue in scenarios/, where those exist and are valid themselves.
    let catalogue = Catalogue::load(Path::new("scenarios/requirements.yaml")).ok();
    let mut bad = 0;
    for (file, _) in &files {
        let checked = config::load_any(file).and_then(|loaded| match &loaded {
            ConfigFile::Scenario(scenario) => {
                let profile = TokenProfile::load(
                    &Path::new("rig/tokens").join(format!("{}.yaml", scenario.token)),
                )
                .ok();
                let problems = cross_check(scenario, profile.as_ref(), catalogue.as_ref());
                if problems.is_empty() {
                    Ok(loaded)
                } else {
                    Err(locate(file, problems))
                }
            }
            _ => Ok(loaded),
        });
        match checked {
            Ok(loaded) => println!("ok     {} ({})", file.display(), loaded.kind()),
            Err(e) => {
                bad += 1;
                eprintln!("{e}");
            }
        }
    }
    if bad > 0 {
        eprintln!("otprig: {bad} of {} files have problems", files.len());
        Ok(EXIT_BAD_INPUT)
    } else {
        Ok(0)
    }
}

/// `otprig listen`: what the listener hears in each WAV file.
fn listen_command(args: &ListenArgs) -> Result<i32, Error> {
    let pack = VoicePack::load(&args.voice)
        .map_err(|e| Error::Usage(format!("voice pack {}: {e}", args.voice.display())))?;
    let language = match args.lang.as_str() {
        "auto" => LanguageChoice::Auto,
        lang if pack.languages().iter().any(|l| l == lang) => {
            LanguageChoice::Fixed(lang.to_string())
        }
        other => {
            return Err(Error::Usage(format!(
                "--lang {other}: the voice pack has {} (or auto)",
                pack.languages().join(", ")
            )));
        }
    };
    let listener = Listener::new(pack);
    let mut bad = 0;
    for wav in &args.wavs {
        match listener.listen_file(wav, &language, args.digits.map(usize::from)) {
            Ok(heard) => println!(
                "{}\t{}\t{}",
                wav.display(),
                heard.digits.as_deref().unwrap_or("?"),
                heard.language.as_deref().unwrap_or("?")
            ),
            Err(e) => {
                bad += 1;
                eprintln!("otprig: {e}");
            }
        }
    }
    Ok(if bad > 0 { EXIT_BAD_INPUT } else { 0 })
}

/// A scenario to run and the rig it runs on (`None`: skipped, with why).
struct Planned {
    scenario: Scenario,
    rig: Result<Arc<RigConfig>, String>,
}

/// What a run will do, checked before anything is pressed.
struct Plan {
    planned: Vec<Planned>,
    catalogue: Option<Catalogue>,
    faults: Vec<sim::faults::Fault>,
}

/// Loads everything a run needs and checks it before anything is pressed.
fn plan(args: &RunArgs) -> Result<Plan, Error> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("scenarios")]
    } else {
        args.paths.clone()
    };
    let mut errors: Vec<ConfigError> = Vec::new();
    let mut scenarios = Vec::new();
    for (file, explicit) in yaml_files(&paths)? {
        match config::kind_of_file(&file) {
            Ok(kind) if kind == "scenario" => match Scenario::load(&file) {
                Ok(s) => scenarios.push(s),
                Err(e) => errors.push(e),
            },
            Ok(kind) if explicit => {
                return Err(Error::Usage(format!(
                    "{}: a {kind} file, not a scenario",
                    file.display()
                )));
            }
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    let faults = args
        .fault
        .iter()
        .map(|name| {
            sim::faults::Fault::parse(name).ok_or_else(|| {
                let names: Vec<&str> = sim::faults::Fault::ALL.iter().map(|f| f.name()).collect();
                Error::Usage(format!(
                    "unknown fault `{name}`; `otprig faults` lists them: {}",
                    names.join(", ")
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let catalogue_path = args
        .requirements
        .clone()
        .unwrap_or_else(|| PathBuf::from("scenarios/requirements.yaml"));
    let catalogue = if catalogue_path.exists() || args.requirements.is_some() {
        match Catalogue::load(&catalogue_path) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(e);
                None
            }
        }
    } else {
        None
    };
    // Rigs: the one given, or every simulated rig in rig/ by token kind.
    let mut rigs: BTreeMap<String, Arc<RigConfig>> = BTreeMap::new();
    let given = match &args.rig {
        Some(path) => match RigConfig::load(path) {
            Ok(rig) => Some(Arc::new(rig)),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => {
            for (file, _) in yaml_files(&[PathBuf::from("rig")]).unwrap_or_default() {
                if config::kind_of_file(&file).is_ok_and(|k| k == "rig") {
                    match RigConfig::load(&file) {
                        Ok(rig) if rig.backend == Backend::Sim => {
                            rigs.entry(rig.token.profile.name.clone())
                                .or_insert_with(|| Arc::new(rig));
                        }
                        Ok(_) => {}
                        Err(e) => errors.push(e),
                    }
                }
            }
            None
        }
    };
    // Scenario problems that need the profile or the catalogue: each a config error of its file.
    let mut planned = Vec::new();
    for scenario in scenarios {
        let rig = match &given {
            Some(rig) if rig.token.profile.name == scenario.token => Ok(rig.clone()),
            Some(rig) => Err(format!(
                "written for {}, the rig holds {}",
                scenario.token, rig.token.profile.name
            )),
            None => rigs.get(&scenario.token).cloned().ok_or_else(|| {
                format!(
                    "no simulated rig for {} in rig/; give one with --rig",
                    scenario.token
                )
            }),
        };
        let profile = rig.as_ref().ok().map(|r| &r.token.profile);
        let problems = cross_check(&scenario, profile, catalogue.as_ref());
        if !problems.is_empty() {
            errors.push(locate(&scenario.file, problems));
            continue;
        }
        if given.is_none()
            && let Err(why) = &rig
        {
            return Err(Error::Usage(format!("{}: {why}", scenario.file.display())));
        }
        planned.push(Planned { scenario, rig });
    }
    if !errors.is_empty() {
        return Err(Error::Configs(errors));
    }
    if planned.is_empty() {
        return Err(Error::Usage(format!(
            "no scenarios selected in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    // The simulator runs on paused (virtual) time: a lab command's timeout would expire at once.
    if let Some(rig) = planned
        .iter()
        .filter_map(|p| p.rig.as_ref().ok())
        .find(|r| {
            r.backend == Backend::Sim && matches!(r.token.oracle, OracleChoice::External { .. })
        })
    {
        return Err(Error::Usage(format!(
            "{}: the external oracle runs a lab command in real time; use it with a lab rig, not the simulator",
            rig.file.display()
        )));
    }
    let lab = planned
        .iter()
        .any(|p| p.rig.as_ref().is_ok_and(|r| r.backend == Backend::Lab));
    if lab && !faults.is_empty() {
        return Err(Error::Usage(
            "--fault applies to the simulated token only, and this run uses a lab rig".into(),
        ));
    }
    Ok(Plan {
        planned,
        catalogue,
        faults,
    })
}

/// Turns (YAML path, message) pairs into a located config error of `file`.
fn locate(file: &Path, problems: Vec<(String, String)>) -> ConfigError {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let index = config::source::LocationIndex::from_text(&text);
    let mut located = config::Problems::new(file, &index);
    for (path, message) in problems {
        located.push(path, message);
    }
    match located.finish(()) {
        Err(e) => e,
        Ok(()) => ConfigError::Invalid {
            file: file.to_path_buf(),
            problems: Vec::new(),
        },
    }
}

fn run_id(seed: u64) -> String {
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let compact: String = stamp
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("{compact}-s{seed}")
}

fn secret_of(source: &SecretSource) -> Result<Secret, oracle::OracleError> {
    let encoding = |e: &SecretEncoding| match e {
        SecretEncoding::Base32 => Encoding::Base32,
        SecretEncoding::Hex => Encoding::Hex,
    };
    match source {
        SecretSource::File { path, encoding: e } => Secret::from_file(path, encoding(e)),
        SecretSource::Env { name, encoding: e } => Secret::from_env(name, encoding(e)),
    }
}

fn build_oracle(rig: &RigConfig) -> Result<Oracle, Error> {
    let otp = &rig.token.profile.otp;
    let algorithm = match otp.algorithm {
        OtpAlgorithm::Sha1 => Algorithm::Sha1,
        OtpAlgorithm::Sha256 => Algorithm::Sha256,
        OtpAlgorithm::Sha512 => Algorithm::Sha512,
    };
    let secret = || -> Result<Secret, Error> {
        let source = rig.token.secret.as_ref().ok_or_else(|| {
            Error::Usage(format!(
                "{}: the oracle needs the token's secret",
                rig.file.display()
            ))
        })?;
        Ok(secret_of(source)?)
    };
    Ok(match &rig.token.oracle {
        OracleChoice::Totp { drift_window } => Oracle::Totp(
            TotpOracle::new(secret()?)
                .with_step(otp.step)
                .with_digits(otp.digits)
                .with_algorithm(algorithm)
                .with_window(*drift_window),
        ),
        OracleChoice::Hotp {
            counter_file,
            counter,
        } => {
            let oracle = match counter_file {
                Some(file) => HotpOracle::load(secret()?, file, *counter)?,
                None => HotpOracle::new(secret()?).with_counter(*counter),
            };
            Oracle::Hotp(oracle.with_digits(otp.digits).with_algorithm(algorithm))
        }
        OracleChoice::Properties => {
            let kind = match otp.kind {
                crate::config::token::OtpKind::Time => oracle::OtpKind::Time,
                crate::config::token::OtpKind::Event => oracle::OtpKind::Event,
                crate::config::token::OtpKind::Unknown => oracle::OtpKind::Unknown,
            };
            Oracle::Properties(PropertiesOracle::new(otp.digits, kind, otp.step))
        }
        OracleChoice::External { argv } => Oracle::External(ExternalOracle::new(argv.clone())?),
    })
}

/// Builds the devices of a rig: the simulator for `backend: sim`, hardware otherwise.
pub(crate) fn build_rig(
    config: &RigConfig,
    seed: u64,
    faults: &[sim::faults::Fault],
) -> Result<Rig, Error> {
    match (config.backend, &config.sim) {
        (Backend::Sim, Some(sim_config)) => {
            let source = config.token.secret.as_ref().ok_or_else(|| {
                Error::Usage(format!(
                    "{}: the simulated token needs a secret",
                    config.file.display()
                ))
            })?;
            let secret = secret_of(source)?;
            Ok(sim::build(
                config,
                sim_config,
                secret,
                &sim::SimOptions {
                    seed,
                    faults: faults.to_vec(),
                },
            )?)
        }
        _ => Err(Error::Rig(RigError::FeatureMissing {
            what: format!(
                "rig {} (lab backend: GPIO relays, V4L2 camera)",
                config.name
            ),
            feature: "lab",
        })),
    }
}

/// A stable per-scenario seed from the run seed and the scenario's name.
fn scenario_seed(seed: u64, name: &str) -> u64 {
    // FNV-1a: stable across platforms and releases, unlike the std hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    seed ^ hash
}

fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn rig_record(rig: &RigConfig) -> RigRecord {
    RigRecord {
        name: rig.name.clone(),
        file: rig.file.display().to_string(),
        backend: match rig.backend {
            Backend::Sim => "sim".into(),
            Backend::Lab => "lab".into(),
        },
        token: rig.token.profile.name.clone(),
        serial: rig.token.serial.clone(),
        oracle: rig.token.oracle.name().into(),
    }
}

/// The rig's LCD reader: starting from the calibrated window, else the hand-set region, else
/// locating the window in the first frame.
pub fn lcd_reader_for(rig_config: &RigConfig) -> LcdReader {
    let digits = rig_config.token.profile.display_digits;
    let camera = &rig_config.camera;
    if let Some(calibration) = &camera.calibration {
        return LcdReader::starting_at(Quad(calibration.lcd_window), digits);
    }
    match camera.lcd_region {
        Some(PixelRect {
            x,
            y,
            width,
            height,
        }) => LcdReader::starting_at(
            Quad::from_rect(x as f32, y as f32, width as f32, height as f32),
            digits,
        ),
        None => LcdReader::new(digits),
    }
}

/// A scenario that could not start, as a record with one step saying why.
fn not_started(
    scenario: &Scenario,
    rig: &str,
    outcome: Outcome,
    message: String,
    at_s: f64,
) -> ScenarioRecord {
    ScenarioRecord {
        name: scenario.name.clone(),
        file: scenario.file.display().to_string(),
        token: scenario.token.clone(),
        rig: rig.to_string(),
        verifies: scenario.verifies.clone(),
        outcome,
        message: Some(message),
        started_s: at_s,
        device_s: 0.0,
        steps: Vec::new(),
        statistics: Vec::new(),
        frames: FrameCounts::default(),
    }
}

/// Relays to release if the operator presses Ctrl-C twice.
type CurrentButtons = Arc<Mutex<Option<SharedButtons>>>;

fn watch_ctrl_c(cancel: CancellationToken, current: CurrentButtons) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        eprintln!("\notprig: stopping after this step (Ctrl-C again to stop at once)");
        cancel.cancel();
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        if let Some(buttons) = current.lock().ok().and_then(|c| c.clone())
            && let Err(e) = rig::release_all(&buttons)
        {
            eprintln!("otprig: releasing relays: {e}");
        }
        eprintln!("otprig: aborted; relays released");
        std::process::exit(EXIT_ABORTED);
    });
}

async fn run_command(args: RunArgs) -> Result<i32, Error> {
    let wall_start = std::time::Instant::now();
    let Plan {
        planned,
        catalogue,
        faults,
    } = plan(&args)?;
    let all_sim = planned
        .iter()
        .all(|p| p.rig.as_ref().map_or(true, |r| r.backend == Backend::Sim));
    if !all_sim {
        // The runtime starts on paused (virtual) time, where a 20 s auto-off costs milliseconds
        // and a seed fixes the run; a lab bench lives in real time.
        tokio::time::resume();
    }
    let run_id = run_id(args.seed);
    let run_dir = args
        .report_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(&run_id));
    std::fs::create_dir_all(&run_dir).map_err(|source| Error::Io {
        path: run_dir.display().to_string(),
        source,
    })?;
    let journal = Journal::create(&run_dir.join("journal.jsonl"))?;
    let started_utc = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let run_start = Instant::now();
    let fault_names: Vec<String> = faults.iter().map(|f| f.name().to_string()).collect();
    journal.append(0.0, "run_started", json!({ "run_id": run_id, "seed": args.seed, "faults": fault_names, "scenarios": planned.len() }))?;

    let cancel = CancellationToken::new();
    let current: CurrentButtons = Arc::new(Mutex::new(None));
    watch_ctrl_c(cancel.clone(), current.clone());

    let progress = ProgressBar::new(planned.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut records = Vec::new();
    let mut rigs: Vec<RigRecord> = Vec::new();
    // One listener per voice pack, enrolled once for the whole run.
    let mut listeners: BTreeMap<PathBuf, Arc<Listener>> = BTreeMap::new();
    for item in &planned {
        let scenario = &item.scenario;
        progress.set_message(scenario.name.clone());
        let at_s = round_ms((Instant::now() - run_start).as_secs_f64());
        let record = if cancel.is_cancelled() {
            not_started(
                scenario,
                "",
                Outcome::Aborted,
                "not run: aborted by the operator".into(),
                at_s,
            )
        } else {
            match &item.rig {
                Err(why) => not_started(
                    scenario,
                    args.rig.as_ref().map_or("", |_| "given rig"),
                    Outcome::Skip,
                    format!("not run: {why}"),
                    at_s,
                ),
                Ok(rig_config) => {
                    let record = rig_record(rig_config);
                    if !rigs.contains(&record) {
                        rigs.push(record);
                    }
                    run_one(
                        scenario,
                        rig_config,
                        &args,
                        &faults,
                        &journal,
                        &run_dir,
                        &cancel,
                        &current,
                        run_start,
                        &mut listeners,
                    )
                    .await
                }
            }
        };
        progress.inc(1);
        let mut line = format!(
            "{:<7} {}  {} ({:.1} s device)",
            record.outcome.label(),
            record.token,
            record.name,
            record.device_s
        );
        if let Some(message) = &record.message
            && record.outcome != Outcome::Pass
        {
            line.push_str(&format!("\n        {message}"));
        }
        // Without a terminal the bar is hidden, and so is its println: say it on stderr.
        if progress.is_hidden() {
            eprintln!("{line}");
        } else {
            progress.println(line);
        }
        records.push(record);
    }
    progress.finish_and_clear();

    let device_s = round_ms((Instant::now() - run_start).as_secs_f64());
    let (requirements, uncovered) = coverage(catalogue.as_ref(), &records);
    let outcomes: Vec<Outcome> = records.iter().map(|r| r.outcome).collect();
    let code = exit_code(outcomes.iter().copied());
    let outcome = match code {
        130 => Outcome::Aborted,
        1 => Outcome::Fail,
        2 => Outcome::Error,
        _ => Outcome::Pass,
    };
    let record = RunRecord {
        run_id: run_id.clone(),
        otprig_version: env!("CARGO_PKG_VERSION").to_string(),
        started_utc,
        seed: all_sim.then_some(args.seed),
        faults: fault_names,
        rigs,
        totals: Totals::of(&records),
        scenarios: records,
        requirements,
        uncovered,
        outcome,
        exit_code: code,
        wall_s: round_ms(wall_start.elapsed().as_secs_f64()),
        device_s,
        peak_memory_bytes: peak_memory_bytes(),
    };
    journal.append(
        device_s,
        "run_finished",
        json!({ "outcome": outcome, "exit_code": code }),
    )?;
    let written = report::write_all(&record, &run_dir)?;
    print!("{}", report::summary::render_console(&record));
    println!("record: {}", run_dir.join("run.json").display());
    for path in written.iter().filter(|p| !p.ends_with("run.json")) {
        println!("report: {}", path.display());
    }
    println!("journal: {}", journal.path().display());
    Ok(code)
}

#[allow(clippy::too_many_arguments)]
async fn run_one(
    scenario: &Scenario,
    rig_config: &Arc<RigConfig>,
    args: &RunArgs,
    faults: &[sim::faults::Fault],
    journal: &Journal,
    run_dir: &Path,
    cancel: &CancellationToken,
    current: &CurrentButtons,
    run_start: Instant,
    listeners: &mut BTreeMap<PathBuf, Arc<Listener>>,
) -> ScenarioRecord {
    let at_s = round_ms((Instant::now() - run_start).as_secs_f64());
    let setup = (|| -> Result<(Rig, Oracle, Option<Arc<Listener>>), Error> {
        let oracle = build_oracle(rig_config)?;
        let listener = match &rig_config.microphone {
            Some(microphone) => Some(match listeners.get(&microphone.voice_pack) {
                Some(listener) => listener.clone(),
                None => {
                    let pack = VoicePack::load(&microphone.voice_pack).map_err(|e| {
                        Error::Rig(RigError::Device {
                            device: rig::DeviceId::new(
                                "microphone",
                                "listener",
                                microphone.voice_pack.display().to_string(),
                            ),
                            message: format!("voice pack: {e}"),
                        })
                    })?;
                    let listener = Arc::new(Listener::new(pack));
                    listeners.insert(microphone.voice_pack.clone(), listener.clone());
                    listener
                }
            }),
            None => None,
        };
        let rig = build_rig(rig_config, scenario_seed(args.seed, &scenario.name), faults)?;
        Ok((rig, oracle, listener))
    })();
    let (rig, oracle, listener) = match setup {
        Ok(ready) => ready,
        Err(e) => {
            return not_started(
                scenario,
                &rig_config.name,
                Outcome::Error,
                format!("rig could not be set up: {e:#}"),
                at_s,
            );
        }
    };
    if let Ok(mut slot) = current.lock() {
        *slot = Some(rig.buttons.clone());
    }
    let drift_window = match rig_config.token.oracle {
        OracleChoice::Totp { drift_window } => Some(drift_window),
        _ => None,
    };
    let run = ScenarioRun {
        scenario,
        rig_name: rig_config.name.clone(),
        reader: lcd_reader_for(rig_config),
        timing: BenchTiming {
            frame_period: rig_config.camera.frame_period(),
            stable_frames: rig_config.camera.stable_frames,
            relay_settle: rig_config.relays.settle,
        },
        profile: rig_config.token.profile.clone(),
        rig,
        oracle,
        drift_window,
        journal: journal.clone(),
        evidence: EvidenceWriter::new(run_dir, &scenario.token, &scenario.name),
        cancel: cancel.clone(),
        run_start,
        shutdown_grace: rig_config.shutdown_grace,
        listener: listener.map(|l| (l, LanguageChoice::Auto)),
        serial: rig_config.token.serial.clone(),
    };
    let record = run_scenario(run).await;
    if let Ok(mut slot) = current.lock() {
        *slot = None;
    }
    record
}

/// How this run covered each requirement, and the ids no scenario of it verifies.
fn coverage(
    catalogue: Option<&Catalogue>,
    records: &[ScenarioRecord],
) -> (Vec<RequirementRecord>, Vec<String>) {
    let Some(catalogue) = catalogue else {
        return (Vec::new(), Vec::new());
    };
    let mut out = Vec::new();
    let mut uncovered = Vec::new();
    for (id, requirement) in &catalogue.requirements {
        let verifying: Vec<&ScenarioRecord> = records
            .iter()
            .filter(|r| r.verifies.contains(id) && r.outcome != Outcome::Skip)
            .collect();
        if verifying.is_empty() {
            uncovered.push(id.clone());
        }
        let outcomes = verifying.iter().map(|r| r.outcome);
        let outcome = if verifying.is_empty() {
            Outcome::Skip
        } else {
            match exit_code(outcomes) {
                130 => Outcome::Aborted,
                1 => Outcome::Fail,
                2 => Outcome::Error,
                _ => Outcome::Pass,
            }
        };
        out.push(RequirementRecord {
            id: id.clone(),
            token: requirement.token.clone(),
            source: match requirement.source {
                Source::Seed => "seed".into(),
                Source::Assumed => "assumed".into(),
            },
            text: requirement.text.clone(),
            verified_by: verifying.iter().map(|r| r.name.clone()).collect(),
            outcome,
        });
    }
    (out, uncovered)
}
