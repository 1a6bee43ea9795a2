//! The manifest: what a pack holds and where its data came from.

use serde::{Deserialize, Serialize};

/// One source the pack was built from, pinned and with its licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Short name, e.g. "wordfreq".
    pub name: String,
    /// Registry the source comes from: "pypi", "npm" or "debian".
    pub registry: String,
    /// Package name in that registry.
    pub package: String,
    /// Exact version.
    pub version: String,
    /// SHA-256 of the downloaded file.
    pub sha256: String,
    /// Licence of the data.
    pub license: String,
    /// What the pack takes from it.
    pub used_for: String,
}

/// Counts and provenance of a pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Language tag, e.g. "en".
    pub language: String,
    /// Language name in English.
    pub name: String,
    /// Version of the pack's content (changes when the data or builder does).
    pub pack_version: String,
    /// Number of words in the lexicon.
    pub words: u32,
    /// Number of words marked offensive.
    pub offensive_words: u32,
    /// Number of word pairs.
    pub pairs: u32,
    /// How the case of each word was decided.
    pub casing: String,
    /// The sources, pinned.
    pub sources: Vec<Source>,
}
