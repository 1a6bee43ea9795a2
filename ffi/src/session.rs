//! The session object: the state of one text field, behind a lock that
//! refuses rather than waits ([`Exclusive`]). Every call does bounded work
//! (the engine's limits on word and context length and candidates).

use crate::error::{NibError, Result};
use crate::exclusive::Exclusive;
use crate::types::{Decision, Key, RevisedWord, SessionOptions, Suggestion};

/// The state of one text field: what was typed, the text before the
/// cursor, and the suggestions for them.
///
/// Report every event of the field: taps (`tap`) or text the keyboard typed
/// (`type_text`), `backspace`, `commit` (space), `pick` (a suggestion
/// chosen), and `set_context` after the cursor moved or the app changed
/// the text. After `close()` every call fails with `Closed`.
#[derive(Debug, uniffi::Object)]
pub struct Session {
    inner: Exclusive<nib_engine::Session>,
}

impl From<nib_engine::Session> for Session {
    fn from(session: nib_engine::Session) -> Self {
        Self {
            inner: Exclusive::new(session, "session"),
        }
    }
}

impl Session {
    /// Runs `f` on the open session, or says why not.
    fn with<R>(&self, f: impl FnOnce(&mut nib_engine::Session) -> R) -> Result<R> {
        self.inner.with(f)
    }
}

#[uniffi::export]
impl Session {
    /// A tap at (`x`, `y`) in layout units (see `Engine.layout`): types the
    /// key under it (or the nearest within one key width) and returns that
    /// key. Space commits the word, backspace deletes, shift upper-cases
    /// the next letter. NaN, infinite or far-off coordinates fail with
    /// `InvalidInput` and change nothing.
    ///
    /// This is plain geometry for now; the spatial touch model that weighs
    /// nearby keys replaces it behind the same call.
    pub fn tap(&self, x: f32, y: f32) -> Result<Key> {
        self.with(|s| s.tap(x, y).map(Key::from))?
            .map_err(NibError::from)
    }

    /// Types `text` as if its characters were keys: letters extend the
    /// current word, anything else (space, punctuation) commits it.
    /// Control characters are ignored.
    pub fn type_text(&self, text: String) -> Result<()> {
        self.with(|s| s.type_text(&text))
    }

    /// Deletes the character (grapheme) before the cursor.
    pub fn backspace(&self) -> Result<()> {
        self.with(nib_engine::Session::backspace)
    }

    /// Commits the current word as typed, followed by a space.
    pub fn commit(&self) -> Result<()> {
        self.with(nib_engine::Session::commit)
    }

    /// Replaces the current word with `text` (a suggestion the user chose)
    /// followed by a space.
    pub fn pick(&self, text: String) -> Result<()> {
        self.with(|s| s.pick(&text))
    }

    /// Resynchronises after the cursor moved or the app changed the text:
    /// `before_cursor` is the field's text before the cursor (its last few
    /// hundred characters are enough).
    pub fn set_context(&self, before_cursor: String) -> Result<()> {
        self.with(|s| s.set_context(&before_cursor))
    }

    /// The best `k` suggestions (3 when not given) for the current word
    /// (completions), or for the next word after a space (predictions),
    /// best first.
    ///
    /// `k` is a plain integer rather than an optional one on purpose: an
    /// optional argument crosses as a buffer that the foreign side must
    /// allocate through one more FFI call, which through Kotlin's JNA costs
    /// more than the suggestions themselves.
    #[uniffi::method(default(k = 3))]
    pub fn suggestions(&self, k: u32) -> Result<Vec<Suggestion>> {
        self.with(|s| {
            s.suggestions(k as usize)
                .into_iter()
                .map(Suggestion::from)
                .collect()
        })
    }

    /// The word being typed.
    pub fn current_word(&self) -> Result<String> {
        self.with(|s| s.current_word().to_owned())
    }

    /// The text kept before the current word (the end of the field's text).
    pub fn context(&self) -> Result<String> {
        self.with(|s| s.context().to_owned())
    }

    /// What the autocorrect did with the last word committed by a space
    /// or punctuation: the typed word, the correction, applied or only
    /// offered or kept, and why. `None` before any decision (text typed
    /// without taps, fields that do not autocorrect).
    pub fn last_decision(&self) -> Result<Option<Decision>> {
        self.with(|s| s.last_decision().map(Decision::from))
    }

    /// The word before the last one committed, when the last commit
    /// rewrote it (with the neural model: the new word made another
    /// reading of it clearly likelier); `None` otherwise. The field's text
    /// is `context()`; this says what changed in it, for a host that
    /// marks the change.
    pub fn revised_previous_word(&self) -> Result<Option<RevisedWord>> {
        self.with(|s| {
            s.revised_previous_word().map(|(was, now)| RevisedWord {
                was: was.to_owned(),
                now: now.to_owned(),
            })
        })
    }

    /// The session's language.
    pub fn language(&self) -> Result<String> {
        self.with(|s| s.language().to_owned())
    }

    /// How the field was set up: its type and whether learning is off.
    pub fn options(&self) -> Result<SessionOptions> {
        self.with(|s| s.options().into())
    }

    /// Whether what is typed here may be learned (once nib learns): not
    /// when the host said `no_learning`, never in a password field.
    pub fn learning_allowed(&self) -> Result<bool> {
        self.with(|s| s.options().learning_allowed())
    }

    /// Ends the session and frees its state; every later call fails with
    /// `Closed`. Idempotent. Waits for a call in progress on another thread
    /// (microseconds) rather than failing. (Kotlin: `closeSession()`,
    /// because `close()` is `AutoCloseable`'s, which frees the handle.)
    pub fn close(&self) {
        self.inner.close();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;
    use crate::engine::Engine;
    use crate::tests::pack_dir;
    use crate::types::{EngineConfig, FieldType, KeyKind, SuggestionKind};

    fn engine() -> Arc<Engine> {
        Engine::new(pack_dir(), vec!["en".into()], EngineConfig::default()).unwrap()
    }

    fn centre(engine: &Engine, output: &str) -> (f32, f32) {
        let layout = engine.layout("en".into()).unwrap();
        let key = layout.keys.iter().find(|k| k.output == output).unwrap();
        (key.x, key.y)
    }

    #[test]
    fn taps_type_a_word_and_space_commits_it() {
        let engine = engine();
        let session = engine.session("en".into(), None).unwrap();
        for letter in ["h", "e", "l"] {
            let (x, y) = centre(&engine, letter);
            assert_eq!(session.tap(x, y).unwrap().output, letter);
        }
        assert_eq!(session.current_word().unwrap(), "hel");
        let suggestions = session.suggestions(3).unwrap();
        assert_eq!(suggestions.len(), 3);
        assert!(
            suggestions
                .iter()
                .all(|s| s.text.to_lowercase().starts_with("hel")),
            "{suggestions:?}"
        );
        assert!(
            suggestions
                .iter()
                .all(|s| s.kind == SuggestionKind::Completion)
        );
        let (x, y) = centre(&engine, " ");
        assert_eq!(session.tap(x, y).unwrap().kind, KeyKind::Space);
        // "hel", or what the autocorrect made of it, and a space.
        let committed = session.context().unwrap();
        assert!(
            committed.ends_with(' ') && committed.len() > 1,
            "{committed:?}"
        );
        session.pick(suggestions[0].text.clone()).unwrap();
        assert_eq!(
            session.context().unwrap(),
            format!("{committed}{} ", suggestions[0].text)
        );
        assert_eq!(
            session.suggestions(1).unwrap()[0].kind,
            SuggestionKind::Prediction
        );
    }

    #[test]
    fn bad_taps_and_hostile_text_are_errors_or_harmless() {
        let engine = engine();
        let session = engine.session("en".into(), None).unwrap();
        for (x, y) in [
            (f32::NAN, 0.5),
            (0.5, f32::NEG_INFINITY),
            (1e30, 1e30),
            (-50.0, 2.0),
        ] {
            assert!(matches!(session.tap(x, y), Err(NibError::InvalidInput(_))));
        }
        let huge = "a".repeat(1 << 20) + &"\u{0}\u{7}\u{1b}\u{202e}\u{fffd}".repeat(1000);
        session.type_text(huge.clone()).unwrap();
        session.set_context(huge.clone()).unwrap();
        session.pick(huge).unwrap();
        session
            .type_text("\u{301}\u{301}ǅ\u{10ffff}".into())
            .unwrap();
        for _ in 0..5 {
            session.backspace().unwrap();
        }
        session.suggestions(u32::MAX).unwrap();
        session.suggestions(0).unwrap();
    }

    #[test]
    fn options_reach_the_session() {
        let engine = engine();
        let options = SessionOptions {
            field: FieldType::Password,
            no_learning: false,
            no_auto_capitals: true,
        };
        let session = engine.session("en".into(), Some(options)).unwrap();
        assert_eq!(session.options().unwrap(), options);
        assert!(!session.learning_allowed().unwrap());
        let plain = engine.session("en".into(), None).unwrap();
        assert_eq!(plain.options().unwrap().field, FieldType::Text);
        assert!(plain.learning_allowed().unwrap());
    }

    #[test]
    fn every_call_after_close_is_closed() {
        let engine = engine();
        let session = engine.session("en".into(), None).unwrap();
        session.close();
        session.close();
        let closed = |r: Result<()>| matches!(r, Err(NibError::Closed(_)));
        assert!(closed(session.type_text("a".into())));
        assert!(closed(session.backspace()));
        assert!(closed(session.commit()));
        assert!(closed(session.pick("a".into())));
        assert!(closed(session.set_context("a".into())));
        assert!(closed(session.tap(0.5, 0.5).map(drop)));
        assert!(closed(session.suggestions(3).map(drop)));
        assert!(closed(session.current_word().map(drop)));
        assert!(closed(session.language().map(drop)));
    }

    #[test]
    fn a_session_in_use_elsewhere_is_busy() {
        let engine = engine();
        let session = engine.session("en".into(), None).unwrap();
        let held = session.inner.lock();
        let other = std::thread::scope(|scope| {
            scope
                .spawn(|| session.type_text("a".into()))
                .join()
                .unwrap()
        });
        assert!(matches!(other, Err(NibError::Busy(_))), "{other:?}");
        drop(held);
        session.type_text("a".into()).unwrap();
    }

    #[test]
    fn two_threads_on_one_session_get_answers_or_busy_never_a_crash() {
        let engine = engine();
        let session = engine.session("en".into(), None).unwrap();
        let barrier = Barrier::new(2);
        let busy: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        let mut busy = 0;
                        for _ in 0..2000 {
                            match session
                                .type_text("th".into())
                                .and_then(|()| session.suggestions(3))
                            {
                                Ok(_) => {}
                                Err(NibError::Busy(_)) => busy += 1,
                                Err(e) => panic!("unexpected {e}"),
                            }
                            let _ = session.backspace();
                        }
                        busy
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        // How often the threads collide depends on scheduling; that they
        // finish without a deadlock or a panic is the point.
        println!("{busy} busy answers out of 8000 calls");
    }
}
