//! Where the neural model's memory goes: the process's resident memory
//! (anonymous and from files, [`nib_engine::memory`]), the bytes Rust holds (a
//! counting allocator) and, with glibc, what the C heap holds in use and
//! free (`mallinfo2`: ONNX Runtime allocates there), after each stage of
//! loading and using the model.
//!
//! ```sh
//! cargo run --release -p nib-engine --example lm_memory -- \
//!     languages/models/nib-lm-1 \
//!     .cache/sources/onnxruntime/onnxruntime/capi/libonnxruntime.so.1.31.1 \
//!     .cache/lm/corpus/valid.en.txt
//! ```
//!
//! Linux only (elsewhere it prints what it can: the Rust bytes).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use nib_engine::lm::{NeuralLm, TOKENIZER_FILE, load_runtime};

/// Bytes Rust holds now, and at most so far.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting.
struct Counting;

// SAFETY: every call goes to the system allocator unchanged; the counters
// are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// glibc's heap statistics (`struct mallinfo2`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[repr(C)]
struct MallInfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe extern "C" {
    fn mallinfo2() -> MallInfo2;
}

/// The C heap: (bytes in use, bytes free but kept).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn c_heap() -> Option<(usize, usize)> {
    // SAFETY: mallinfo2 only reads the allocator's statistics.
    let info = unsafe { mallinfo2() };
    Some((info.uordblks + info.hblkhd, info.fordblks))
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn c_heap() -> Option<(usize, usize)> {
    None
}

fn report(stage: &str) {
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    let show = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
    let process = nib_engine::memory::now();
    let (heap_used, heap_free) =
        c_heap().map_or((None, None), |(u, f)| (Some(mib(u)), Some(mib(f))));
    println!(
        "{stage:<24} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        show(process.map(|m| m.resident_mib)),
        show(process.map(|m| m.anonymous_mib)),
        show(process.map(|m| m.file_mib)),
        show(Some(mib(LIVE.load(Ordering::Relaxed)))),
        show(Some(mib(PEAK.load(Ordering::Relaxed)))),
        show(heap_used),
        show(heap_free),
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, runtime, text] = args.as_slice() else {
        return Err("usage: lm_memory MODEL_DIR ORT_LIBRARY TEXT_FILE".into());
    };
    let (model, runtime) = (Path::new(model), Path::new(runtime));
    let text = std::fs::read_to_string(text)?;
    println!(
        "{:<24} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "MiB after", "resident", "anon", "files", "rust", "rust max", "C heap", "C free"
    );
    report("start");
    let tokenizer =
        tokenizers::Tokenizer::from_file(model.join(TOKENIZER_FILE)).map_err(|e| e.to_string())?;
    report("tokenizer alone");
    drop(tokenizer);
    report("tokenizer dropped");
    load_runtime(runtime)?;
    report("ONNX Runtime loaded");
    let lm = NeuralLm::load(model, runtime, 1)?;
    report("model loaded");
    // Requests as a keyboard makes them: the context before each word of
    // the text, its next-word tokens, and a few candidates scored.
    let words: Vec<&str> = text.split_whitespace().take(2_000).collect();
    let candidates = [
        "the", "you", "to", "a", "and", "it", "is", "that", "of", "in", "have", "be", "for", "not",
        "with", "this",
    ];
    for end in 1..words.len() {
        let context = words[end.saturating_sub(24)..end].join(" ");
        let state = lm.state(&lm.context_ids_within(&context, 32))?;
        lm.score_words(&state, &candidates)?;
        lm.next_word_tokens(&state, 8);
        if end == 1 || end == 100 {
            report(&format!("after {end} requests"));
        }
    }
    report(&format!("after {} requests", words.len().saturating_sub(1)));
    lm.clear_cache();
    report("context cache cleared");
    Ok(())
}
