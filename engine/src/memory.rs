//! The process's resident memory, for the reports of `nib ksr` and
//! `nib replay`: how much of it is the process's own (anonymous: heaps,
//! ONNX Runtime's tensors) and how much is mapped from files (the program,
//! shared libraries, memory-mapped packs and model weights, which the
//! system can drop and read again).

use serde::{Deserialize, Serialize};

/// One reading of the process's memory, in MiB.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Memory {
    /// Resident set size now.
    pub resident_mib: f64,
    /// The anonymous part of it.
    pub anonymous_mib: f64,
    /// The file-backed part of it.
    pub file_mib: f64,
    /// The largest resident set size so far.
    pub peak_resident_mib: f64,
}

/// Reads the process's memory from `/proc/self/status`; `None` where there
/// is no such file (not Linux).
pub fn now() -> Option<Memory> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status.lines().find_map(|line| {
            let kib = line.strip_prefix(name)?.strip_prefix(':')?;
            let kib = kib.trim().strip_suffix("kB")?.trim().parse::<f64>().ok()?;
            Some(kib / 1024.0)
        })
    };
    Some(Memory {
        resident_mib: field("VmRSS")?,
        anonymous_mib: field("RssAnon")?,
        file_mib: field("RssFile")?,
        peak_resident_mib: field("VmHWM")?,
    })
}

impl std::fmt::Display for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "resident {:.1} MiB ({:.1} anonymous, {:.1} from files), peak {:.1} MiB",
            self.resident_mib, self.anonymous_mib, self.file_mib, self.peak_resident_mib
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_adds_up() {
        let Some(m) = now() else { return };
        assert!(m.resident_mib > 0.0);
        assert!((m.anonymous_mib + m.file_mib - m.resident_mib).abs() <= m.resident_mib * 0.1);
        assert!(m.peak_resident_mib >= m.resident_mib);
    }
}
