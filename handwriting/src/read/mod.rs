//! Readers of ink files: JSON ink (nib's own, the typing log's event),
//! InkML and UNIPEN.
//!
//! [`read_ink`] picks the format from the file name, then from the first
//! byte, and returns the ink of the whole file (for UNIPEN, every pen-down
//! component) with the label the file gives, if any. UNIPEN label files,
//! which hold many samples, are read segment by segment with
//! [`UnipenDoc`].

mod inkml;
mod json;
mod unipen;

use std::path::Path;

pub use json::{strokes_of as json_strokes, to_json};
pub use unipen::{Segment, UnipenDoc, root_of as unipen_root};

use crate::error::{Error, Result};
use crate::ink::Ink;

/// Largest ink file read whole.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// An ink file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// nib's JSON ink.
    Json,
    /// W3C InkML.
    InkMl,
    /// A UNIPEN file.
    Unipen,
}

impl Format {
    /// The format of `path`, by its extension and else its first
    /// non-blank byte.
    pub fn detect(path: &Path, bytes: &[u8]) -> Self {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("json") => return Format::Json,
            Some("inkml" | "xml") => return Format::InkMl,
            _ => {}
        }
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => Format::Json,
            Some(b'<') => Format::InkMl,
            _ => Format::Unipen,
        }
    }
}

/// Parses ink held in memory; `path` names it in errors and picks the
/// format.
pub fn parse_ink(bytes: &[u8], path: &Path) -> Result<(Ink, Option<String>)> {
    let text = |format: &'static str| {
        std::str::from_utf8(bytes).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            format,
            line: 0,
            detail: e.to_string(),
        })
    };
    match Format::detect(path, bytes) {
        Format::Json => json::parse(text("JSON ink")?, path),
        Format::InkMl => inkml::parse(text("InkML")?, path),
        Format::Unipen => {
            let doc = UnipenDoc::from_bytes(bytes, path, &unipen::root_of(path))?;
            let label = match doc.segments.as_slice() {
                [one] => Some(one.label.clone()),
                _ => None,
            };
            Ok((doc.pen_down_ink(true), label))
        }
    }
}

/// Reads an ink file: JSON ink, InkML, or UNIPEN (all pen-down
/// components, y flipped to point down).
pub fn read_ink(path: &Path) -> Result<(Ink, Option<String>)> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_FILE_BYTES {
        return Err(Error::Parse {
            path: path.to_path_buf(),
            format: "ink",
            line: 0,
            detail: format!("{len} bytes, more than {MAX_FILE_BYTES}"),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    parse_ink(&bytes, path)
}
