//! The requirements catalogue: id → the quoted reference sentence or stated assumption.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::raw::{RawRequirements, Source};
use super::{ConfigError, Problems, source};

/// One requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The token kind it applies to.
    pub token: String,
    /// The quoted sentence or the assumption.
    pub text: String,
    /// Stated or assumed.
    pub source: Source,
    /// The reference file, for `seed` requirements.
    pub reference: Option<String>,
}

/// The catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    /// Its file.
    pub file: PathBuf,
    /// id → requirement, sorted by id.
    pub requirements: BTreeMap<String, Requirement>,
}

impl Catalogue {
    /// Reads and validates the catalogue.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let text = source::read(file)?;
        Self::from_text(file, &text)
    }

    /// Validates catalogue text.
    pub fn from_text(file: &Path, text: &str) -> Result<Self, ConfigError> {
        let (value, index) = source::parse_value(file, text)?;
        let raw: RawRequirements = source::deserialize_all(file, &value, &index)?;
        let mut problems = Problems::new(file, &index);
        if raw.kind != "requirements" {
            problems.push(
                "kind",
                format!("expected `requirements`, found `{}`", raw.kind),
            );
        }
        let mut requirements = BTreeMap::new();
        for (id, r) in raw.requirements.unwrap_or_default() {
            let path = format!("requirements.{id}");
            let (Some(token), Some(text), Some(source)) = (r.token, r.text, r.source) else {
                problems.push(path, "needs `token`, `text` and `source` (seed or assumed)");
                continue;
            };
            if source == Source::Seed && r.reference.is_none() {
                problems.push(path, "a seed requirement names its `reference` file");
                continue;
            }
            requirements.insert(
                id,
                Requirement {
                    token,
                    text,
                    source,
                    reference: r.reference,
                },
            );
        }
        problems.finish(Catalogue {
            file: file.to_path_buf(),
            requirements,
        })
    }
}
