//! The pack container: a header, a table of sections and the sections.
//!
//! ```text
//! offset  size  field
//! 0       8     magic  b"NIBPACK\0"
//! 8       4     format version (u32 LE)
//! 12      4     number of sections n (u32 LE)
//! 16      8     total file length (u64 LE)
//! 24      4     CRC-32 of the section table
//! 28      4     CRC-32 of bytes 0..28
//! 32      32*n  section table: tag [u8; 4], reserved u32, offset u64, length u64,
//!               CRC-32 of the section u32, reserved u32
//! ...           sections, each starting on an 8-byte boundary
//! ```
//!
//! Everything is little-endian. The layout is designed for `mmap`: a reader
//! validates the header and the checksums once and then borrows every section
//! straight from the mapping, so loading costs one pass of CRC over the file
//! and no copies. A mismatch anywhere is a typed error naming the file.

use std::ops::Range;
use std::path::Path;

use crate::error::{Error, Result};

/// The first eight bytes of every pack.
pub const MAGIC: [u8; 8] = *b"NIBPACK\0";
/// The container format version this engine reads and writes.
pub const FORMAT_VERSION: u32 = 1;

const HEADER_LEN: usize = 32;
const ENTRY_LEN: usize = 32;
/// Sanity bound on the number of sections, so that a corrupt count cannot make
/// the reader allocate or loop without bound.
const MAX_SECTIONS: usize = 64;

/// A four-byte section tag such as `b"LEXF"`.
pub type Tag = [u8; 4];

/// Serialises sections into a pack.
#[derive(Debug, Default)]
pub struct ContainerWriter {
    sections: Vec<(Tag, Vec<u8>)>,
}

impl ContainerWriter {
    /// An empty container.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a section. Tags must be unique.
    pub fn section(&mut self, tag: Tag, bytes: Vec<u8>) -> &mut Self {
        debug_assert!(
            self.sections.iter().all(|(t, _)| *t != tag),
            "duplicate section tag"
        );
        self.sections.push((tag, bytes));
        self
    }

    /// The complete pack file.
    pub fn finish(&self) -> Vec<u8> {
        let table_len = ENTRY_LEN * self.sections.len();
        let mut offset = align8(HEADER_LEN + table_len);
        let mut table = Vec::with_capacity(table_len);
        for (tag, bytes) in &self.sections {
            table.extend_from_slice(tag);
            table.extend_from_slice(&0u32.to_le_bytes());
            table.extend_from_slice(&(offset as u64).to_le_bytes());
            table.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            table.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
            table.extend_from_slice(&0u32.to_le_bytes());
            offset = align8(offset + bytes.len());
        }
        let total = offset;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.sections.len() as u32).to_le_bytes());
        out.extend_from_slice(&(total as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&table).to_le_bytes());
        let header_crc = crc32fast::hash(&out);
        out.extend_from_slice(&header_crc.to_le_bytes());
        out.extend_from_slice(&table);
        for (_, bytes) in &self.sections {
            out.resize(align8(out.len()), 0);
            out.extend_from_slice(bytes);
        }
        out.resize(total, 0);
        out
    }
}

fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// A validated view of a pack's sections: tag and byte range in the file.
#[derive(Debug, Clone)]
pub struct Container {
    sections: Vec<(Tag, Range<usize>)>,
}

impl Container {
    /// Validates `bytes` (the whole file at `path`) and returns its section
    /// table. Every checksum is verified.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let truncated = |detail: String| Error::PackTruncated {
            path: path.to_path_buf(),
            detail,
        };
        if bytes.len() < 12 {
            if bytes.len() < 8 || bytes[..8] != MAGIC {
                return Err(Error::PackMagic {
                    path: path.to_path_buf(),
                    expected: MAGIC,
                    found: bytes[..bytes.len().min(8)].to_vec(),
                });
            }
            return Err(truncated(format!(
                "{} bytes, shorter than the header",
                bytes.len()
            )));
        }
        if bytes[..8] != MAGIC {
            return Err(Error::PackMagic {
                path: path.to_path_buf(),
                expected: MAGIC,
                found: bytes[..8].to_vec(),
            });
        }
        let version = read_u32(bytes, 8);
        if version != FORMAT_VERSION {
            return Err(Error::PackVersion {
                path: path.to_path_buf(),
                expected: FORMAT_VERSION,
                found: version,
            });
        }
        if bytes.len() < HEADER_LEN {
            return Err(truncated(format!(
                "{} bytes, shorter than the header",
                bytes.len()
            )));
        }
        if crc32fast::hash(&bytes[..28]) != read_u32(bytes, 28) {
            return Err(Error::PackChecksum {
                path: path.to_path_buf(),
                section: "header".into(),
            });
        }
        let count = read_u32(bytes, 12) as usize;
        let total = read_u64(bytes, 16);
        if total != bytes.len() as u64 {
            return Err(truncated(format!(
                "header says {total} bytes, file has {}",
                bytes.len()
            )));
        }
        if count > MAX_SECTIONS {
            return Err(Error::corrupt(
                path,
                format!("{count} sections (at most {MAX_SECTIONS})"),
            ));
        }
        let table_end = HEADER_LEN + count * ENTRY_LEN;
        let table = bytes
            .get(HEADER_LEN..table_end)
            .ok_or_else(|| truncated("section table cut short".into()))?;
        if crc32fast::hash(table) != read_u32(bytes, 24) {
            return Err(Error::PackChecksum {
                path: path.to_path_buf(),
                section: "section table".into(),
            });
        }
        let mut sections = Vec::with_capacity(count);
        for entry in table.chunks_exact(ENTRY_LEN) {
            let mut tag = [0; 4];
            tag.copy_from_slice(&entry[..4]);
            let name = tag_name(tag);
            let start = read_u64(entry, 8);
            let len = read_u64(entry, 16);
            let end = start
                .checked_add(len)
                .filter(|&end| end <= bytes.len() as u64);
            let Some(end) = end else {
                return Err(truncated(format!(
                    "section {name} ends past the end of the file"
                )));
            };
            let range = start as usize..end as usize;
            if crc32fast::hash(&bytes[range.clone()]) != read_u32(entry, 24) {
                return Err(Error::PackChecksum {
                    path: path.to_path_buf(),
                    section: name,
                });
            }
            if sections.iter().any(|(t, _)| *t == tag) {
                return Err(Error::corrupt(
                    path,
                    format!("section {name} appears twice"),
                ));
            }
            sections.push((tag, range));
        }
        Ok(Self { sections })
    }

    /// The byte range of the section `tag`, if present.
    pub fn get(&self, tag: Tag) -> Option<Range<usize>> {
        self.sections
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, r)| r.clone())
    }

    /// The byte range of the section `tag`, or an error naming it.
    pub fn require(&self, path: &Path, tag: Tag) -> Result<Range<usize>> {
        self.get(tag)
            .ok_or_else(|| Error::corrupt(path, format!("missing section {}", tag_name(tag))))
    }

    /// Tags and lengths of all sections, in file order.
    pub fn sections(&self) -> impl Iterator<Item = (Tag, usize)> + '_ {
        self.sections.iter().map(|(t, r)| (*t, r.len()))
    }
}

/// A printable name for a tag.
pub fn tag_name(tag: Tag) -> String {
    String::from_utf8_lossy(&tag).into_owned()
}

pub(crate) fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

pub(crate) fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn path() -> &'static Path {
        Path::new("test.nibpack")
    }

    #[test]
    fn rejects_wrong_magic_and_version() {
        let mut bytes = ContainerWriter::new()
            .section(*b"ABCD", vec![1, 2, 3])
            .finish();
        let mut wrong_magic = bytes.clone();
        wrong_magic[0] = b'X';
        assert!(matches!(
            Container::parse(path(), &wrong_magic),
            Err(Error::PackMagic { .. })
        ));
        bytes[8] = 9;
        let err = Container::parse(path(), &bytes).unwrap_err();
        assert!(
            matches!(
                err,
                Error::PackVersion {
                    expected: 1,
                    found: 9,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn rejects_truncation_and_flipped_bits() {
        let bytes = ContainerWriter::new()
            .section(*b"ABCD", vec![7; 100])
            .finish();
        for cut in [0, 5, 12, 40, bytes.len() - 1] {
            assert!(
                Container::parse(path(), &bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut flipped = bytes.clone();
        let last = flipped.len() - 10;
        flipped[last] ^= 1;
        let err = Container::parse(path(), &flipped).unwrap_err();
        assert!(matches!(err, Error::PackChecksum { ref section, .. } if section == "ABCD"));
    }

    proptest! {
        #[test]
        fn round_trip(sections in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..6)) {
            let mut writer = ContainerWriter::new();
            for (i, s) in sections.iter().enumerate() {
                writer.section([b'S', b'0' + i as u8, b'x', b'x'], s.clone());
            }
            let bytes = writer.finish();
            let container = Container::parse(path(), &bytes).unwrap();
            for (i, s) in sections.iter().enumerate() {
                let range = container.get([b'S', b'0' + i as u8, b'x', b'x']).unwrap();
                prop_assert_eq!(&bytes[range], &s[..]);
            }
        }

        #[test]
        fn never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Container::parse(path(), &bytes);
        }
    }
}
