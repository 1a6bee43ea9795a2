//! nib's cross-crate integration tests, run against the built packs.

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
