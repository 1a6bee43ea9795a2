//! The personal dictionary: the user's own words and word pairs, learned
//! from what they commit, kept on the device.
//!
//! - A new word becomes a suggestion after it was committed twice, or once
//!   if the user chose it explicitly ([`PersonalStore::add`], picking the
//!   typed word, undoing an autocorrection), so one typo does not pollute
//!   the dictionary.
//! - Counts decay with a half-life of [`HALF_LIFE`] learned words; the store
//!   holds at most [`Limits::capacity`] words and evicts the weakest.
//! - Nothing is learned from fields that forbid it (the session decides,
//!   see [`crate::SessionOptions::learning_allowed`]) and nothing that looks
//!   like a secret, in any field ([`rules`]).
//! - [`PersonalStore::block`] hides a word for good; [`PersonalStore::forget`]
//!   removes every trace of it (entry, pairs, and the learned touch
//!   offsets, which cannot be told apart per word); [`PersonalStore::clear`]
//!   removes everything.
//! - Persistence ([`journal`]): an append-only journal of checksummed
//!   records, compacted by write, fsync and rename. Every record written
//!   before a crash of the process is read back; a damaged file is kept
//!   aside and reported, never overwritten.
//!
//! The store is shared by the sessions of an engine behind a lock: learning
//! and reading may happen on different threads.

pub mod journal;
pub mod ldp;
pub mod rules;

pub use journal::StoreKey;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::text::fold::fold;

/// Learned words after which a count has halved.
pub const HALF_LIFE: f64 = 5_000.0;

/// The export format's version.
pub const EXPORT_VERSION: u32 = 1;

/// Bounds of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Words kept at most (default 20,000).
    pub capacity: usize,
    /// Records appended to the journal after which it is rewritten with
    /// only the live entries (default 20,000).
    pub compact_after: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            capacity: 20_000,
            compact_after: 20_000,
        }
    }
}

/// One learned word.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordEntry {
    /// The word as the user writes it.
    pub word: String,
    /// Times committed, decayed to the moment of `last`.
    pub count: f64,
    /// The store's clock (words learned) when it was last committed.
    pub last: u64,
    /// Chosen explicitly at least once.
    pub explicit: bool,
}

/// A word pair: `second` committed right after `first`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairEntry {
    /// The earlier word.
    pub first: String,
    /// The later word.
    pub second: String,
    /// Times seen, decayed to the moment of `last`.
    pub count: f64,
    /// The store's clock when last seen.
    pub last: u64,
}

/// The documented export: everything the store knows, for a backup or the
/// user's own sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// [`EXPORT_VERSION`].
    pub version: u32,
    /// The store's clock.
    pub clock: u64,
    /// The words.
    pub words: Vec<WordEntry>,
    /// The pairs.
    pub pairs: Vec<PairEntry>,
    /// Blocked words.
    pub blocked: Vec<String>,
}

/// What happened to a word offered for learning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Learned {
    /// It is a suggestion now (or still).
    Suggestible,
    /// Counted; it becomes a suggestion when committed again.
    Pending,
    /// Not learned, and why.
    Refused(&'static str),
}

#[derive(Debug, Default, Clone, PartialEq)]
struct State {
    clock: u64,
    /// By folded key, then surface.
    words: BTreeMap<String, WordEntry>,
    /// By "first\u{1f}second".
    pairs: BTreeMap<String, PairEntry>,
    /// Folded keys.
    blocked: BTreeSet<String>,
    /// The sum of all words' strengths at `clock`, kept up to date as words
    /// are learned (all strengths decay alike) and recounted when words are
    /// removed, so that a keystroke does not sum the whole store.
    total: f64,
}

fn pair_key(first: &str, second: &str) -> String {
    format!("{first}\u{1f}{second}")
}

fn valid_count(count: f64) -> bool {
    count.is_finite() && count >= 0.0
}

fn decayed(count: f64, last: u64, now: u64) -> f64 {
    count * 0.5f64.powf(now.saturating_sub(last) as f64 / HALF_LIFE)
}

impl State {
    fn strength(&self, entry: &WordEntry) -> f64 {
        decayed(entry.count, entry.last, self.clock)
    }

    fn recount(&mut self) {
        self.total = self.words.values().map(|e| self.strength(e)).sum();
    }

    fn evict(&mut self, capacity: usize) {
        if self.words.len() <= capacity {
            return;
        }
        // Evict down to 95 % of the capacity, weakest first, so that the
        // scan is paid once per twenty learned words of a full store.
        let target = capacity - capacity / 20;
        let mut ranked: Vec<(f64, String)> = self
            .words
            .iter()
            .map(|(k, e)| {
                (
                    self.strength(e) + if e.explicit { 1.0 } else { 0.0 },
                    k.clone(),
                )
            })
            .collect();
        let excess = self.words.len() - target;
        if excess < ranked.len() {
            ranked.select_nth_unstable_by(excess, |a, b| a.0.total_cmp(&b.0));
        }
        for (_, key) in ranked.into_iter().take(excess) {
            self.words.remove(&key);
        }
        self.recount();
    }

    fn apply(&mut self, record: &journal::Record) {
        match record {
            // Counts that no store writes (from a damaged or crafted file)
            // are ignored rather than poisoning every score.
            journal::Record::Word(entry) if !valid_count(entry.count) => {}
            journal::Record::Pair(entry) if !valid_count(entry.count) => {}
            journal::Record::Word(entry) => {
                self.clock = self.clock.max(entry.last);
                self.words.insert(fold(&entry.word), entry.clone());
            }
            journal::Record::Pair(entry) => {
                self.clock = self.clock.max(entry.last);
                self.pairs
                    .insert(pair_key(&entry.first, &entry.second), entry.clone());
            }
            journal::Record::Block { word } => {
                let key = fold(word);
                self.words.remove(&key);
                self.blocked.insert(key);
            }
            journal::Record::Forget { word } => {
                let key = fold(word);
                self.words.remove(&key);
                self.blocked.remove(&key);
                self.pairs
                    .retain(|_, p| fold(&p.first) != key && fold(&p.second) != key);
            }
            journal::Record::Clear => *self = State::default(),
        }
    }

    /// The state after `records`, bounded by `limits`.
    fn replay(records: &[journal::Record], limits: Limits) -> Self {
        let mut state = State::default();
        for record in records {
            state.apply(record);
        }
        state.recount();
        state.evict(limits.capacity);
        state
    }

    fn export(&self) -> Export {
        Export {
            version: EXPORT_VERSION,
            clock: self.clock,
            words: self.words.values().cloned().collect(),
            pairs: self.pairs.values().cloned().collect(),
            blocked: self.blocked.iter().cloned().collect(),
        }
    }
}

/// Which learned words count as new for the privacy-preserving
/// discovery (for the engine: those in no language pack).
pub type NewWordFilter = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// The opt-in queue of LDP reports of newly learned words. Reports are
/// privatized when queued; the folded word is kept beside its report only
/// until the host takes it, so that `forget` and `clear` can drop it.
struct LdpQueue {
    params: ldp::SketchParams,
    is_new: NewWordFilter,
    rng: rand_chacha::ChaCha20Rng,
    pending: Vec<(String, ldp::Report)>,
}

impl std::fmt::Debug for LdpQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdpQueue")
            .field("params", &self.params)
            .field("pending", &self.pending.len())
            .finish()
    }
}

/// The personal dictionary of one user.
#[derive(Debug)]
pub struct PersonalStore {
    state: RwLock<State>,
    journal: Mutex<Option<journal::Journal>>,
    limits: Limits,
    ldp: Mutex<Option<LdpQueue>>,
}

impl PersonalStore {
    /// An empty store kept in memory only.
    pub fn in_memory(limits: Limits) -> Self {
        Self {
            state: RwLock::new(State::default()),
            journal: Mutex::new(None),
            limits,
            ldp: Mutex::new(None),
        }
    }

    /// Opens (or creates) the store at `path`, in the clear. A damaged
    /// file is renamed aside (its new name is in the error) and the store
    /// starts empty: the caller reports [`Error::PersonalStore`] and
    /// carries on.
    pub fn open(path: &Path, limits: Limits) -> Result<Self> {
        Self::open_with(path, limits, None)
    }

    /// Opens (or creates) the store at `path`, encrypted at rest with
    /// `key` if one is given (a store in the clear is rewritten
    /// encrypted). An encrypted store opened without its key is
    /// [`Error::PersonalKey`] and the file is left untouched.
    pub fn open_with(path: &Path, limits: Limits, key: Option<&StoreKey>) -> Result<Self> {
        let (journal, records) = journal::Journal::open(path, key, limits.compact_after)?;
        Ok(Self {
            state: RwLock::new(State::replay(&records, limits)),
            journal: Mutex::new(Some(journal)),
            limits,
            ldp: Mutex::new(None),
        })
    }

    /// A store in memory with the content of a journal's bytes (the file
    /// format of [`journal`]), for tools and fuzzing.
    pub fn from_journal_bytes(
        bytes: &[u8],
        limits: Limits,
        key: Option<&StoreKey>,
    ) -> std::result::Result<Self, journal::Unreadable> {
        let records = journal::decode(bytes, key)?;
        Ok(Self {
            state: RwLock::new(State::replay(&records, limits)),
            journal: Mutex::new(None),
            limits,
            ldp: Mutex::new(None),
        })
    }

    /// The journal's path, if the store is on disk.
    pub fn path(&self) -> Option<PathBuf> {
        self.journal
            .lock()
            .ok()
            .and_then(|j| j.as_ref().map(|j| j.path().to_path_buf()))
    }

    /// Whether the store's file is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.journal
            .lock()
            .ok()
            .is_some_and(|j| j.as_ref().is_some_and(|j| j.is_encrypted()))
    }

    fn snapshot_records(&self) -> Vec<journal::Record> {
        let Ok(state) = self.state.read() else {
            return Vec::new();
        };
        let mut records: Vec<journal::Record> = state
            .blocked
            .iter()
            .map(|w| journal::Record::Block { word: w.clone() })
            .collect();
        records.extend(state.words.values().cloned().map(journal::Record::Word));
        records.extend(state.pairs.values().cloned().map(journal::Record::Pair));
        records
    }

    /// Applies `f` to the state and appends the records it returns. The
    /// journal's lock is held from before the state changes until the
    /// records are written, so concurrent updates reach the file in the
    /// order they changed the state (the last record of a word is its
    /// latest state); readers wait only for the state change itself.
    fn update(
        &self,
        f: impl FnOnce(&mut State) -> Vec<journal::Record>,
    ) -> Result<Vec<journal::Record>> {
        let mut journal = self
            .journal
            .lock()
            .map_err(|_| Error::Config("the personal store's journal lock is poisoned".into()))?;
        let records = {
            let mut state = self
                .state
                .write()
                .map_err(|_| Error::Config("the personal store's lock is poisoned".into()))?;
            let records = f(&mut state);
            state.evict(self.limits.capacity);
            records
        };
        if let Some(journal) = journal.as_mut() {
            journal.append(&records)?;
            if journal.needs_compaction() {
                let snapshot = self.snapshot_records();
                journal.compact(&snapshot)?;
            }
        }
        Ok(records)
    }

    /// Learns that `word` was committed after `previous` (if any). With
    /// `explicit`, the user chose it on purpose and it is a suggestion at
    /// once. The field rules are the session's; the secret rules are
    /// applied here.
    pub fn learn(&self, word: &str, previous: Option<&str>, explicit: bool) -> Result<Learned> {
        let word = word.trim();
        if word.is_empty() || word.chars().count() > crate::MAX_WORD_CHARS {
            return Ok(Learned::Refused("not a word"));
        }
        if let Some(kind) = rules::secret_kind(word)
            && !(explicit && rules::looks_like_email(word))
        {
            return Ok(Learned::Refused(kind));
        }
        let key = fold(word);
        if key.is_empty() {
            return Ok(Learned::Refused("not a word"));
        }
        let mut outcome = Learned::Pending;
        let mut newly_suggestible = false;
        self.update(|state| {
            if state.blocked.contains(&key) {
                outcome = Learned::Refused("blocked by the user");
                return Vec::new();
            }
            state.clock = state.clock.saturating_add(1);
            state.total *= 0.5f64.powf(1.0 / HALF_LIFE);
            state.total += 1.0;
            let now = state.clock;
            let was_suggestible = state
                .words
                .get(&key)
                .is_some_and(|e| e.explicit || e.count >= 1.9);
            let entry = state.words.entry(key.clone()).or_insert_with(|| WordEntry {
                word: word.to_owned(),
                count: 0.0,
                last: now,
                explicit: false,
            });
            entry.count = decayed(entry.count, entry.last, now) + 1.0;
            entry.last = now;
            entry.explicit |= explicit;
            entry.word = word.to_owned();
            if entry.explicit || entry.count >= 1.9 {
                outcome = Learned::Suggestible;
                newly_suggestible = !was_suggestible;
            }
            let mut records = vec![journal::Record::Word(entry.clone())];
            if let Some(previous) = previous.map(str::trim).filter(|p| !p.is_empty())
                && rules::secret_kind(previous).is_none()
            {
                let pair = state
                    .pairs
                    .entry(pair_key(previous, word))
                    .or_insert_with(|| PairEntry {
                        first: previous.to_owned(),
                        second: word.to_owned(),
                        count: 0.0,
                        last: now,
                    });
                pair.count = decayed(pair.count, pair.last, now) + 1.0;
                pair.last = now;
                records.push(journal::Record::Pair(pair.clone()));
            }
            records
        })?;
        if newly_suggestible {
            self.queue_ldp_report(word, &key)?;
        }
        Ok(outcome)
    }

    /// Opts in to privacy-preserving discovery of new words: from now on,
    /// each word that becomes a suggestion for the first time and that
    /// `is_new` accepts is turned into one ε-LDP report ([`ldp`]) for the
    /// host to send ([`PersonalStore::take_ldp_reports`]).
    pub fn enable_ldp(&self, params: ldp::SketchParams, is_new: NewWordFilter) -> Result<()> {
        use rand::SeedableRng;
        params.validate()?;
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| Error::Config(format!("no random numbers: {e}")))?;
        let queue = LdpQueue {
            params,
            is_new,
            rng: rand_chacha::ChaCha20Rng::from_seed(seed),
            pending: Vec::new(),
        };
        *self.lock_ldp()? = Some(queue);
        Ok(())
    }

    /// Opts out: no more reports, and the pending ones are dropped.
    pub fn disable_ldp(&self) -> Result<()> {
        *self.lock_ldp()? = None;
        Ok(())
    }

    /// The reports queued since the last call, for the host to send.
    pub fn take_ldp_reports(&self) -> Result<Vec<ldp::Report>> {
        Ok(self
            .lock_ldp()?
            .as_mut()
            .map(|q| q.pending.drain(..).map(|(_, r)| r).collect())
            .unwrap_or_default())
    }

    fn lock_ldp(&self) -> Result<std::sync::MutexGuard<'_, Option<LdpQueue>>> {
        self.ldp
            .lock()
            .map_err(|_| Error::Config("the personal store's report queue is poisoned".into()))
    }

    fn queue_ldp_report(&self, word: &str, key: &str) -> Result<()> {
        let mut guard = self.lock_ldp()?;
        let Some(queue) = guard.as_mut() else {
            return Ok(());
        };
        if (queue.is_new)(word) {
            let report = ldp::privatize(&queue.params, word, &mut queue.rng)?;
            queue.pending.push((key.to_owned(), report));
        }
        Ok(())
    }

    /// Drops pending reports of `key` (all of them for `None`).
    fn drop_ldp_reports(&self, key: Option<&str>) -> Result<()> {
        if let Some(queue) = self.lock_ldp()?.as_mut() {
            queue
                .pending
                .retain(|(k, _)| key.is_some_and(|key| k != key));
        }
        Ok(())
    }

    /// Adds `word` as if chosen explicitly (a "learn this word" button).
    pub fn add(&self, word: &str) -> Result<Learned> {
        self.learn(word, None, true)
    }

    /// Never suggests `word` again (until forgotten).
    pub fn block(&self, word: &str) -> Result<()> {
        let key = fold(word);
        self.update(|state| {
            state.words.remove(&key);
            state.recount();
            state.blocked.insert(key.clone());
            vec![journal::Record::Block { word: key.clone() }]
        })?;
        Ok(())
    }

    /// Removes every trace of `word`: its entry, its pairs, a block.
    pub fn forget(&self, word: &str) -> Result<()> {
        self.drop_ldp_reports(Some(&fold(word)))?;
        let record = journal::Record::Forget {
            word: word.to_owned(),
        };
        self.update(|state| {
            state.apply(&record);
            state.recount();
            Vec::new()
        })?;
        // Rewrite the file so that the word's old records are gone from
        // the disk too, not only superseded.
        let snapshot = self.snapshot_records();
        if let Ok(mut guard) = self.journal.lock()
            && let Some(journal) = guard.as_mut()
        {
            journal.compact(&snapshot)?;
        }
        Ok(())
    }

    /// Removes everything learned.
    pub fn clear(&self) -> Result<()> {
        self.drop_ldp_reports(None)?;
        self.update(|state| {
            *state = State::default();
            Vec::new()
        })?;
        if let Ok(mut guard) = self.journal.lock()
            && let Some(journal) = guard.as_mut()
        {
            journal.compact(&[])?;
        }
        Ok(())
    }

    /// Forces what was written to stable storage (`fsync`). Records are
    /// handed to the operating system as they are learned, so they survive
    /// the process being killed; `sync` makes them survive a power loss.
    pub fn sync(&self) -> Result<()> {
        if let Ok(mut guard) = self.journal.lock()
            && let Some(journal) = guard.as_mut()
        {
            journal.sync()?;
        }
        Ok(())
    }

    /// Everything the store knows, as the documented JSON value.
    pub fn export(&self) -> Export {
        self.state.read().map(|s| s.export()).unwrap_or(Export {
            version: EXPORT_VERSION,
            clock: 0,
            words: Vec::new(),
            pairs: Vec::new(),
            blocked: Vec::new(),
        })
    }

    /// Replaces the store's content with `export` (a backup).
    pub fn import(&self, export: &Export) -> Result<()> {
        if export.version != EXPORT_VERSION {
            return Err(Error::InvalidInput {
                detail: format!(
                    "personal dictionary export version {}, this engine reads {EXPORT_VERSION}",
                    export.version
                ),
            });
        }
        let mut state = State {
            clock: export.clock,
            ..State::default()
        };
        for w in &export.words {
            if !w.count.is_finite() || w.count < 0.0 || w.word.trim().is_empty() {
                return Err(Error::InvalidInput {
                    detail: format!("personal dictionary entry {:?} is invalid", w.word),
                });
            }
            state.clock = state.clock.max(w.last);
            state.words.insert(fold(&w.word), w.clone());
        }
        for p in &export.pairs {
            if !valid_count(p.count) {
                return Err(Error::InvalidInput {
                    detail: format!(
                        "personal dictionary pair {:?} {:?} is invalid",
                        p.first, p.second
                    ),
                });
            }
            state.clock = state.clock.max(p.last);
            state.pairs.insert(pair_key(&p.first, &p.second), p.clone());
        }
        state.blocked = export.blocked.iter().map(|w| fold(w)).collect();
        state.recount();
        {
            let mut current = self
                .state
                .write()
                .map_err(|_| Error::Config("the personal store's lock is poisoned".into()))?;
            *current = state;
            current.evict(self.limits.capacity);
        }
        let snapshot = self.snapshot_records();
        if let Ok(mut guard) = self.journal.lock()
            && let Some(journal) = guard.as_mut()
        {
            journal.compact(&snapshot)?;
        }
        Ok(())
    }

    /// Whether `word` (folded) is a word the user taught and may be
    /// suggested.
    pub fn knows(&self, word: &str) -> bool {
        let key = fold(word);
        self.state.read().is_ok_and(|s| {
            s.words
                .get(&key)
                .is_some_and(|e| e.explicit || e.count >= 1.9)
        })
    }

    /// Whether the user taught `word` (folded) on purpose: picked it, added
    /// it, or kept it by undoing its correction; not merely typed it.
    pub fn taught(&self, word: &str) -> bool {
        let key = fold(word);
        self.state
            .read()
            .is_ok_and(|s| s.words.get(&key).is_some_and(|e| e.explicit))
    }

    /// Whether `word` is blocked.
    pub fn is_blocked(&self, word: &str) -> bool {
        let key = fold(word);
        self.state.read().is_ok_and(|s| s.blocked.contains(&key))
    }

    /// Suggestible words whose folded form starts with the folded `prefix`,
    /// with their share of the user's learned words (log), strongest first,
    /// at most `limit`.
    pub fn completions(
        &self,
        prefix: &str,
        previous: Option<&str>,
        limit: usize,
    ) -> Vec<(String, f64)> {
        let key = fold(prefix);
        let Ok(state) = self.state.read() else {
            return Vec::new();
        };
        let total = state.total + 10.0;
        // Before the first letter, only the words that followed `previous`
        // (a range of the pair index), not the whole store.
        let entries: Vec<&WordEntry> = if key.is_empty() {
            let Some(previous) = previous else {
                return Vec::new();
            };
            let from = pair_key(previous, "");
            state
                .pairs
                .range(from.clone()..)
                .take_while(|(k, _)| k.starts_with(&from))
                .filter_map(|(_, p)| state.words.get(&fold(&p.second)))
                .collect()
        } else {
            state
                .words
                .range(key.clone()..)
                .take_while(|(k, _)| k.starts_with(&key))
                .map(|(_, e)| e)
                .collect()
        };
        let mut found: Vec<(String, f64)> = entries
            .into_iter()
            .filter(|e| e.explicit || e.count >= 1.9)
            .map(|e| {
                let mut p = state.strength(e) / total;
                if let Some(previous) = previous
                    && let Some(pair) = state.pairs.get(&pair_key(previous, &e.word))
                {
                    p += decayed(pair.count, pair.last, state.clock) / 10.0;
                }
                (e.word.clone(), p.min(1.0).ln())
            })
            .collect();
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        found.truncate(limit);
        found
    }

    /// Words stored.
    pub fn len(&self) -> usize {
        self.state.read().map_or(0, |s| s.words.len())
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
