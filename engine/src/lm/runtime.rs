//! Loading ONNX Runtime.
//!
//! The engine links ONNX Runtime dynamically (`ort`'s `load-dynamic`): the
//! library is a file that the host ships (on desktop, from the PyPI wheel
//! `onnxruntime==1.31.1`). `ort` panics if used before a library is loaded,
//! so every model load goes through [`load_runtime`] first, and a missing or
//! wrong library is a typed error: the engine then ranks with its n-gram
//! model alone.
//!
//! Microsoft's builds of ONNX Runtime (the PyPI wheel among them) collect
//! telemetry: on Linux they write a device id and a queue of events (the
//! process's name, the machine, every model load and session) under
//! `~/.cache/Microsoft/DeveloperTools/` for upload. A keyboard engine must
//! not, so the engine turns it off twice: `ORT_DISABLE_TELEMETRY=1` before
//! the library is loaded (without it, the library records its first event
//! and the device id as it starts) and `DisableTelemetryEvents` on the
//! environment.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::Session as OrtSession;
use ort::session::builder::SessionBuilder;

use crate::error::{Error, Result};

/// The ONNX Runtime minor version the engine is built for (1.31.x).
pub const ORT_MINOR_VERSION: u32 = 31;

/// The process-wide runtime: loaded once, from one file.
static RUNTIME: OnceLock<(PathBuf, Environment)> = OnceLock::new();
/// Serialises first loads, so two threads cannot load two libraries.
static LOADING: Mutex<()> = Mutex::new(());

/// Loads ONNX Runtime from `library` (once per process) and returns its
/// environment. A process holds one runtime: once one is loaded, later calls
/// naming an existing file get it, whatever the file.
pub fn load_runtime(library: &Path) -> Result<&'static Environment> {
    if !library.is_file() {
        return Err(Error::Runtime {
            path: library.to_path_buf(),
            detail: "no such file".into(),
        });
    }
    if let Some((_, env)) = RUNTIME.get() {
        return Ok(env);
    }
    let _guard = LOADING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, env)) = RUNTIME.get() {
        return Ok(env);
    }
    let fail = |detail: String| Error::Runtime {
        path: library.to_path_buf(),
        detail,
    };
    if !library.is_file() {
        return Err(fail("no such file".into()));
    }
    disable_telemetry_before_loading();
    let version = library_version(library).map_err(fail)?;
    let minor = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse::<u32>().ok());
    if minor != Some(ORT_MINOR_VERSION) {
        return Err(fail(format!(
            "version {version}, this engine needs 1.{ORT_MINOR_VERSION}.x"
        )));
    }
    let builder = ort::init_from(library).map_err(|e| fail(e.to_string()))?;
    let env = builder
        .with_name("nib")
        .with_telemetry(false)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let (_, env) = RUNTIME.get_or_init(|| (library.to_path_buf(), env));
    Ok(env)
}

/// The environment variable that keeps ONNX Runtime's telemetry from
/// starting when the library loads.
pub const TELEMETRY_OFF_VARIABLE: &str = "ORT_DISABLE_TELEMETRY";

/// Sets [`TELEMETRY_OFF_VARIABLE`] unless the host has set it.
fn disable_telemetry_before_loading() {
    if std::env::var_os(TELEMETRY_OFF_VARIABLE).is_none() {
        // SAFETY: setting a variable races with threads reading the
        // environment at the same moment. This runs once per process, under
        // the loading lock, before the first model; hosts that read the
        // environment from other threads at start-up set the variable
        // themselves first (README, "ONNX Runtime"), and then this does
        // nothing.
        unsafe { std::env::set_var(TELEMETRY_OFF_VARIABLE, "1") };
    }
}

/// The library the runtime was loaded from, if it was.
pub fn loaded_runtime() -> Option<&'static Path> {
    RUNTIME.get().map(|(path, _)| path.as_path())
}

/// Reads the version of an ONNX Runtime library without making it the
/// process's runtime, so that a wrong version is refused before `ort` keeps
/// it.
fn library_version(library: &Path) -> std::result::Result<String, String> {
    type GetApiBase = unsafe extern "C" fn() -> *const ort::sys::OrtApiBase;
    // SAFETY: loading a shared library runs its initialisers; the host names
    // the ONNX Runtime library it ships, and nothing else is called before
    // the symbol check below.
    let lib = unsafe { libloading::Library::new(library) }.map_err(|e| e.to_string())?;
    // SAFETY: the symbol has this signature in every ONNX Runtime release.
    let get: libloading::Symbol<'_, GetApiBase> = unsafe { lib.get(b"OrtGetApiBase") }
        .map_err(|_| "not an ONNX Runtime library (no OrtGetApiBase)".to_string())?;
    // SAFETY: OrtGetApiBase takes no arguments and returns a static table.
    let base = unsafe { get() };
    if base.is_null() {
        return Err("OrtGetApiBase returned nothing".into());
    }
    // SAFETY: `base` is the library's static API table; GetVersionString
    // returns a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(((*base).GetVersionString)()) };
    Ok(version.to_string_lossy().into_owned())
}

/// A session builder set up as a keyboard process needs it: `threads`
/// intra-op threads, one inter-op thread, and no memory arena or memory
/// pattern (a keyboard cannot keep buffers sized for the largest run ever
/// seen: each run allocates what it needs). Shared by the language model
/// and the stroke model.
pub fn session_builder(env: &'static Environment, threads: usize) -> ort::Result<SessionBuilder> {
    Ok(OrtSession::builder(env)?
        .with_intra_threads(threads.max(1))?
        .with_inter_threads(1)?
        .with_memory_pattern(false)?
        .with_execution_providers([ort::ep::CPU::default().with_arena_allocator(false).build()])?)
}
