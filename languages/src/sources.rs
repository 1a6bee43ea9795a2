//! Reading the pinned sources from the cache that `fetch.py` fills.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use nib_engine::pack::Source;
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result, io};

/// The pin list, `languages/sources.toml`, compiled in so that every pack
/// records exactly what `fetch.py` verified.
const SOURCES_TOML: &str = include_str!("../sources.toml");

#[derive(Debug, Deserialize)]
struct Lock {
    source: Vec<LockedSource>,
}

#[derive(Debug, Deserialize)]
struct LockedSource {
    name: String,
    registry: String,
    package: String,
    version: String,
    sha256: String,
    license: String,
    used_for: String,
}

/// The unpacked sources in a cache directory.
#[derive(Debug, Clone)]
pub struct SourceCache {
    root: PathBuf,
}

impl SourceCache {
    /// The cache rooted at `root` (`.cache/sources` by default).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The manifest entry of the source `name`.
    pub fn manifest_entry(&self, name: &str) -> Source {
        let lock: Lock = toml::from_str(SOURCES_TOML).unwrap_or(Lock { source: vec![] });
        lock.source
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| Source {
                name: s.name,
                registry: s.registry,
                package: s.package,
                version: s.version,
                sha256: s.sha256,
                license: s.license,
                used_for: s.used_for,
            })
            .unwrap_or_else(|| Source {
                name: name.into(),
                registry: "unknown".into(),
                package: name.into(),
                version: "unknown".into(),
                sha256: String::new(),
                license: "unknown".into(),
                used_for: String::new(),
            })
    }

    /// Path of `relative` inside source `name`, checked to exist.
    pub fn file(&self, name: &str, relative: &str) -> Result<PathBuf> {
        let path = self.root.join(name).join(relative);
        if path.exists() {
            Ok(path)
        } else {
            Err(Error::MissingSource {
                name: format!("{name}/{relative}"),
                dir: self.root.clone(),
            })
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(io(path))
}

fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read(path)?).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

/// A wordfreq list: words (lower case) with their cost in centibels, most
/// frequent first.
pub fn read_wordfreq(path: &Path) -> Result<Vec<(String, u16)>> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Item {
        Bucket(Vec<String>),
        Header(HashMap<String, serde_json::Value>),
    }
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&read(path)?[..])
        .read_to_end(&mut raw)
        .map_err(io(path))?;
    let items: Vec<Item> = rmp_serde::from_slice(&raw).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let mut items = items.into_iter();
    match items.next() {
        Some(Item::Header(h)) if h.get("format").and_then(|f| f.as_str()) == Some("cB") => {}
        _ => {
            return Err(Error::Format {
                path: path.to_path_buf(),
                detail: "not a wordfreq cB list".into(),
            });
        }
    }
    let mut words = Vec::new();
    for (cost, item) in items.enumerate() {
        if let Item::Bucket(bucket) = item {
            let cost = u16::try_from(cost).unwrap_or(u16::MAX);
            words.extend(bucket.into_iter().map(|w| (w, cost)));
        }
    }
    Ok(words)
}

/// A plain word list, one word per line, NFC-normalised. Hunspell-style
/// `word/FLAGS` lines keep only the word.
pub fn read_word_list(path: &Path) -> Result<Vec<String>> {
    Ok(read_text(path)?
        .lines()
        .map(|l| l.split('/').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.nfc().collect())
        .collect())
}

/// Counts of each case form of each word inside sentences (not first in a
/// sentence, nor first after an opening quote or a full stop, question or
/// exclamation mark inside a line: `` "Hey, ...`` starts a quoted
/// sentence) in the tagged Brown corpus, keyed by the lower-cased word.
pub fn read_brown_case_counts(dir: &Path) -> Result<HashMap<String, HashMap<String, u32>>> {
    let mut counts: HashMap<String, HashMap<String, u32>> = HashMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('c'))
        })
        .collect();
    files.sort();
    for file in files {
        let text = read_text(&file)?;
        for sentence in text.lines() {
            let tokens = sentence
                .split_whitespace()
                .filter_map(|t| t.rsplit_once('/'));
            let mut starts = true;
            for (word, _tag) in tokens {
                let first = std::mem::replace(&mut starts, matches!(word, "``" | "." | "?" | "!"));
                if first || !word.chars().next().is_some_and(char::is_alphabetic) {
                    continue;
                }
                let form = counts.entry(word.to_lowercase()).or_default();
                *form.entry(word.to_owned()).or_default() += 1;
            }
        }
    }
    Ok(counts)
}

/// The single words of a naughty-words list (lower case); phrases are skipped.
pub fn read_offensive(path: &Path) -> Result<HashSet<String>> {
    let list: Vec<String> = serde_json::from_slice(&read(path)?).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    Ok(list
        .into_iter()
        .map(|w| w.trim().to_lowercase())
        .filter(|w| !w.is_empty() && !w.contains(char::is_whitespace))
        .collect())
}

/// Bigram counts, lines of `first second count`.
pub fn read_bigrams(path: &Path) -> Result<Vec<(String, String, u32)>> {
    let text = read_text(path)?;
    let mut pairs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut fields = line.split_whitespace();
        let (Some(a), Some(b), Some(c)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let count: u64 = c.parse().map_err(|_| Error::Format {
            path: path.to_path_buf(),
            detail: format!("line {}: bad count {c:?}", n + 1),
        })?;
        pairs.push((
            a.to_owned(),
            b.to_owned(),
            count.min(u64::from(u32::MAX)) as u32,
        ));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brown_counts_skip_sentence_starts_inside_a_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ca01"),
            "The/at man/nn said/vbd ``/`` Hey/uh ,/, Bill/np ./. Then/rb he/pps left/vbd\n",
        )
        .unwrap();
        let counts = read_brown_case_counts(dir.path()).unwrap();
        assert_eq!(counts["man"]["man"], 1);
        assert_eq!(counts["bill"]["Bill"], 1);
        for first in ["the", "hey", "then"] {
            assert!(!counts.contains_key(first), "{first}");
        }
    }
}
