//! nib's cross-crate integration tests, run against the built packs.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

// Completion behaviour cases from tests/cases/completion.toml.
mod cases;
// Sessions: typing, backspace, picks and cursor moves.
mod sessions;
// Properties of completion over random prefixes of real words.
mod properties;
// Damaged packs and hostile input.
mod bad_input;
// The built packs: sizes, manifests, casing, layouts.
mod packs;
// The neural language model: caching, scoring, bad model files.
mod lm;
// Typing logs: simulation, replay, merging, bad logs, the schema.
mod typing;
// Touch decoding and autocorrect.
mod decoding;
// The personal dictionary: learning rules, persistence, privacy.
mod personal;
// The personal dictionary under faults: killed writers, damaged files.
mod personal_faults;
// Handwriting: readers, features, recognition, incremental updates, bad ink.
mod handwriting;
