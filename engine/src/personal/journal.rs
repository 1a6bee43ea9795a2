//! The personal store on disk: an append-only journal of checksummed
//! records, optionally encrypted, compacted by write, fsync and rename.
//!
//! ```text
//! offset  size  field
//! 0       8     magic b"NIBUSER\0"
//! 8       4     format version (u32 LE), 2
//! 12      4     flags (u32 LE): bit 0 = encrypted
//! 16      40    encrypted only: key check, a 24-byte nonce and the 16-byte
//!               tag of sealing nothing with the header as associated data
//! ...     ...   records: length u32 LE, CRC-32 of the payload u32 LE,
//!               payload
//! ```
//!
//! A payload is one [`Record`] in MessagePack (serde's externally tagged
//! enum, structs as arrays); in an encrypted journal it
//! is a fresh random 24-byte nonce followed by the record sealed with
//! XChaCha20-Poly1305 under the host's 256-bit key, the 16-byte header as
//! associated data. No word is ever written in the clear to an encrypted
//! journal. Version 1 journals (JSON payloads, 12-byte header, never
//! encrypted) are read and rewritten as version 2.
//!
//! Why a journal: learning a word must cost microseconds, so it appends one
//! small record instead of rewriting the file. Each append is handed to the
//! operating system before `learn` returns, so a killed process loses
//! nothing it acknowledged; [`Journal::sync`] (`fsync`) makes the records
//! survive a power loss too, for hosts to call when the keyboard goes to
//! the background. A crash in the middle of an append leaves a torn last
//! record, which the next open drops (it was never acknowledged). Any other
//! damage (a bad header, a bad checksum before the end, a record that does
//! not decrypt) means the file is not what nib wrote: it is renamed aside,
//! never overwritten, and opening fails with [`Error::PersonalStore`]
//! naming both files. A missing or wrong key is [`Error::PersonalKey`], and
//! the file is left untouched.
//!
//! Compaction writes the live records to a temporary file, fsyncs it,
//! renames it over the journal and fsyncs the directory: at every moment
//! either the old or the new file is complete.
//!
//! What the encryption does not hide: the file's size and the number and
//! timing of records. Someone able to write the file can drop or replay
//! whole records (each record is authenticated, their order is not).

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::personal::{PairEntry, WordEntry};

/// The first eight bytes of a journal.
pub const MAGIC: [u8; 8] = *b"NIBUSER\0";
/// The journal format version written.
pub const VERSION: u32 = 2;
/// The first version, read and migrated.
const VERSION_1: u32 = 1;
const V1_HEADER_LEN: usize = 12;
const HEADER_LEN: usize = 16;
const FLAG_ENCRYPTED: u32 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const KEY_CHECK_LEN: usize = NONCE_LEN + TAG_LEN;
/// Longest record accepted.
const MAX_RECORD: usize = 1 << 16;

/// One journal record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// A record of a version 1 journal (JSON, tagged by an `op` field).
#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum RecordV1 {
    Word(WordEntry),
    Pair(PairEntry),
    Block { word: String },
    Forget { word: String },
    Clear,
}

impl From<RecordV1> for Record {
    fn from(record: RecordV1) -> Self {
        match record {
            RecordV1::Word(entry) => Record::Word(entry),
            RecordV1::Pair(entry) => Record::Pair(entry),
            RecordV1::Block { word } => Record::Block { word },
            RecordV1::Forget { word } => Record::Forget { word },
            RecordV1::Clear => Record::Clear,
        }
    }
}

/// A 256-bit key for encrypting a store at rest, supplied by the host app
/// (from the iOS Keychain or the Android Keystore). Wiped from memory when
/// dropped; never printed.
#[derive(Clone)]
pub struct StoreKey(Zeroizing<[u8; 32]>);

impl StoreKey {
    /// The key of 32 bytes, or [`Error::InvalidInput`] for another length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let key: [u8; 32] = bytes.try_into().map_err(|_| Error::InvalidInput {
            detail: format!(
                "a personal dictionary key has 32 bytes (256 bits), not {}",
                bytes.len()
            ),
        })?;
        Ok(Self(Zeroizing::new(key)))
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

/// How payloads are written: in the clear or sealed under a key.
#[derive(Clone)]
struct Codec {
    header: [u8; HEADER_LEN],
    cipher: Option<XChaCha20Poly1305>,
}

impl fmt::Debug for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Codec")
            .field("encrypted", &self.cipher.is_some())
            .finish()
    }
}

fn header(flags: u32) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(&MAGIC);
    header[8..12].copy_from_slice(&VERSION.to_le_bytes());
    header[12..].copy_from_slice(&flags.to_le_bytes());
    header
}

fn random_nonce() -> Result<[u8; NONCE_LEN]> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| Error::Config(format!("no random numbers: {e}")))?;
    Ok(nonce)
}

impl Codec {
    fn new(key: Option<&StoreKey>) -> Self {
        match key {
            None => Self {
                header: header(0),
                cipher: None,
            },
            Some(key) => Self {
                header: header(FLAG_ENCRYPTED),
                cipher: Some(XChaCha20Poly1305::new((&*key.0).into())),
            },
        }
    }

    /// `nonce || ciphertext` of `plain`, or `plain` when not encrypting.
    fn seal(&self, plain: Vec<u8>) -> Result<Vec<u8>> {
        let Some(cipher) = &self.cipher else {
            return Ok(plain);
        };
        let nonce = random_nonce()?;
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &self.header,
                },
            )
            .map_err(|_| Error::Config("encryption failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plaintext of a payload, or `None` if it does not authenticate.
    fn open(&self, payload: &[u8]) -> Option<Vec<u8>> {
        let Some(cipher) = &self.cipher else {
            return Some(payload.to_vec());
        };
        if payload.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, sealed) = payload.split_at(NONCE_LEN);
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &self.header,
                },
            )
            .ok()
    }

    /// The header, and for an encrypted journal its key check.
    fn preamble(&self) -> Result<Vec<u8>> {
        let mut out = self.header.to_vec();
        if self.cipher.is_some() {
            out.extend_from_slice(&self.seal(Vec::new())?);
        }
        Ok(out)
    }

    fn frame(&self, record: &Record) -> Result<Vec<u8>> {
        let plain = rmp_serde::to_vec(record).map_err(|e| Error::InvalidInput {
            detail: format!("cannot encode a personal dictionary record: {e}"),
        })?;
        let payload = self.seal(plain)?;
        let mut out = Vec::with_capacity(8 + payload.len());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        Ok(out)
    }
}

/// What was read from a journal's bytes.
#[derive(Debug)]
struct Parsed {
    records: Vec<Record>,
    /// The end of the last whole record.
    end: usize,
    /// The format version found.
    version: u32,
    /// Whether the journal was encrypted.
    encrypted: bool,
}

/// Why a journal's bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    /// Not what nib wrote, or damaged.
    #[error("damaged: {0}")]
    Damaged(String),
    /// Encrypted, and no key or another key given.
    #[error("key: {0}")]
    Key(String),
}

/// The records of a whole journal's `bytes` (a torn last record is
/// dropped), read with `key` if it is encrypted.
pub fn decode(
    bytes: &[u8],
    key: Option<&StoreKey>,
) -> std::result::Result<Vec<Record>, Unreadable> {
    parse(bytes, key).map(|parsed| parsed.records)
}

/// Reads the records of `bytes` with `key`.
fn parse(bytes: &[u8], key: Option<&StoreKey>) -> std::result::Result<Parsed, Unreadable> {
    use Unreadable::{Damaged, Key};
    if bytes.len() < V1_HEADER_LEN || bytes[..8] != MAGIC {
        return Err(Damaged("not a nib personal dictionary (bad magic)".into()));
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    let (codec, mut at, json) = match version {
        VERSION_1 => (Codec::new(None), V1_HEADER_LEN, true),
        VERSION => {
            if bytes.len() < HEADER_LEN {
                return Err(Damaged("the header is truncated".into()));
            }
            let flags = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
            if flags & !FLAG_ENCRYPTED != 0 {
                return Err(Damaged(format!("unknown flags {flags:#x}")));
            }
            if flags & FLAG_ENCRYPTED == 0 {
                (Codec::new(None), HEADER_LEN, false)
            } else {
                let Some(key) = key else {
                    return Err(Key("it is encrypted and no key was given".into()));
                };
                let codec = Codec::new(Some(key));
                let check = bytes
                    .get(HEADER_LEN..HEADER_LEN + KEY_CHECK_LEN)
                    .ok_or_else(|| Damaged("the key check is truncated".into()))?;
                if codec.open(check).is_none() {
                    return Err(Key("the key given does not open it".into()));
                }
                (codec, HEADER_LEN + KEY_CHECK_LEN, false)
            }
        }
        other => {
            return Err(Damaged(format!(
                "format version {other}, this engine reads {VERSION_1} and {VERSION}"
            )));
        }
    };
    let mut records = Vec::new();
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < 8 {
            break; // a torn length or checksum at the end
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_RECORD {
            return Err(Damaged(format!("record at byte {at} claims {len} bytes")));
        }
        if rest.len() < 8 + len {
            break; // a torn payload at the end
        }
        let payload = &rest[8..8 + len];
        if crc32fast::hash(payload) != crc {
            if at + 8 + len == bytes.len() {
                break; // the last record, torn inside
            }
            return Err(Damaged(format!(
                "checksum mismatch in the record at byte {at}"
            )));
        }
        let plain = codec
            .open(payload)
            .ok_or_else(|| Damaged(format!("the record at byte {at} does not authenticate")))?;
        let record: Record = if json {
            serde_json::from_slice::<RecordV1>(&plain)
                .map(Record::from)
                .map_err(|e| e.to_string())
        } else {
            rmp_serde::from_slice(&plain).map_err(|e| e.to_string())
        }
        .map_err(|e| Damaged(format!("record at byte {at} is not a record: {e}")))?;
        records.push(record);
        at += 8 + len;
    }
    Ok(Parsed {
        records,
        end: at,
        version,
        encrypted: codec.cipher.is_some(),
    })
}

/// An open journal, appending.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    codec: Codec,
    appended: u64,
    compact_after: u64,
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
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
fn write_whole(path: &Path, codec: &Codec, records: &[Record]) -> Result<()> {
    let tmp = sibling(path, ".tmp");
    let mut bytes = codec.preamble()?;
    bytes.reserve(records.len() * 64);
    for record in records {
        bytes.extend_from_slice(&codec.frame(record)?);
    }
    let mut file = File::create(&tmp).map_err(|e| io(&tmp, e))?;
    file.write_all(&bytes).map_err(|e| io(&tmp, e))?;
    file.sync_all().map_err(|e| io(&tmp, e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    sync_dir(path);
    Ok(())
}

/// Moves the file at `path` aside under a new name, never over another.
fn keep_aside(path: &Path) -> Result<PathBuf> {
    let kept = (0u32..)
        .map(|n| sibling(path, &format!(".damaged-{n}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| sibling(path, ".damaged"));
    std::fs::rename(path, &kept).map_err(|e| io(path, e))?;
    Ok(kept)
}

impl Journal {
    /// Opens the journal at `path` (creating it), returning its records.
    /// With `key`, the journal is encrypted: a new one is created
    /// encrypted, and one in the clear is rewritten encrypted. After
    /// `compact_after` appended records the next append rewrites it.
    pub fn open(
        path: &Path,
        key: Option<&StoreKey>,
        compact_after: u64,
    ) -> Result<(Self, Vec<Record>)> {
        let codec = Codec::new(key);
        let records = match std::fs::read(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                write_whole(path, &codec, &[])?;
                Vec::new()
            }
            Err(e) => return Err(io(path, e)),
            Ok(bytes) => match parse(&bytes, key) {
                Ok(parsed) => {
                    if parsed.version != VERSION || parsed.encrypted != key.is_some() {
                        // Migrate: an old version, or encryption turned on.
                        write_whole(path, &codec, &parsed.records)?;
                    } else if parsed.end < bytes.len() {
                        // Drop the torn last record.
                        let file = OpenOptions::new()
                            .write(true)
                            .open(path)
                            .map_err(|e| io(path, e))?;
                        file.set_len(parsed.end as u64).map_err(|e| io(path, e))?;
                        file.sync_all().map_err(|e| io(path, e))?;
                    }
                    parsed.records
                }
                Err(Unreadable::Key(detail)) => {
                    return Err(Error::PersonalKey {
                        path: path.to_path_buf(),
                        detail,
                    });
                }
                Err(Unreadable::Damaged(detail)) => {
                    let kept = keep_aside(path)?;
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
                codec,
                appended: records.len() as u64,
                compact_after: compact_after.max(1),
            },
            records,
        ))
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the journal is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.codec.cipher.is_some()
    }

    /// Appends `records` in one write.
    pub fn append(&mut self, records: &[Record]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::new();
        for record in records {
            bytes.extend_from_slice(&self.codec.frame(record)?);
        }
        self.file.write_all(&bytes).map_err(|e| io(&self.path, e))?;
        self.appended += records.len() as u64;
        Ok(())
    }

    /// Whether enough has been appended to rewrite the file.
    pub fn needs_compaction(&self) -> bool {
        self.appended >= self.compact_after
    }

    /// Replaces the file with `records`, crash-safely.
    pub fn compact(&mut self, records: &[Record]) -> Result<()> {
        write_whole(&self.path, &self.codec, records)?;
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

    const EVERY: u64 = 1_000;

    fn word(w: &str, n: u64) -> Record {
        Record::Word(WordEntry {
            word: w.into(),
            count: 1.0,
            last: n,
            explicit: false,
        })
    }

    fn key(byte: u8) -> StoreKey {
        StoreKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn records_survive_reopening_and_a_torn_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user.nibdict");
        let (mut journal, records) = Journal::open(&path, None, EVERY).unwrap();
        assert!(records.is_empty());
        journal
            .append(&[word("Nadège", 1), word("Wojciech", 2)])
            .unwrap();
        // A crash halfway through the next record.
        let mut bytes = std::fs::read(&path).unwrap();
        let torn = journal.codec.frame(&word("half", 3)).unwrap();
        drop(journal);
        bytes.extend_from_slice(&torn[..torn.len() / 2]);
        std::fs::write(&path, &bytes).unwrap();
        let (_, records) = Journal::open(&path, None, EVERY).unwrap();
        assert_eq!(records, [word("Nadège", 1), word("Wojciech", 2)]);
        assert!(std::fs::read(&path).unwrap().len() < bytes.len());
    }

    #[test]
    fn damage_is_kept_aside_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user.nibdict");
        let (mut journal, _) = Journal::open(&path, None, EVERY).unwrap();
        journal.append(&[word("one", 1), word("two", 2)]).unwrap();
        drop(journal);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[HEADER_LEN + 10] ^= 0xff; // inside the first record
        std::fs::write(&path, &bytes).unwrap();
        let err = Journal::open(&path, None, EVERY).unwrap_err();
        let Error::PersonalStore { kept, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!(std::fs::read(kept).unwrap(), bytes, "kept as it was");
        assert!(!path.exists(), "never overwritten in place");
        // Not a journal at all.
        std::fs::write(&path, b"hello").unwrap();
        assert!(matches!(
            Journal::open(&path, None, EVERY),
            Err(Error::PersonalStore { .. })
        ));
    }

    #[test]
    fn an_encrypted_journal_holds_no_plaintext_and_needs_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user.nibdict");
        let (mut journal, _) = Journal::open(&path, Some(&key(7)), EVERY).unwrap();
        assert!(journal.is_encrypted());
        journal.append(&[word("Wojciech", 1)]).unwrap();
        drop(journal);
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(8).any(|w| w == b"Wojciech"));
        for (given, why) in [(None, "no key"), (Some(key(8)), "wrong key")] {
            let err = Journal::open(&path, given.as_ref(), EVERY).unwrap_err();
            assert!(matches!(err, Error::PersonalKey { .. }), "{why}: {err}");
            assert_eq!(std::fs::read(&path).unwrap(), bytes, "left untouched");
        }
        let (_, records) = Journal::open(&path, Some(&key(7)), EVERY).unwrap();
        assert_eq!(records, [word("Wojciech", 1)]);
        assert!(StoreKey::from_bytes(&[0; 16]).is_err());
        assert_eq!(format!("{:?}", key(7)), "StoreKey(..)");
    }

    #[test]
    fn a_store_in_the_clear_is_encrypted_when_a_key_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user.nibdict");
        let (mut journal, _) = Journal::open(&path, None, EVERY).unwrap();
        journal.append(&[word("Wojciech", 1)]).unwrap();
        drop(journal);
        let (_, records) = Journal::open(&path, Some(&key(1)), EVERY).unwrap();
        assert_eq!(records, [word("Wojciech", 1)]);
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(8).any(|w| w == b"Wojciech"));
    }

    #[test]
    fn version_1_journals_are_read_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user.nibdict");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&VERSION_1.to_le_bytes());
        let payload =
            r#"{"op":"word","word":"Nadège","count":1.0,"last":4,"explicit":false}"#.as_bytes();
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        bytes.extend_from_slice(payload);
        std::fs::write(&path, &bytes).unwrap();
        let (_, records) = Journal::open(&path, None, EVERY).unwrap();
        assert_eq!(records, [word("Nadège", 4)]);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[8..12], VERSION.to_le_bytes());
        let (_, records) = Journal::open(&path, None, EVERY).unwrap();
        assert_eq!(records, [word("Nadège", 4)]);
    }
}
