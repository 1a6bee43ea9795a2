//! One object, one thread: the lock that refuses rather than waits, shared
//! by the session and the ink area.
//!
//! A session or an ink area belongs to one view and is driven from one
//! thread (the input method's main thread). Using it from two threads at
//! once is a bug in the caller; the binding reports it as `Busy`
//! (`try_lock`) instead of blocking the keyboard's UI thread or racing.
//! Every call does bounded work, so the lock is held for microseconds and
//! `close` can afford to wait for it.

use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use crate::error::{NibError, Result};

/// An object the host drives from one thread and may close.
#[derive(Debug)]
pub(crate) struct Exclusive<T> {
    /// `None` once closed.
    inner: Mutex<Option<T>>,
    /// What the object is called in messages ("session", "ink area").
    name: &'static str,
}

impl<T> Exclusive<T> {
    /// `value`, open, called `name` in messages.
    pub(crate) fn new(value: T, name: &'static str) -> Self {
        Self {
            inner: Mutex::new(Some(value)),
            name,
        }
    }

    /// Runs `f` on the open object, or says why not: `Busy` while another
    /// thread is in a call, `Closed` after [`close`](Self::close).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        let name = self.name;
        let mut guard = match self.inner.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::WouldBlock) => {
                return Err(NibError::Busy(format!(
                    "the {name} is in use by another thread; drive each {name} from one thread"
                )));
            }
            // A panic inside the engine would leave the object's strings
            // valid, if surprising; carrying on beats a dead keyboard.
            Err(TryLockError::Poisoned(poisoned)) => {
                self.inner.clear_poison();
                poisoned.into_inner()
            }
        };
        match guard.as_mut() {
            Some(value) => Ok(f(value)),
            None => Err(NibError::Closed(format!("the {name} is closed"))),
        }
    }

    /// Frees the object; every later call is `Closed`. Waits for a call in
    /// progress on another thread (microseconds) rather than failing.
    pub(crate) fn close(&self) {
        *self.lock() = None;
    }

    /// The lock, waiting for it (for `close`, and for tests that hold it).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Option<T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
