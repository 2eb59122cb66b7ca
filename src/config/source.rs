//! Parsing YAML text into `Raw*` types with every problem located (placeholder).

/// Maps YAML paths to 1-based (line, column).
#[derive(Debug, Default)]
pub struct LocationIndex;

impl LocationIndex {
    /// The position of the node at `path`.
    pub fn locate(&self, _path: &str) -> Option<(usize, usize)> {
        None
    }
}
