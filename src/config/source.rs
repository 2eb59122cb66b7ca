//! Reading YAML files into `Raw*` types with every problem of a file located at once.
//!
//! Inputs: a file path (for [`read`] and for naming the file in errors) and its text.
//! Outputs: a [`serde_yaml::Value`] plus a [`LocationIndex`] ([`parse_value`]), a typed raw file
//! ([`deserialize_all`], [`parse`]), or a [`ConfigError`] listing every problem found.
//!
//! serde stops at the first error and errors from a `Value` carry no position, so two pieces
//! work together here:
//! - [`LocationIndex`] walks the text once with `saphyr-parser`'s event parser and maps each YAML
//!   path, spelled exactly as `serde_path_to_error` displays it (`steps[0].press`,
//!   `camera.lcd_region.x`, `.` for the document), to the 1-based line and column of its key
//!   (for mapping entries) and of its value.
//! - [`deserialize_all`] deserializes a working copy of the value, records the error, removes the
//!   node that caused it, and tries again, until the value deserializes or nothing more can be
//!   removed. Paths are always reported as written in the file: when sequence items have been
//!   removed, later items' indices are mapped back to their original ones.
//!
//! Invariants: every line and column handed out is 1-based; every problem message is lowercase
//! first and has no trailing period; an `Err(ConfigError::Invalid)` holds at least one problem,
//! sorted by position (problems without one come last).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use saphyr_parser::{Event, Parser};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;
use serde_yaml::Value;

use super::error::{ConfigError, Problem};
use super::raw::{RawChordFull, RawPressFull};

/// How many remove-and-retry rounds [`deserialize_all`] makes before giving up on finding more.
const MAX_ROUNDS: usize = 200;

/// Maps YAML paths (`steps[0].press`, `camera.lcd_region.x`, `.`) to 1-based (line, column).
///
/// Built from the text, independently of serde, so it also serves the semantic checks that run
/// after deserialization. Mapping entries whose key is not a plain scalar (complex keys) are not
/// indexed, nor is anything inside them.
#[derive(Debug, Default)]
pub struct LocationIndex {
    /// Path of a mapping entry or sequence item → where its key (or the item) starts.
    keys: HashMap<String, (usize, usize)>,
    /// Path of a node → where its value starts.
    values: HashMap<String, (usize, usize)>,
}

/// A collection being walked while indexing; `path` is `None` inside parts not indexed.
enum Frame {
    /// A mapping; `pending` is `Some(value path)` between a key and its value.
    Map {
        path: Option<String>,
        pending: Option<Option<String>>,
    },
    /// A sequence; `next` is the index of its next item.
    Seq { path: Option<String>, next: usize },
}

impl LocationIndex {
    /// Indexes `text`. On a syntax error, returns what was indexed up to it; only the first
    /// document of a multi-document stream is indexed.
    pub fn from_text(text: &str) -> LocationIndex {
        let mut index = LocationIndex::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut root_seen = false;
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            // saphyr-parser markers: line is 1-based, column is 0-based (in characters).
            let position = (span.start.line(), span.start.col() + 1);
            let opens = match &event {
                Event::Scalar(..) | Event::Alias(_) => None,
                Event::MappingStart(..) => Some(true),
                Event::SequenceStart(..) => Some(false),
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    continue;
                }
                _ => continue,
            };
            let path = match stack.last_mut() {
                None if root_seen => break,
                None => {
                    root_seen = true;
                    index.values.insert(".".to_owned(), position);
                    Some(".".to_owned())
                }
                Some(Frame::Map { path, pending }) => match pending.take() {
                    None => {
                        // A key: remember where it is written, then await its value.
                        let key_path = match (&event, path.as_deref()) {
                            (Event::Scalar(key, ..), Some(parent)) => Some(join_key(parent, key)),
                            _ => None,
                        };
                        if let Some(key_path) = &key_path {
                            index.keys.entry(key_path.clone()).or_insert(position);
                        }
                        *pending = Some(key_path);
                        // A complex key's own contents are not indexed.
                        if let Some(is_map) = opens {
                            stack.push(frame(is_map, None));
                        }
                        continue;
                    }
                    Some(value_path) => {
                        if let Some(value_path) = &value_path {
                            index.values.entry(value_path.clone()).or_insert(position);
                        }
                        value_path
                    }
                },
                Some(Frame::Seq { path, next }) => {
                    let item_path = path.as_deref().map(|parent| join_index(parent, *next));
                    *next += 1;
                    if let Some(item_path) = &item_path {
                        index.keys.insert(item_path.clone(), position);
                        index.values.insert(item_path.clone(), position);
                    }
                    item_path
                }
            };
            if let Some(is_map) = opens {
                stack.push(frame(is_map, path));
            }
        }
        index
    }

    /// Where the node at `path` is written: the key of a mapping entry, the start of a sequence
    /// item, or the document itself for `.`.
    pub fn locate(&self, path: &str) -> Option<(usize, usize)> {
        self.keys
            .get(path)
            .or_else(|| self.values.get(path))
            .copied()
    }

    /// Where the value of the node at `path` starts (for a mapping entry, after its key).
    pub fn locate_value(&self, path: &str) -> Option<(usize, usize)> {
        self.values.get(path).copied()
    }

    /// Like [`LocationIndex::locate`], but falls back to the nearest indexed ancestor, for paths
    /// that are not written in the file as such (a missing key, a node reached through an alias).
    pub fn locate_nearest(&self, path: &str) -> Option<(usize, usize)> {
        let mut current = path;
        loop {
            if let Some(position) = self.locate(current) {
                return Some(position);
            }
            current = parent_path(current)?;
        }
    }
}

fn frame(is_map: bool, path: Option<String>) -> Frame {
    if is_map {
        Frame::Map {
            path,
            pending: None,
        }
    } else {
        Frame::Seq { path, next: 0 }
    }
}

/// `parent` + `.key`, spelled as `serde_path_to_error` does.
fn join_key(parent: &str, key: &str) -> String {
    if parent == "." {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent` + `[index]`, spelled as `serde_path_to_error` does.
fn join_index(parent: &str, index: usize) -> String {
    if parent == "." {
        format!("[{index}]")
    } else {
        format!("{parent}[{index}]")
    }
}

/// The path one level up, `.` above a top-level entry, `None` above the document.
fn parent_path(path: &str) -> Option<&str> {
    if path == "." {
        return None;
    }
    let cut = if path.ends_with(']') {
        path.rfind('[')
    } else {
        path.rfind('.')
    };
    match cut {
        Some(cut) if cut > 0 => Some(&path[..cut]),
        _ => Some("."),
    }
}

/// Reads a configuration file as text.
pub fn read(file: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(file).map_err(|source| ConfigError::Io {
        file: file.to_path_buf(),
        source,
    })
}

/// Parses YAML text into a generic value and indexes its positions.
///
/// A syntax error becomes one problem located where the parser stopped; a file holding nothing
/// but blank lines, comments and document markers becomes the problem "the file is empty".
pub fn parse_value(file: &Path, text: &str) -> Result<(Value, LocationIndex), ConfigError> {
    if is_blank(text) {
        return Err(invalid(file, vec![problem(None, ".", "the file is empty")]));
    }
    let value: Value = serde_yaml::from_str(text).map_err(|error| {
        let location = error.location();
        let mut message = error.to_string();
        if let Some(location) = &location {
            // The position is reported on its own; drop it from the text.
            for suffix in [
                format!(" at line {} column {}", location.line(), location.column()),
                format!(" at position {}", location.index()),
            ] {
                if let Some(at) = message.find(&suffix) {
                    message.replace_range(at..at + suffix.len(), "");
                    break;
                }
            }
        }
        let position = location.map(|l| (l.line(), l.column()));
        invalid(file, vec![problem(position, ".", &message)])
    })?;
    Ok((value, LocationIndex::from_text(text)))
}

/// Whether `text` holds no YAML node at all.
fn is_blank(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .all(|line| line.is_empty() || line.starts_with('#') || line == "---" || line == "...")
}

/// Parses YAML text into `T`, reporting every problem of the file at once.
pub fn parse<T: DeserializeOwned>(
    file: &Path,
    text: &str,
) -> Result<(T, LocationIndex), ConfigError> {
    let (value, index) = parse_value(file, text)?;
    let typed = deserialize_all(file, &value, &index)?;
    Ok((typed, index))
}

/// The top-level `kind:` of a document, when it is a string.
pub fn kind_of(value: &Value) -> Option<&str> {
    value.get("kind").and_then(Value::as_str)
}

/// Deserializes `value` into `T`, reporting every problem, not just serde's first.
///
/// Each round deserializes a working copy; the error found is recorded at its path (located
/// through `index`) and the offending node is removed before the next round. It stops when the
/// copy deserializes, when the node cannot be removed (the document itself, an unknown path), or
/// after a bounded number of rounds. A "missing field" caused by an earlier removal is not
/// reported again.
pub fn deserialize_all<T: DeserializeOwned>(
    file: &Path,
    value: &Value,
    index: &LocationIndex,
) -> Result<T, ConfigError> {
    let mut problems = Vec::new();
    let typed = collect::<T>(value, ".", index, &mut problems);
    match typed {
        Some(typed) if problems.is_empty() => Ok(typed),
        _ => {
            if problems.is_empty() {
                // `collect` records a problem whenever it fails; this only guards the invariant.
                problems.push(problem(
                    index.locate("."),
                    ".",
                    "the file could not be read",
                ));
            }
            let mut seen = HashSet::new();
            problems.retain(|p| seen.insert((p.path.clone(), p.message.clone())));
            problems.sort_by_key(|p| (p.line.unwrap_or(usize::MAX), p.column.unwrap_or(0)));
            Err(invalid(file, problems))
        }
    }
}

/// One step of a path, as found in `serde_path_to_error`'s.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
    /// An enum variant.
    Variant(String),
    /// A step serde could not name.
    Unknown,
}

impl Step {
    fn from_segment(segment: &Segment) -> Step {
        match segment {
            Segment::Seq { index } => Step::Index(*index),
            Segment::Map { key } => Step::Key(key.clone()),
            Segment::Enum { variant } => Step::Variant(variant.clone()),
            _ => Step::Unknown,
        }
    }
}

/// Spells `base` followed by `steps` as `serde_path_to_error` would.
fn render(base: &str, steps: &[Step]) -> String {
    let mut out = if base == "." {
        String::new()
    } else {
        base.to_owned()
    };
    for step in steps {
        match step {
            Step::Index(index) => out.push_str(&format!("[{index}]")),
            Step::Key(name) | Step::Variant(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Step::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    if out.is_empty() { ".".to_owned() } else { out }
}

/// Maps a path in the working copy back to the file: sequence indices shift down as earlier
/// items are removed. `removed` holds, per sequence (by original relative path), the original
/// indices removed from it, ascending.
fn original_steps(steps: &[Step], removed: &HashMap<String, Vec<usize>>) -> Vec<Step> {
    let mut original = Vec::with_capacity(steps.len());
    for step in steps {
        let mapped = match step {
            Step::Index(index) => {
                let mut at = *index;
                if let Some(gone) = removed.get(&render(".", &original)) {
                    for &g in gone {
                        if g <= at {
                            at += 1;
                        }
                    }
                }
                Step::Index(at)
            }
            other => other.clone(),
        };
        original.push(mapped);
    }
    original
}

/// `value` with any YAML tag looked through.
fn untag(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => untag(&tagged.value),
        other => other,
    }
}

fn untag_mut(value: &mut Value) -> &mut Value {
    match value {
        Value::Tagged(tagged) => untag_mut(&mut tagged.value),
        other => other,
    }
}

/// Whether a mapping key is the one `serde_path_to_error` spelled `name`.
fn key_is(key: &Value, name: &str) -> bool {
    match untag(key) {
        Value::String(s) => s == name,
        Value::Number(n) => n.to_string() == name,
        Value::Bool(b) => b.to_string() == name,
        _ => false,
    }
}

fn child<'v>(node: &'v Value, step: &Step) -> Option<&'v Value> {
    match node {
        Value::Tagged(tagged) if matches!(step, Step::Variant(_)) => Some(&tagged.value),
        Value::Tagged(tagged) => child(&tagged.value, step),
        Value::Mapping(map) => match step {
            Step::Key(name) => map.iter().find(|(k, _)| key_is(k, name)).map(|(_, v)| v),
            Step::Variant(_) if map.len() == 1 => map.values().next(),
            _ => None,
        },
        Value::Sequence(items) => match step {
            Step::Index(index) => items.get(*index),
            _ => None,
        },
        _ => None,
    }
}

fn child_mut<'v>(node: &'v mut Value, step: &Step) -> Option<&'v mut Value> {
    match node {
        Value::Tagged(tagged) => match step {
            Step::Variant(_) => Some(&mut tagged.value),
            _ => child_mut(&mut tagged.value, step),
        },
        Value::Mapping(map) => match step {
            Step::Key(name) => map
                .iter_mut()
                .find(|(k, _)| key_is(k, name))
                .map(|(_, v)| v),
            Step::Variant(_) if map.len() == 1 => map.values_mut().next(),
            _ => None,
        },
        Value::Sequence(items) => match step {
            Step::Index(index) => items.get_mut(*index),
            _ => None,
        },
        _ => None,
    }
}

/// The node at `steps` in `value`.
fn node_at<'v>(value: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    steps.iter().try_fold(value, |node, step| child(node, step))
}

/// Removes the node at `steps` (a mapping entry or a sequence item) from `value`.
fn remove_at(value: &mut Value, steps: &[Step]) -> bool {
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    let mut node = value;
    for step in parents {
        match child_mut(node, step) {
            Some(next) => node = next,
            None => return false,
        }
    }
    match (untag_mut(node), last) {
        (Value::Mapping(map), Step::Key(name)) => {
            let key = map.keys().find(|k| key_is(k, name)).cloned();
            key.is_some_and(|key| map.shift_remove(&key).is_some())
        }
        (Value::Sequence(items), Step::Index(index)) if *index < items.len() => {
            items.remove(*index);
            true
        }
        _ => false,
    }
}

/// Deserializes `value` (found at `base` in the file) into `T`, pushing every problem found onto
/// `problems`. Returns `Some` only when the value deserialized without any removal.
fn collect<T: DeserializeOwned>(
    value: &Value,
    base: &str,
    index: &LocationIndex,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let mut work = value.clone();
    let mut removed_items: HashMap<String, Vec<usize>> = HashMap::new();
    let mut removed_paths: HashSet<String> = HashSet::new();
    let mut failed = false;
    for _ in 0..MAX_ROUNDS {
        let error = match serde_path_to_error::deserialize::<_, T>(work.clone()) {
            Ok(typed) => return if failed { None } else { Some(typed) },
            Err(error) => error,
        };
        failed = true;
        let steps: Vec<Step> = error.path().iter().map(Step::from_segment).collect();
        let original = original_steps(&steps, &removed_items);
        let path = render(base, &original);
        let message = tidy(&error.inner().to_string());

        let caused_by_removal = missing_field(&message)
            .is_some_and(|field| removed_paths.contains(&join_key(&path, field)));
        if !caused_by_removal {
            let explained = match untagged_enum(&message) {
                Some(name) => {
                    explain_untagged(name, node_at(&work, &steps), &path, index, problems)
                }
                None => None,
            };
            let message = explained.as_deref().unwrap_or(&message);
            if !message.is_empty() {
                problems.push(problem(index.locate_nearest(&path), &path, message));
            }
        }

        if !remove_at(&mut work, &steps) {
            break;
        }
        if let (Some(Step::Index(at)), Some(container)) =
            (original.last(), original.split_last().map(|(_, c)| c))
        {
            let gone = removed_items.entry(render(".", container)).or_default();
            let slot = gone.partition_point(|&g| g < *at);
            gone.insert(slot, *at);
        }
        removed_paths.insert(path);
    }
    if !failed {
        // Only reachable with MAX_ROUNDS == 0.
        problems.push(problem(
            index.locate_nearest(base),
            base,
            "the value could not be read",
        ));
    }
    None
}

/// serde's message lowercase first and without a trailing period.
fn tidy(message: &str) -> String {
    let message = message.trim().trim_end_matches('.');
    let mut chars = message.chars();
    match (chars.next(), chars.next()) {
        // Keep acronyms (`EOF`) as they are.
        (Some(first), second)
            if first.is_uppercase() && !second.is_some_and(char::is_uppercase) =>
        {
            first
                .to_lowercase()
                .chain(message[first.len_utf8()..].chars())
                .collect()
        }
        _ => message.to_owned(),
    }
}

/// The field named by a serde "missing field `x`" message.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// The enum named by serde's untagged-enum message.
fn untagged_enum(message: &str) -> Option<&str> {
    message.strip_prefix("data did not match any variant of untagged enum ")
}

/// Better words for an untagged enum serde could not match.
struct UntaggedHint {
    /// The enum's Rust name, as in serde's message.
    name: &'static str,
    /// What may be written.
    expected: &'static str,
    /// Collects the detailed problems of the node when its shape shows which variant was meant;
    /// returns whether any were found.
    detail: fn(&Value, &str, &LocationIndex, &mut Vec<Problem>) -> bool,
}

const UNTAGGED: &[UntaggedHint] = &[
    UntaggedHint {
        name: "RawPress",
        expected: "expected a key name or {button, hold}",
        detail: press_detail,
    },
    UntaggedHint {
        name: "RawChord",
        expected: "expected a list of keys or {keys, hold}",
        detail: chord_detail,
    },
];

fn press_detail(
    node: &Value,
    path: &str,
    index: &LocationIndex,
    problems: &mut Vec<Problem>,
) -> bool {
    matches!(untag(node), Value::Mapping(_))
        && collect::<RawPressFull>(node, path, index, problems).is_none()
}

fn chord_detail(
    node: &Value,
    path: &str,
    index: &LocationIndex,
    problems: &mut Vec<Problem>,
) -> bool {
    match untag(node) {
        Value::Mapping(_) => collect::<RawChordFull>(node, path, index, problems).is_none(),
        Value::Sequence(_) => collect::<Vec<String>>(node, path, index, problems).is_none(),
        _ => false,
    }
}

/// The message to record for an untagged enum that matched no variant: empty when the detailed
/// problems inside the node were recorded instead, `None` when the enum is not in the table.
fn explain_untagged(
    name: &str,
    node: Option<&Value>,
    path: &str,
    index: &LocationIndex,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let hint = UNTAGGED.iter().find(|hint| hint.name == name)?;
    let node = node?;
    if (hint.detail)(node, path, index, problems) {
        return Some(String::new());
    }
    let found = match untag(node) {
        Value::Null => "nothing".to_owned(),
        Value::Bool(b) => format!("the boolean {b} (quote it if it is a key name)"),
        Value::Number(n) => format!("the number {n} (quote it if it is a key name: \"{n}\")"),
        Value::String(s) => format!("the string \"{s}\""),
        Value::Sequence(_) => "a list".to_owned(),
        Value::Mapping(_) => "a mapping".to_owned(),
        Value::Tagged(_) => "a tagged value".to_owned(),
    };
    Some(format!("{}, found {found}", hint.expected))
}

fn problem(position: Option<(usize, usize)>, path: &str, message: &str) -> Problem {
    Problem {
        line: position.map(|p| p.0),
        column: position.map(|p| p.1),
        path: path.to_owned(),
        message: message.to_owned(),
    }
}

fn invalid(file: &Path, problems: Vec<Problem>) -> ConfigError {
    ConfigError::Invalid {
        file: file.to_path_buf(),
        problems,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::PathBuf;

    use serde::Deserialize;

    use super::*;
    use crate::config::raw::{RawPress, RawScenario};

    fn file() -> PathBuf {
        PathBuf::from("scenarios/x.yaml")
    }

    /// The problems of `text` read as `T`, as (line, column, path, message).
    fn problems_of<T: DeserializeOwned + std::fmt::Debug>(
        text: &str,
    ) -> Vec<(Option<usize>, Option<usize>, String, String)> {
        match parse::<T>(&file(), text) {
            Ok((typed, _)) => panic!("expected problems, got {typed:?}"),
            Err(ConfigError::Invalid { problems, .. }) => problems
                .into_iter()
                .map(|p| (p.line, p.column, p.path, p.message))
                .collect(),
            Err(other) => panic!("expected problems, got {other}"),
        }
    }

    // The fields are only there to be deserialized.
    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        name: Option<String>,
        items: Option<Vec<Item>>,
        inner: Option<Inner>,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        id: Option<u32>,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        required: u32,
        other: Option<bool>,
    }

    #[test]
    fn index_positions_are_one_based() {
        let index = LocationIndex::from_text("a: 1\nb:\n  c: x\n");
        assert_eq!(index.locate("."), Some((1, 1)));
        assert_eq!(index.locate("a"), Some((1, 1)));
        assert_eq!(index.locate_value("a"), Some((1, 4)));
        assert_eq!(index.locate("b"), Some((2, 1)));
        assert_eq!(index.locate_value("b"), Some((3, 3)));
        assert_eq!(index.locate("b.c"), Some((3, 3)));
        assert_eq!(index.locate_value("b.c"), Some((3, 6)));
        assert_eq!(index.locate("b.d"), None);
        assert_eq!(index.locate_nearest("b.d"), Some((2, 1)));
    }

    #[test]
    fn index_flow_style() {
        let index = LocationIndex::from_text("top: {a: 1, b: [x, y]}\n");
        assert_eq!(index.locate_value("top"), Some((1, 6)));
        assert_eq!(index.locate("top.a"), Some((1, 7)));
        assert_eq!(index.locate_value("top.a"), Some((1, 10)));
        assert_eq!(index.locate("top.b"), Some((1, 13)));
        assert_eq!(index.locate_value("top.b"), Some((1, 16)));
        assert_eq!(index.locate("top.b[0]"), Some((1, 17)));
        assert_eq!(index.locate("top.b[1]"), Some((1, 20)));
        assert_eq!(index.locate("top.b[2]"), None);
    }

    #[test]
    fn index_block_sequences_and_nesting() {
        let text = "\
kind: scenario
steps:
  - press: ok
  - expect_display:
      shows: oracle
      within: 2s
  - \"quoted\"
camera:
  lcd_region:
    x: 10
";
        let index = LocationIndex::from_text(text);
        assert_eq!(index.locate("steps[0].press"), Some((3, 5)));
        assert_eq!(index.locate_value("steps[0].press"), Some((3, 12)));
        assert_eq!(index.locate("steps[1].expect_display.within"), Some((6, 7)));
        assert_eq!(index.locate("steps[2]"), Some((7, 5)));
        assert_eq!(index.locate("camera.lcd_region.x"), Some((10, 5)));
        assert_eq!(index.locate_value("camera.lcd_region.x"), Some((10, 8)));
    }

    #[test]
    fn index_top_level_sequence_and_complex_keys() {
        let index = LocationIndex::from_text("- a: 1\n- ? [x, y]\n  : skipped\n  b: 2\n");
        assert_eq!(index.locate("[0].a"), Some((1, 3)));
        assert_eq!(index.locate("[1].b"), Some((4, 3)));
    }

    #[test]
    fn index_keeps_what_precedes_a_syntax_error() {
        let index = LocationIndex::from_text("a: 1\nb: 2\nc: [unclosed\nd: 4\n");
        assert_eq!(index.locate("a"), Some((1, 1)));
        assert_eq!(index.locate("b"), Some((2, 1)));
        assert_eq!(index.locate("d"), None);
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let problems = problems_of::<Outer>("name: x\nitems:\n  - id: 1\n  bad: : :\n");
        assert_eq!(problems.len(), 1, "{problems:?}");
        let (line, column, path, message) = &problems[0];
        assert_eq!(
            (*line, *column, path.as_str()),
            (Some(4), Some(3), "."),
            "{message}"
        );
        assert!(!message.contains("at line 4 column 3"), "{message}");
    }

    #[test]
    fn empty_file_is_a_problem() {
        for text in ["", "\n\n", "# only a comment\n---\n"] {
            let problems = problems_of::<Outer>(text);
            assert_eq!(
                problems,
                vec![(None, None, ".".to_owned(), "the file is empty".to_owned())]
            );
        }
    }

    #[test]
    fn unknown_key_is_located_at_its_key() {
        let text = "kind: scenario\nsteps:\n  - press: ok\n  - presss: ok\n";
        let problems = problems_of::<RawScenario>(text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let (line, column, path, message) = &problems[0];
        assert_eq!(
            (*line, *column, path.as_str()),
            (Some(4), Some(5), "steps[1].presss")
        );
        assert!(
            message.starts_with("unknown field `presss`, expected one of"),
            "{message}"
        );
    }

    #[test]
    fn typo_and_wrong_type_in_two_steps_are_reported_together() {
        let text = "\
kind: scenario
steps:
  - wiat: 2s
  - press: ok
  - repeat:
      times: many
      steps: []
";
        let problems = problems_of::<RawScenario>(text);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(
            (problems[0].0, problems[0].1, problems[0].2.as_str()),
            (Some(3), Some(5), "steps[0].wiat")
        );
        assert!(
            problems[0].3.starts_with("unknown field `wiat`"),
            "{}",
            problems[0].3
        );
        assert_eq!(
            (problems[1].0, problems[1].1, problems[1].2.as_str()),
            (Some(6), Some(7), "steps[2].repeat.times")
        );
        assert!(
            problems[1]
                .3
                .starts_with("invalid type: string \"many\", expected u32"),
            "{}",
            problems[1].3
        );
    }

    #[test]
    fn nested_unknown_key_is_located() {
        let text = "\
kind: scenario
steps:
  - press: ok
  - wait: 1s
  - expect_display:
      shows: oracle
      withn: 2s
";
        let problems = problems_of::<RawScenario>(text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].0, problems[0].1, problems[0].2.as_str()),
            (Some(7), Some(7), "steps[2].expect_display.withn")
        );
        assert!(
            problems[0]
                .3
                .starts_with("unknown field `withn`, expected `shows` or `within`"),
            "{}",
            problems[0].3
        );
    }

    #[test]
    fn bad_durations_are_reported_with_the_duration_message() {
        let text = "\
kind: scenario
setup:
  - wait: 2x
steps:
  - press: ok
  - wait: 5
";
        let problems = problems_of::<RawScenario>(text);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(
            (problems[0].0, problems[0].1, problems[0].2.as_str()),
            (Some(3), Some(5), "setup[0].wait")
        );
        assert!(
            problems[0].3.starts_with("invalid duration `2x`: "),
            "{}",
            problems[0].3
        );
        assert!(
            problems[0]
                .3
                .ends_with("write it with its unit, like 150ms or 2s"),
            "{}",
            problems[0].3
        );
        assert_eq!(
            problems[1],
            (
                Some(6),
                Some(5),
                "steps[1].wait".to_owned(),
                "bare number 5 has no unit; write it like 5s or 5ms".to_owned()
            )
        );
    }

    #[test]
    fn removed_items_keep_their_original_indices() {
        let text = "\
items:
  - id: x
  - idd: 1
  - id: 2
  - id: [3]
  - id: 4
name: [not, a, string]
";
        let problems = problems_of::<Outer>(text);
        let paths: Vec<_> = problems.iter().map(|p| (p.0, p.2.as_str())).collect();
        assert_eq!(
            paths,
            vec![
                (Some(2), "items[0].id"),
                (Some(3), "items[1].idd"),
                (Some(5), "items[3].id"),
                (Some(7), "name")
            ],
            "{problems:?}"
        );
    }

    #[test]
    fn missing_field_is_reported_and_the_rest_still_checked() {
        let text = "inner:\n  other: true\nitems:\n  - id: 1\n  - idd: 2\n";
        let problems = problems_of::<Outer>(text);
        assert_eq!(
            problems,
            vec![
                (
                    Some(1),
                    Some(1),
                    "inner".to_owned(),
                    "missing field `required`".to_owned()
                ),
                (
                    Some(5),
                    Some(5),
                    "items[1].idd".to_owned(),
                    "unknown field `idd`, expected `id`".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn missing_field_caused_by_a_removal_is_not_reported() {
        let problems = problems_of::<Outer>("inner:\n  required: yes\n");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].2, "inner.required");
    }

    #[test]
    fn wrong_document_type_is_reported_at_the_root() {
        let problems = problems_of::<RawScenario>("- a\n- b\n");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].0, problems[0].1, problems[0].2.as_str()),
            (Some(1), Some(1), ".")
        );
    }

    #[test]
    fn untagged_press_gets_a_readable_message() {
        let text = "\
kind: scenario
steps:
  - press: [a, b]
  - press: {button: ok, hold: 5}
  - press: {buton: ok}
  - press: 7
  - chord: [red, 0]
  - press: ok
";
        let problems = problems_of::<RawScenario>(text);
        let got: Vec<_> = problems
            .iter()
            .map(|p| (p.0, p.1, p.2.as_str(), p.3.as_str()))
            .collect();
        assert_eq!(
            got[0],
            (
                Some(3),
                Some(5),
                "steps[0].press",
                "expected a key name or {button, hold}, found a list"
            )
        );
        assert_eq!(
            got[1],
            (
                Some(4),
                Some(25),
                "steps[1].press.hold",
                "bare number 5 has no unit; write it like 5s or 5ms"
            )
        );
        assert_eq!(
            got[2],
            (Some(5), Some(5), "steps[2].press", "missing field `button`")
        );
        assert_eq!(
            (got[3].0, got[3].1, got[3].2),
            (Some(5), Some(13), "steps[2].press.buton")
        );
        assert_eq!(got[4].2, "steps[3].press");
        assert!(
            got[4]
                .3
                .starts_with("expected a key name or {button, hold}, found the number 7"),
            "{}",
            got[4].3
        );
        assert_eq!(got[5].2, "steps[4].chord[1]");
        assert_eq!(got.len(), 6, "{got:?}");
    }

    #[test]
    fn valid_file_deserializes() {
        let text = "kind: scenario\nsteps:\n  - press: ok\n  - power_off:\n";
        let (scenario, index) = parse::<RawScenario>(&file(), text).unwrap();
        let steps = scenario.steps.unwrap();
        assert!(matches!(&steps[0].press, Some(RawPress::Key(key)) if key == "ok"));
        assert!(steps[1].power_off.is_some());
        assert_eq!(index.locate("steps[1].power_off"), Some((4, 5)));
    }

    #[test]
    fn display_is_one_line_per_problem() {
        let text = "kind: scenario\nsteps:\n  - press: ok\n  - presss: ok\n  - wait: 5\n";
        let error = parse::<RawScenario>(&file(), text).unwrap_err();
        let shown = error.to_string();
        let lines: Vec<_> = shown.lines().collect();
        assert_eq!(lines.len(), 2, "{shown}");
        assert!(
            lines[0].starts_with(
                "scenarios/x.yaml:4:5: steps[1].presss: unknown field `presss`, expected one of"
            ),
            "{shown}"
        );
        assert_eq!(
            lines[1],
            "scenarios/x.yaml:5:5: steps[2].wait: bare number 5 has no unit; write it like 5s or 5ms"
        );
    }

    #[test]
    fn kind_of_reads_the_top_level_kind() {
        let (value, _) = parse_value(&file(), "kind: rig\nname: bench\n").unwrap();
        assert_eq!(kind_of(&value), Some("rig"));
        let (value, _) = parse_value(&file(), "name: bench\n").unwrap();
        assert_eq!(kind_of(&value), None);
        let (value, _) = parse_value(&file(), "kind: 3\n").unwrap();
        assert_eq!(kind_of(&value), None);
    }

    #[test]
    fn read_names_the_file_on_failure() {
        let missing = Path::new("/nonexistent/otprig/rig.yaml");
        let error = read(missing).unwrap_err();
        assert!(matches!(&error, ConfigError::Io { .. }));
        assert!(
            error
                .to_string()
                .starts_with("/nonexistent/otprig/rig.yaml: "),
            "{error}"
        );
    }

    #[test]
    fn messages_are_tidied() {
        assert_eq!(tidy("Invalid thing."), "invalid thing");
        assert_eq!(tidy("EOF while parsing"), "EOF while parsing");
        assert_eq!(parent_path("steps[3].press"), Some("steps[3]"));
        assert_eq!(parent_path("steps[3]"), Some("steps"));
        assert_eq!(parent_path("steps"), Some("."));
        assert_eq!(parent_path("."), None);
    }
}
