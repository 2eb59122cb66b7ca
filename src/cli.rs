//! Command-line types (clap derive only).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Hardware-in-the-loop test rig for one-time-password tokens. With no command: `run`.
#[derive(Debug, Parser)]
#[command(name = "otprig", version, about, long_about = None)]
pub struct Cli {
    /// What to do (default: run every scenario in scenarios/ on the simulated rigs).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios on a rig and write the record, JUnit and evidence.
    Run(RunArgs),
    /// Check YAML files (rig, token, scenario, requirements) and report every problem.
    Validate(ValidateArgs),
    /// List the simulator's device faults, one name a line.
    Faults,
    /// Recognise the spoken digits in recordings (WAV or FLAC): one line per file, path, tab, digits, tab, language.
    Listen(ListenArgs),
    /// Read the LCD in photos: one line per image, path, tab, six digits, `blank` or `?`.
    Ocr(OcrArgs),
    /// Find the LCD window in the rig camera's frames; store it beside the rig file with an
    /// annotated PNG.
    Calibrate(CalibrateArgs),
    /// Build a voice pack from the rig's token: make it read codes and its serial number, label
    /// the words with the digits the LCD reader sees, write `<out>/<lang>/<digit>.wav`.
    Enroll(EnrollArgs),
    /// Measure otprig's perception against the tools a lab would use instead.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// `otprig bench`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The LCD reader on a labelled photo set beside `ssocr` and `tesseract` given exact crops:
    /// accuracy, wrong codes and ms per frame for each, with the ratios.
    Ocr(BenchOcrArgs),
    /// The speech listener on a labelled speech set, each speaker with its own voice pack:
    /// codes heard exactly, refused and wrong, language, and real-time factor, per voice and
    /// language and by noise, SNR and echo; with `--anchor faster-whisper`, beside Whisper.
    Listen(BenchListenArgs),
}

/// `otprig bench listen`.
#[derive(Debug, Args)]
pub struct BenchListenArgs {
    /// The labelled speech set: recordings and their `labels.csv`.
    #[arg(long, value_name = "DIR", default_value = "fixtures/voices/test")]
    pub set: PathBuf,
    /// The folder of voice packs (`<voice>/<lang>/<digit>.wav`); default: the set's parent.
    #[arg(long, value_name = "DIR")]
    pub packs: Option<PathBuf>,
    /// Measure only the first N recordings of the label file.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Listen for any number of digits instead of each code's length.
    #[arg(long)]
    pub any_length: bool,
    /// Also write one CSV line per recording (every tool's answer, time and text) to this file.
    #[arg(long, value_name = "FILE")]
    pub details: Option<PathBuf>,
    /// Also run this tool on the same recordings, in the same run, and print it beside otprig.
    /// faster-whisper (install: scripts/setup-whisper.sh; home: $OTPRIG_WHISPER_HOME, else
    /// ~/.cache/otprig-whisper) runs tiny.en on the English recordings and base on all; it takes
    /// minutes where otprig takes seconds.
    #[arg(long, value_enum, value_name = "TOOL")]
    pub anchor: Vec<ListenAnchor>,
}

/// An anchor tool of `otprig bench listen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListenAnchor {
    /// faster-whisper with the Whisper models tiny.en and base, offline.
    FasterWhisper,
}

/// `otprig bench ocr`.
#[derive(Debug, Args)]
pub struct BenchOcrArgs {
    /// The labelled photo set: images and their `labels.csv`.
    #[arg(long, value_name = "DIR", default_value = "fixtures/lcd")]
    pub fixtures: PathBuf,
    /// Measure only the first N photos of the label file.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Also write one CSV line per photo (every tool's answer and time) to this file.
    #[arg(long, value_name = "FILE")]
    pub details: Option<PathBuf>,
    /// Leave `ssocr` out.
    #[arg(long)]
    pub no_ssocr: bool,
    /// Leave `tesseract` out.
    #[arg(long)]
    pub no_tesseract: bool,
}

/// `otprig ocr`.
#[derive(Debug, Args)]
pub struct OcrArgs {
    /// A rig file: its token's digit count and its calibrated LCD window, if stored.
    #[arg(long, value_name = "FILE")]
    pub rig: Option<PathBuf>,
    /// Also print, on stderr, the confidence, window corners and segment masks of each image.
    #[arg(long)]
    pub explain: bool,
    /// The photos (PNG or JPEG, grey or colour).
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<PathBuf>,
}

/// `otprig calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The rig file; the calibration is written beside it as `<rig>.calibration.yaml`.
    #[arg(long, value_name = "FILE")]
    pub rig: PathBuf,
    /// Seed of the simulated world (simulated rigs only).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
}

/// `otprig enroll`.
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The rig file (its token must speak, its microphone and camera be wired).
    #[arg(long, value_name = "FILE")]
    pub rig: PathBuf,
    /// The language the token speaks (`da`, `en`: one of its profile's).
    #[arg(long, value_name = "L")]
    pub lang: String,
    /// The pack folder to write (default: `<rig>.voice` beside the rig file); other languages
    /// in it are kept.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seed of the simulated world (simulated rigs only).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
}

/// `otprig listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// The voice pack to recognise with: a folder of `<lang>/<digit>.wav`.
    #[arg(long, value_name = "DIR", default_value = "fixtures/voices/sim")]
    pub voice: PathBuf,
    /// The language spoken, or `auto` to decide it from the audio.
    #[arg(long, value_name = "LANG", default_value = "auto")]
    pub lang: String,
    /// How many digits each recording speaks (a code of known length); default: any number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=16))]
    pub digits: Option<u16>,
    /// The recordings (WAV, or FLAC by the .flac extension).
    #[arg(value_name = "WAV", required = true)]
    pub wavs: Vec<PathBuf>,
}

/// `otprig run`.
#[derive(Debug, Args, Default, Clone)]
pub struct RunArgs {
    /// The rig file; default: for each scenario, the simulated rig of its token kind in rig/.
    #[arg(long, value_name = "FILE")]
    pub rig: Option<PathBuf>,
    /// This run's own output folder; default reports/<run-id>/.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Seed of the simulated world's randomness.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Inject a device fault into the simulated token (see `otprig faults`); repeatable.
    #[arg(long, value_name = "NAME")]
    pub fault: Vec<String>,
    /// The requirements catalogue; default scenarios/requirements.yaml.
    #[arg(long, value_name = "FILE")]
    pub requirements: Option<PathBuf>,
    /// Scenario files or folders; default scenarios/.
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
}

/// `otprig validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// YAML files or folders to check.
    #[arg(value_name = "PATHS", required = true)]
    pub paths: Vec<PathBuf>,
}
