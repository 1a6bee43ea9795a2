//! The personal store under faults: a writer process killed with SIGKILL at
//! random moments, loaders fed damaged and random bytes, and traces left on
//! disk after `forget`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use nib_engine::personal::journal::{self, Unreadable};
use nib_engine::personal::{Limits, PersonalStore, StoreKey};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Set in the environment of the writer process: the store's path.
const WRITER_STORE: &str = "NIB_FAULT_WRITER_STORE";
/// Set in the environment of the writer process: its first word number.
const WRITER_FIRST: &str = "NIB_FAULT_WRITER_FIRST";
/// Set when the store is encrypted (the test key).
const WRITER_KEY: &str = "NIB_FAULT_WRITER_KEY";

/// Compacting every few records puts kills inside compactions too.
const LIMITS: Limits = Limits {
    capacity: 1_000_000,
    compact_after: 200,
};

fn test_key() -> StoreKey {
    StoreKey::from_bytes(&[0x5a; 32]).unwrap()
}

/// A word of the writer's, letters only.
fn word(n: u64) -> String {
    nib_tests::made_up_word("zq", n)
}

/// The writer process: not a test of its own (ignored in a normal run); the
/// test below starts this binary to run it, with [`WRITER_STORE`] set. It adds words and
/// prints `ack WORD` after each add returned, and `forgetting WORD`
/// before each forget (which rewrites the whole file), until it is killed.
#[test]
#[ignore = "the writer process of killed_writers_lose_nothing_they_acknowledged"]
fn fault_writer_process() {
    let Some(path) = std::env::var_os(WRITER_STORE) else {
        panic!("run by killed_writers_lose_nothing_they_acknowledged, with {WRITER_STORE} set");
    };
    let first: u64 = std::env::var(WRITER_FIRST).unwrap().parse().unwrap();
    let key = std::env::var_os(WRITER_KEY).map(|_| test_key());
    let store = PersonalStore::open_with(Path::new(&path), LIMITS, key.as_ref()).unwrap();
    for n in first.. {
        let w = word(n);
        if n % 97 == 7 {
            let victim = word(n - 3);
            println!("forgetting {victim}");
            store.forget(&victim).unwrap();
        } else {
            store.add(&w).unwrap();
            println!("ack {w}");
        }
    }
}

/// Writers killed in a row on one store file before the next file (so
/// that the store stays small and the test quick).
const RUNS_PER_STORE: u64 = 20;

/// Kills `runs` writers at random moments and checks after each kill that
/// the store opens and holds every word acknowledged so far.
fn kill_writers(dir: &Path, encrypted: bool, runs: u64, seed: u64) -> (u64, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let exe = std::env::current_exe().unwrap();
    let mut expected: BTreeSet<String> = BTreeSet::new();
    let key = encrypted.then(test_key);
    let mut checked = 0usize;
    let mut acknowledged = 0usize;
    for run in 0..runs {
        let store_number = run / RUNS_PER_STORE;
        let path = &dir.join(format!("store-{encrypted}-{store_number}.nibdict"));
        if run % RUNS_PER_STORE == 0 {
            acknowledged += expected.len();
            expected.clear();
        }
        let mut command = Command::new(&exe);
        command
            .args([
                "--exact",
                "personal_faults::fault_writer_process",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER_STORE, path)
            .env(WRITER_FIRST, (run * 100_000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if encrypted {
            command.env(WRITER_KEY, "1");
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines, received) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        // Let the writer acknowledge a random number of words (so that it
        // makes progress however slow the machine), then kill it a random
        // moment later, wherever it is: appending, compacting, renaming.
        let wanted = rng.random_range(1..60);
        let mut acks = 0;
        let mut seen = Vec::new();
        while acks < wanted {
            match received.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    acks += usize::from(line.starts_with("ack "));
                    seen.push(line);
                }
                Err(_) => break,
            }
        }
        std::thread::sleep(Duration::from_micros(rng.random_range(0..3_000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        seen.extend(received.try_iter());
        for line in seen {
            if let Some(w) = line.strip_prefix("ack ") {
                expected.insert(w.to_owned());
            } else if let Some(w) = line.strip_prefix("forgetting ") {
                expected.remove(w);
            }
        }
        let store = PersonalStore::open_with(path, LIMITS, key.as_ref())
            .unwrap_or_else(|e| panic!("run {run}: the store does not open: {e}"));
        for w in &expected {
            assert!(store.knows(w), "run {run}: acknowledged {w:?} was lost");
        }
        checked += expected.len();
    }
    acknowledged += expected.len();
    assert!(
        acknowledged > 1_000,
        "the writers barely ran: {acknowledged}"
    );
    (runs, checked)
}

#[test]
fn killed_writers_lose_nothing_they_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let (kills, checked) = kill_writers(dir.path(), false, 160, 1);
    println!("plain store: {kills} kills, {checked} acknowledged entries checked, 0 lost");
    let (kills, checked) = kill_writers(dir.path(), true, 40, 2);
    println!("encrypted store: {kills} kills, {checked} acknowledged entries checked, 0 lost");
}

/// A journal of a few words, for the loader tests.
fn sample_journal(key: Option<&StoreKey>) -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.nibdict");
    let store = PersonalStore::open_with(&path, Limits::default(), key).unwrap();
    let mut previous = None;
    for w in ["Wojciech", "Nadège", "Zyntra", "Wojciech", "Qorvex"] {
        store.learn(w, previous, false).unwrap();
        previous = Some(w);
    }
    store.block("Zyntra").unwrap();
    drop(store);
    let bytes = std::fs::read(&path).unwrap();
    (dir, bytes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bytes give a store or a typed reason, never a panic.
    #[test]
    fn random_bytes_never_panic_the_loader(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = PersonalStore::from_journal_bytes(&bytes, Limits::default(), None);
        let mut prefixed = journal::MAGIC.to_vec();
        prefixed.extend_from_slice(&journal::VERSION.to_le_bytes());
        prefixed.extend_from_slice(&bytes);
        let _ = PersonalStore::from_journal_bytes(&prefixed, Limits::default(), None);
    }

    /// A real journal with one byte changed or cut short: a store with
    /// (some of) its records, or a typed reason; a cut never loses a
    /// record before the cut.
    #[test]
    fn damaged_journals_are_typed_errors(
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
        encrypted in any::<bool>(),
    ) {
        let key = encrypted.then(test_key);
        let (_dir, bytes) = sample_journal(key.as_ref());
        let whole = journal::decode(&bytes, key.as_ref()).unwrap();
        let i = at.index(bytes.len());
        let mut flipped = bytes.clone();
        flipped[i] ^= flip;
        let _ = PersonalStore::from_journal_bytes(&flipped, Limits::default(), key.as_ref());
        match journal::decode(&bytes[..i], key.as_ref()) {
            Ok(records) => prop_assert_eq!(&records[..], &whole[..records.len()]),
            Err(e) => prop_assert!(matches!(e, Unreadable::Damaged(_)), "{}", e),
        }
    }

    /// Learn then forget: the word is in neither the export nor the file's
    /// bytes (its exact MessagePack string).
    #[test]
    fn forget_leaves_no_trace_on_disk(
        words in proptest::collection::vec("[a-z]{3,9}", 1..30),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user.nibdict");
        let store = PersonalStore::open(&path, Limits::default()).unwrap();
        let mut previous: Option<&str> = None;
        for w in &words {
            store.learn(w, previous, false).unwrap();
            previous = Some(w);
        }
        let victim = &words[0];
        let mut needle = vec![0xa0 | victim.len() as u8];
        needle.extend_from_slice(victim.as_bytes());
        let on_disk = |path: &Path| {
            std::fs::read(path).unwrap().windows(needle.len()).any(|w| w == needle)
        };
        prop_assert!(on_disk(&path), "learned, so written");
        store.forget(victim).unwrap();
        prop_assert!(!on_disk(&path), "forgotten, yet on disk");
        let export = serde_json::to_string(&store.export()).unwrap();
        let quoted = format!("\"{victim}\"");
        prop_assert!(!export.contains(&quoted));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        prop_assert_eq!(leftovers.len(), 1, "no temporary or older copies");
    }
}

#[test]
fn a_wrong_key_is_a_typed_error_and_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("user.nibdict");
    let store = PersonalStore::open_with(&path, Limits::default(), Some(&test_key())).unwrap();
    assert!(store.is_encrypted());
    store.add("Wojciech").unwrap();
    drop(store);
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(8).any(|w| w == b"Wojciech"), "no plaintext");
    let other = StoreKey::from_bytes(&[1; 32]).unwrap();
    let engine = nib_engine::Engine::builder()
        .pack_dir(nib_tests::pack_dir(), ["en"])
        .personal_store(&path)
        .personal_key(other)
        .build()
        .unwrap();
    let err = engine.personal_error().expect("reported");
    assert!(
        matches!(err, nib_engine::Error::PersonalKey { .. }),
        "{err}"
    );
    assert!(!engine.personal().knows("Wojciech"));
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "untouched");
    let engine = nib_engine::Engine::builder()
        .pack_dir(nib_tests::pack_dir(), ["en"])
        .personal_store(&path)
        .personal_key(test_key())
        .build()
        .unwrap();
    assert!(engine.personal_error().is_none());
    assert!(engine.personal().knows("Wojciech"));
}
