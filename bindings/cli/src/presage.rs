//! Presage, the open n-gram prediction engine, driven through
//! `languages/lm/presage_predict.cpp` so that `nib ksr --presage` types a
//! text with it by exactly the protocol nib is measured by.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::commands::Result;

/// A running `presage_predict` process.
pub struct Presage {
    child: Child,
    /// Unbuffered: one write per request, and nothing left to flush (into
    /// a closed pipe) when the value is dropped.
    requests: ChildStdin,
    answers: BufReader<ChildStdout>,
}

impl Presage {
    /// Starts `driver` with Presage's configuration file `config`. Until
    /// the value is dropped, a driver that stops is an error of
    /// [`suggest`](Self::suggest) rather than a SIGPIPE that ends `nib`
    /// without a word.
    pub fn start(driver: &Path, config: &Path) -> Result<Self> {
        #[cfg(unix)]
        // SAFETY: only changes how this process takes a write to a closed
        // pipe (an EPIPE error instead of the signal); `nib ksr` runs no
        // other thread, and `drop` restores the default.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
        let mut child = Command::new(driver)
            .arg(config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", driver.display()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("presage_predict started without pipes".into());
        };
        Ok(Self {
            child,
            requests: stdin,
            answers: BufReader::new(stdout),
        })
    }

    /// Presage's suggestions for the word being typed at the end of
    /// `before` + `typed`, best first.
    pub fn suggest(&mut self, before: &str, typed: &str) -> Result<Vec<String>> {
        if before.contains('\n') || typed.contains('\n') {
            return Err("a request to Presage cannot hold a line break".into());
        }
        let stopped = |e: std::io::Error| format!("the prediction server stopped: {e}");
        self.requests
            .write_all(format!("{before}{typed}\n").as_bytes())
            .map_err(stopped)?;
        let mut line = Vec::new();
        if self.answers.read_until(b'\n', &mut line)? == 0 {
            return Err("the prediction server stopped (see its error above)".into());
        }
        // Presage works on bytes and can answer with a broken character; such
        // a suggestion is kept, with U+FFFD, and cannot match a word.
        Ok(String::from_utf8_lossy(&line)
            .trim_end_matches('\n')
            .split('\t')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

impl Drop for Presage {
    fn drop(&mut self) {
        // Ignoring errors: the process may have ended already.
        let _ = self.child.kill();
        let _ = self.child.wait();
        #[cfg(unix)]
        // SAFETY: as in `start`: back to the default `main` set.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}
