//! The personal store on disk: an append-only journal of checksummed
//! records, compacted by write, fsync and rename.
//!
//! ```text
//! offset  size  field
//! 0       8     magic b"NIBUSER\0"
//! 8       4     format version (u32 LE)
//! 12      ...   records: length u32 LE, CRC-32 of the payload u32 LE,
//!               payload (JSON of one Record)
//! ```
//!
//! Why a journal: learning a word must cost microseconds, so it appends one
//! small record instead of rewriting the file. Each append is handed to the
//! operating system before `learn` returns, so a killed process loses
//! nothing it acknowledged; [`Journal::sync`] (`fsync`) makes the records
//! survive a power loss too, for hosts to call when the keyboard goes to
//! the background. A crash in the middle of an append leaves a torn last
//! record, which the next open drops (it was never acknowledged). Any other
//! damage (a bad header, a bad checksum before the end) means the file is
//! not what nib wrote: it is renamed aside, never overwritten, and opening
//! fails with [`Error::PersonalStore`] naming both files.
//!
//! Compaction writes the live records to a temporary file, fsyncs it,
//! renames it over the journal and fsyncs the directory: at every moment
//! either the old or the new file is complete.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::personal::{PairEntry, WordEntry};

/// The first eight bytes of a journal.
pub const MAGIC: [u8; 8] = *b"NIBUSER\0";
/// The journal format version.
pub const VERSION: u32 = 1;
const HEADER_LEN: usize = 12;
/// Longest record accepted.
const MAX_RECORD: usize = 1 << 16;
/// Records appended since the last compaction that trigger the next one.
const COMPACT_AFTER: u64 = 20_000;

/// One journal record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Record {
    /// A word's state after an update.
    Word(WordEntry),
    /// A pair's state after an update.
    Pair(PairEntry),
    /// A folded word blocked.
    Block {
        /// The folded word.
        word: String,
    },
    /// A word forgotten.
    Forget {
        /// The word.
        word: String,
    },
    /// Everything forgotten.
    Clear,
}

/// An open journal, appending.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    appended: u64,
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn frame(record: &Record) -> Result<Vec<u8>> {
    let payload = serde_json::to_vec(record).map_err(|e| Error::InvalidInput {
        detail: format!("cannot encode a personal dictionary record: {e}"),
    })?;
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Reads the records of `bytes`; `Ok((records, end of the last whole
/// record))`, or the damage found.
fn parse(bytes: &[u8]) -> std::result::Result<(Vec<Record>, usize), String> {
    if bytes.len() < HEADER_LEN || bytes[..8] != MAGIC {
        return Err("not a nib personal dictionary (bad magic)".into());
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != VERSION {
        return Err(format!(
            "personal dictionary format version {version}, this engine reads {VERSION}"
        ));
    }
    let mut records = Vec::new();
    let mut at = HEADER_LEN;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < 8 {
            break; // a torn length or checksum at the end
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_RECORD {
            return Err(format!("record at byte {at} claims {len} bytes"));
        }
        if rest.len() < 8 + len {
            break; // a torn payload at the end
        }
        let payload = &rest[8..8 + len];
        if crc32fast::hash(payload) != crc {
            if at + 8 + len == bytes.len() {
                break; // the last record, torn inside
            }
            return Err(format!("checksum mismatch in the record at byte {at}"));
        }
        let record: Record = serde_json::from_slice(payload)
            .map_err(|e| format!("record at byte {at} is not a record: {e}"))?;
        records.push(record);
        at += 8 + len;
    }
    Ok((records, at))
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(dir) = File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
    {
        let _ = dir.sync_all();
    }
}

/// Writes `records` as a whole new journal at `path`, crash-safely.
fn write_whole(path: &Path, records: &[Record]) -> Result<()> {
    let tmp = sibling(path, ".tmp");
    let mut bytes = Vec::with_capacity(HEADER_LEN + records.len() * 64);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    for record in records {
        bytes.extend_from_slice(&frame(record)?);
    }
    let mut file = File::create(&tmp).map_err(|e| io(&tmp, e))?;
    file.write_all(&bytes).map_err(|e| io(&tmp, e))?;
    file.sync_all().map_err(|e| io(&tmp, e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    sync_dir(path);
    Ok(())
}

impl Journal {
    /// Opens the journal at `path` (creating it), returning its records.
    pub fn open(path: &Path) -> Result<(Self, Vec<Record>)> {
        let records = match std::fs::read(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                write_whole(path, &[])?;
                Vec::new()
            }
            Err(e) => return Err(io(path, e)),
            Ok(bytes) => match parse(&bytes) {
                Ok((records, end)) => {
                    if end < bytes.len() {
                        // Drop the torn last record.
                        let file = OpenOptions::new()
                            .write(true)
                            .open(path)
                            .map_err(|e| io(path, e))?;
                        file.set_len(end as u64).map_err(|e| io(path, e))?;
                        file.sync_all().map_err(|e| io(path, e))?;
                    }
                    records
                }
                Err(detail) => {
                    let kept = (0u32..)
                        .map(|n| sibling(path, &format!(".damaged-{n}")))
                        .find(|p| !p.exists())
                        .unwrap_or_else(|| sibling(path, ".damaged"));
                    std::fs::rename(path, &kept).map_err(|e| io(path, e))?;
                    return Err(Error::PersonalStore {
                        path: path.to_path_buf(),
                        kept,
                        detail,
                    });
                }
            },
        };
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| io(path, e))?;
        Ok((
            Self {
                path: path.to_path_buf(),
                file,
                appended: records.len() as u64,
            },
            records,
        ))
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `records` in one write.
    pub fn append(&mut self, records: &[Record]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::new();
        for record in records {
            bytes.extend_from_slice(&frame(record)?);
        }
        self.file.write_all(&bytes).map_err(|e| io(&self.path, e))?;
        self.appended += records.len() as u64;
        Ok(())
    }

    /// Whether enough has been appended to rewrite the file.
    pub fn needs_compaction(&self) -> bool {
        self.appended >= COMPACT_AFTER
    }

    /// Replaces the file with `records`, crash-safely.
    pub fn compact(&mut self, records: &[Record]) -> Result<()> {
        write_whole(&self.path, records)?;
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| io(&self.path, e))?;
        self.appended = records.len() as u64;
        Ok(())
    }

    /// `fsync`.
    pub fn sync(&mut self) -> Result<()> {
        self.file.sync_data().map_err(|e| io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(w: &str, n: u64) -> Record {
        Record::Word(WordEntry {
            word: w.into(),
            count: 1.0,
            last: n,
            explicit: false,
        })
    }

    #[test]
    fn records_survive_reopening_and_a_torn_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user.nibdict");
        let (mut journal, records) = Journal::open(&path).unwrap();
        assert!(records.is_empty());
        journal
            .append(&[word("Nadège", 1), word("Wojciech", 2)])
            .unwrap();
        drop(journal);
        // A crash halfway through the next record.
        let mut bytes = std::fs::read(&path).unwrap();
        let torn = frame(&word("half", 3)).unwrap();
        bytes.extend_from_slice(&torn[..torn.len() / 2]);
        std::fs::write(&path, &bytes).unwrap();
        let (_, records) = Journal::open(&path).unwrap();
        assert_eq!(records, [word("Nadège", 1), word("Wojciech", 2)]);
        assert!(std::fs::read(&path).unwrap().len() < bytes.len());
    }

    #[test]
    fn damage_is_kept_aside_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user.nibdict");
        let (mut journal, _) = Journal::open(&path).unwrap();
        journal.append(&[word("one", 1), word("two", 2)]).unwrap();
        drop(journal);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[HEADER_LEN + 10] ^= 0xff; // inside the first record
        std::fs::write(&path, &bytes).unwrap();
        let err = Journal::open(&path).unwrap_err();
        let Error::PersonalStore { kept, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(std::fs::read(kept).unwrap(), bytes, "kept as it was");
        assert!(!path.exists(), "never overwritten in place");
        // Not a journal at all.
        std::fs::write(&path, b"hello").unwrap();
        assert!(matches!(
            Journal::open(&path),
            Err(Error::PersonalStore { .. })
        ));
    }
}
