//! Text handling shared by every stage: folding, case, context.

pub mod case;
pub mod context;
pub mod fold;
