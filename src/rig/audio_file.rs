//! Audio files: reading voice-pack clips and recordings (WAV, FLAC) and writing evidence clips
//! (WAV), mono f32 in [-1, 1].

use std::path::Path;

/// A WAV file that could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct WavError {
    /// The file.
    pub path: String,
    /// Why.
    pub message: String,
}

/// Mono samples and their rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Samples in [-1, 1].
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

/// Reads a recording: FLAC when its name ends in `.flac` (any case), WAV otherwise.
pub fn read_audio(path: &Path) -> Result<Clip, WavError> {
    let flac = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("flac"));
    if flac {
        read_flac(path)
    } else {
        read_wav(path)
    }
}

/// Reads a FLAC file (any bit depth), mixing channels down to mono.
pub fn read_flac(path: &Path) -> Result<Clip, WavError> {
    let error = |message: String| WavError {
        path: path.display().to_string(),
        message,
    };
    let mut reader = claxon::FlacReader::open(path).map_err(|e| error(e.to_string()))?;
    let info = reader.streaminfo();
    let channels = info.channels.max(1) as usize;
    let scale = 1.0 / (1_i64 << (info.bits_per_sample.clamp(1, 32) - 1)) as f32;
    let interleaved: Vec<f32> = reader
        .samples()
        .map(|s| s.map(|v| v as f32 * scale))
        .collect::<Result<_, _>>()
        .map_err(|e| error(e.to_string()))?;
    Ok(Clip {
        samples: mix_to_mono(&interleaved, channels),
        sample_rate: info.sample_rate,
    })
}

/// Reads a WAV file (8/16/24/32-bit integer or 32-bit float), mixing channels down to mono.
pub fn read_wav(path: &Path) -> Result<Clip, WavError> {
    let error = |message: String| WavError {
        path: path.display().to_string(),
        message,
    };
    let mut reader = hound::WavReader::open(path).map_err(|e| error(e.to_string()))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| error(e.to_string()))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1_i64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(|e| error(e.to_string()))?
        }
    };
    Ok(Clip {
        samples: mix_to_mono(&interleaved, channels),
        sample_rate: spec.sample_rate,
    })
}

/// The mean of each frame of `channels` interleaved samples.
fn mix_to_mono(interleaved: &[f32], channels: usize) -> Vec<f32> {
    interleaved
        .chunks(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect()
}

/// Writes mono samples as a 16-bit WAV file.
pub fn write_wav(path: &Path, clip: &Clip) -> Result<(), WavError> {
    let error = |message: String| WavError {
        path: path.display().to_string(),
        message,
    };
    let bytes = wav_bytes(clip).map_err(|e| error(e.message))?;
    std::fs::write(path, bytes).map_err(|e| error(e.to_string()))
}

/// Encodes mono samples as the bytes of a 16-bit WAV file.
pub fn wav_bytes(clip: &Clip) -> Result<Vec<u8>, WavError> {
    let error = |message: String| WavError {
        path: "(in memory)".to_string(),
        message,
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: clip.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec).map_err(|e| error(e.to_string()))?;
    for &s in &clip.samples {
        let v = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        writer.write_sample(v).map_err(|e| error(e.to_string()))?;
    }
    writer.finalize().map_err(|e| error(e.to_string()))?;
    Ok(out.into_inner())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_clip_survives_a_round_trip_within_16_bit_precision() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        let clip = Clip {
            samples: (0..800).map(|i| (i as f32 * 0.05).sin() * 0.5).collect(),
            sample_rate: 16_000,
        };
        write_wav(&path, &clip).unwrap();
        let back = read_wav(&path).unwrap();
        assert_eq!(back.sample_rate, 16_000);
        assert_eq!(back.samples.len(), 800);
        assert!(
            back.samples
                .iter()
                .zip(&clip.samples)
                .all(|(a, b)| (a - b).abs() < 1e-4)
        );
    }

    #[test]
    fn the_sim_voice_pack_reads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/voices/sim/en/7.wav");
        let clip = read_wav(&path).unwrap();
        assert_eq!(clip.sample_rate, 16_000);
        assert!(clip.samples.len() > 3_000);
        let peak = clip.samples.iter().fold(0.0_f32, |m, s| m.max(s.abs()));
        assert!((0.6..0.8).contains(&peak), "peak {peak}");
    }

    #[test]
    fn a_flac_recording_reads_like_its_wav() {
        // The FLAC clips of the listener's test set are 16-bit, 16 kHz mono.
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/voices/test/sim-en-001.flac");
        let clip = read_audio(&path).unwrap();
        assert_eq!(clip.sample_rate, 16_000);
        assert!(clip.samples.len() > 16_000, "{}", clip.samples.len());
        let peak = clip.samples.iter().fold(0.0_f32, |m, s| m.max(s.abs()));
        assert!(peak > 0.01 && peak <= 1.0, "peak {peak}");
        let tmp = tempfile::tempdir().unwrap();
        let wav = tmp.path().join("x.wav");
        write_wav(&wav, &clip).unwrap();
        let back = read_audio(&wav).unwrap();
        assert_eq!(back.samples.len(), clip.samples.len());
        assert!(
            back.samples
                .iter()
                .zip(&clip.samples)
                .all(|(a, b)| (a - b).abs() < 1e-4)
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = read_wav(Path::new("/no/such.wav")).unwrap_err();
        assert!(err.to_string().starts_with("/no/such.wav: "));
        let err = read_audio(Path::new("/no/such.flac")).unwrap_err();
        assert!(err.to_string().starts_with("/no/such.flac: "));
    }
}
