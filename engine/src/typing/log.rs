//! The typing-log format, version 1, and its streaming reader.
//!
//! A log is JSON Lines: one event per line, each an object whose `type`
//! says what it is. A `session` header opens every session (a file may hold
//! many) and carries the format version, the language and the field type.
//! Coordinates are in layout units (key widths, see [`crate::layout`]) and
//! times `t` in milliseconds since the session started.
//!
//! ```text
//! {"type":"session","version":1,"language":"en","field":"text"}
//! {"type":"expect","text":"Hello,"}
//! {"type":"tap","x":8.1,"y":2.4,"t":0}
//! {"type":"tap","x":5.6,"y":1.6,"t":180}
//! {"type":"pick","text":"Hello","t":420}
//! ```
//!
//! Fields a reader does not know are ignored, so that later versions can add
//! them; an event type it does not know is reported
//! ([`ProblemKind::UnknownType`]) and skipped.

use std::io::{BufRead, Read};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::session::FieldType;

/// The format version this reader reads and the simulator writes.
pub const LOG_VERSION: u32 = 1;

/// Longest line read, in bytes; a longer one is reported and skipped
/// without being held in memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// One point of a swipe or a pen stroke: x, y in layout units and t in
/// milliseconds, written as a three-element array.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point(pub f32, pub f32, pub f64);

/// The header that opens a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionHeader {
    /// The format version ([`LOG_VERSION`]).
    pub version: u32,
    /// The language tag of the pack to type with, e.g. "en".
    pub language: String,
    /// The keyboard layout's name, if the log records it (informative; the
    /// pack's layout is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
    /// The kind of text field.
    #[serde(default)]
    pub field: FieldType,
    /// The host forbade learning in this field.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_learning: bool,
    /// The field wants no automatic capitals
    /// ([`SessionOptions::no_auto_capitals`](crate::SessionOptions::no_auto_capitals)).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_auto_capitals: bool,
    /// Anything else the recorder wants to keep: device, app, the
    /// simulator's settings. A number under `sigma` is the tap noise the
    /// replay report groups results by.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
}

/// One line of a typing log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Opens a session.
    Session(SessionHeader),
    /// A touch on the keyboard at (x, y).
    Tap {
        /// Horizontal position, layout units.
        x: f32,
        /// Vertical position, layout units (downward).
        y: f32,
        /// Time, milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t: Option<f64>,
    },
    /// A symbol entered without coordinates: a hardware key, a long-press
    /// alternate, a key of the symbols page.
    Key {
        /// The text the key typed.
        key: String,
        /// Time, milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t: Option<f64>,
    },
    /// The backspace key (also reachable as a tap on it).
    Backspace {
        /// Time, milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t: Option<f64>,
    },
    /// A gesture across the keys (decoded by a later decoder; replay counts
    /// it).
    Swipe {
        /// The path.
        points: Vec<Point>,
    },
    /// Handwriting: strokes of pen points.
    Ink {
        /// The strokes, each a list of points.
        strokes: Vec<Vec<Point>>,
    },
    /// A shown suggestion was chosen: it replaces the current word and a
    /// space follows.
    Pick {
        /// The suggestion's text.
        text: String,
        /// Time, milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t: Option<f64>,
    },
    /// Text entered by other means (pasted, dictated), typed as is.
    Commit {
        /// The text.
        text: String,
        /// Time, milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t: Option<f64>,
    },
    /// The cursor moved or the text changed outside the keyboard: `before`
    /// is now the text before the cursor.
    Context {
        /// The text before the cursor.
        before: String,
        /// Time, milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        t: Option<f64>,
    },
    /// Ground truth: the events up to the next `expect` were meant to
    /// enter `text`, one whitespace-free token (a word with any
    /// punctuation around it) followed by a space.
    Expect {
        /// The intended token.
        text: String,
    },
}

/// The event types of format version 1.
pub const EVENT_TYPES: [&str; 10] = [
    "session",
    "tap",
    "key",
    "backspace",
    "swipe",
    "ink",
    "pick",
    "commit",
    "context",
    "expect",
];

impl Event {
    /// The event's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::Session(_) => "session",
            Event::Tap { .. } => "tap",
            Event::Key { .. } => "key",
            Event::Backspace { .. } => "backspace",
            Event::Swipe { .. } => "swipe",
            Event::Ink { .. } => "ink",
            Event::Pick { .. } => "pick",
            Event::Commit { .. } => "commit",
            Event::Context { .. } => "context",
            Event::Expect { .. } => "expect",
        }
    }

    /// The event's time, for the events that carry one.
    pub fn time(&self) -> Option<f64> {
        match self {
            Event::Tap { t, .. }
            | Event::Key { t, .. }
            | Event::Backspace { t }
            | Event::Pick { t, .. }
            | Event::Commit { t, .. }
            | Event::Context { t, .. } => *t,
            Event::Swipe { points } => points.first().map(|p| p.2),
            Event::Ink { strokes } => strokes.first().and_then(|s| s.first()).map(|p| p.2),
            Event::Session(_) | Event::Expect { .. } => None,
        }
    }
}

/// An event and the line it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1-based line number.
    pub line: u64,
    /// The event.
    pub event: Event,
}

/// What was wrong with a line or an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProblemKind {
    /// Not a JSON object of a known shape (includes a truncated last line).
    Malformed,
    /// Not UTF-8.
    InvalidUtf8,
    /// Longer than [`MAX_LINE_BYTES`].
    TooLong,
    /// A `type` this version does not know.
    UnknownType,
    /// An event before any session header.
    BeforeHeader,
    /// A session header of another format version.
    Version,
    /// A session in a language without a pack.
    NoPack,
    /// The engine refused the event (a tap off the keyboard, a NaN).
    InvalidEvent,
    /// An event whose time is earlier than the previous event's.
    OutOfOrder,
    /// The log could not be read.
    Io,
    /// The file holds no events.
    Empty,
}

impl ProblemKind {
    /// A short name for summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Malformed => "malformed",
            ProblemKind::InvalidUtf8 => "invalid_utf8",
            ProblemKind::TooLong => "too_long",
            ProblemKind::UnknownType => "unknown_type",
            ProblemKind::BeforeHeader => "before_header",
            ProblemKind::Version => "version",
            ProblemKind::NoPack => "no_pack",
            ProblemKind::InvalidEvent => "invalid_event",
            ProblemKind::OutOfOrder => "out_of_order",
            ProblemKind::Io => "io",
            ProblemKind::Empty => "empty",
        }
    }
}

/// A problem found at a line of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number (0 for the file as a whole).
    pub line: u64,
    /// What kind of problem.
    pub kind: ProblemKind,
    /// What exactly was wrong.
    pub detail: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.detail)
    }
}

/// Reads a log line by line, never holding more than one line.
///
/// Yields each event with its line number, or the [`Problem`] of a line
/// that could not be read; reading goes on after a problem. Blank lines are
/// skipped.
#[derive(Debug)]
pub struct LogReader<R> {
    input: R,
    line: u64,
    bytes: u64,
    buffer: Vec<u8>,
    done: bool,
}

impl<R: BufRead> LogReader<R> {
    /// A reader of `input`.
    pub fn new(input: R) -> Self {
        Self {
            input,
            line: 0,
            bytes: 0,
            buffer: Vec::new(),
            done: false,
        }
    }

    /// Bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Lines consumed so far.
    pub fn lines_read(&self) -> u64 {
        self.line
    }

    /// Reads the next line into the buffer; `Ok(false)` at the end, and
    /// `Err` for a line too long (consumed and dropped).
    fn read_line(&mut self) -> std::io::Result<Option<bool>> {
        self.buffer.clear();
        let limit = MAX_LINE_BYTES as u64 + 1;
        let read = (&mut self.input)
            .take(limit)
            .read_until(b'\n', &mut self.buffer)?;
        if read == 0 {
            return Ok(None);
        }
        self.bytes += read as u64;
        self.line += 1;
        if self.buffer.last() == Some(&b'\n') || read < limit as usize {
            return Ok(Some(true));
        }
        // Too long: skip to the end of the line without keeping it.
        loop {
            let chunk = self.input.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.input.consume(i + 1);
                    self.bytes += i as u64 + 1;
                    break;
                }
                None => {
                    let n = chunk.len();
                    self.input.consume(n);
                    self.bytes += n as u64;
                }
            }
        }
        Ok(Some(false))
    }
}

impl<R: BufRead> Iterator for LogReader<R> {
    type Item = Result<Record, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let fits = match self.read_line() {
                Ok(Some(fits)) => fits,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(Problem {
                        line: self.line,
                        kind: ProblemKind::Io,
                        detail: format!("read failed: {e}"),
                    }));
                }
            };
            let line = self.line;
            if !fits {
                return Some(Err(Problem {
                    line,
                    kind: ProblemKind::TooLong,
                    detail: format!("line longer than {MAX_LINE_BYTES} bytes"),
                }));
            }
            let complete = self.buffer.last() == Some(&b'\n');
            let Ok(text) = std::str::from_utf8(&self.buffer) else {
                return Some(Err(Problem {
                    line,
                    kind: ProblemKind::InvalidUtf8,
                    detail: "line is not valid UTF-8".to_owned(),
                }));
            };
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            return Some(parse_line(text, line, complete));
        }
        None
    }
}

/// Parses one non-blank line.
pub fn parse_line(text: &str, line: u64, complete: bool) -> Result<Record, Problem> {
    match serde_json::from_str::<Event>(text) {
        Ok(event) => Ok(Record { line, event }),
        Err(error) => {
            let value = serde_json::from_str::<Value>(text).ok();
            let unknown = value
                .as_ref()
                .and_then(|v| v.get("type"))
                .and_then(Value::as_str)
                .filter(|t| !EVENT_TYPES.contains(t))
                .map(str::to_owned);
            let problem = match (unknown, value.is_some(), complete) {
                (Some(kind), _, _) => Problem {
                    line,
                    kind: ProblemKind::UnknownType,
                    detail: format!("unknown event type {kind:?}, skipped"),
                },
                (None, false, false) => Problem {
                    line,
                    kind: ProblemKind::Malformed,
                    detail: format!("truncated last line: {error}"),
                },
                (None, _, _) => Problem {
                    line,
                    kind: ProblemKind::Malformed,
                    detail: format!("malformed event: {error}"),
                },
            };
            Err(problem)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> Vec<Result<Record, Problem>> {
        LogReader::new(text).collect()
    }

    #[test]
    fn events_round_trip_through_json() {
        let events = [
            Event::Session(SessionHeader {
                version: 1,
                language: "en".into(),
                layout: None,
                field: FieldType::Email,
                no_learning: true,
                no_auto_capitals: true,
                metadata: Map::new(),
            }),
            Event::Tap {
                x: 1.5,
                y: 0.25,
                t: Some(12.0),
            },
            Event::Key {
                key: "é".into(),
                t: None,
            },
            Event::Backspace { t: Some(3.0) },
            Event::Swipe {
                points: vec![Point(0.5, 0.5, 0.0), Point(1.5, 0.5, 20.0)],
            },
            Event::Ink {
                strokes: vec![vec![Point(0.0, 0.0, 0.0)]],
            },
            Event::Pick {
                text: "hello".into(),
                t: None,
            },
            Event::Commit {
                text: "x y".into(),
                t: None,
            },
            Event::Context {
                before: "Dear ".into(),
                t: None,
            },
            Event::Expect {
                text: "Hello,".into(),
            },
        ];
        for event in events {
            let line = serde_json::to_string(&event).unwrap();
            assert_eq!(parse_line(&line, 1, true).unwrap().event, event, "{line}");
            assert!(EVENT_TYPES.contains(&event.type_name()));
        }
    }

    #[test]
    fn unknown_fields_are_ignored_and_unknown_types_reported() {
        let log =
            b"{\"type\":\"tap\",\"x\":1,\"y\":2,\"pressure\":0.4}\n{\"type\":\"hover\",\"x\":1}\n";
        let records = read(log);
        assert!(matches!(
            records[0],
            Ok(Record {
                line: 1,
                event: Event::Tap { .. }
            })
        ));
        let problem = records[1].as_ref().unwrap_err();
        assert_eq!((problem.line, problem.kind), (2, ProblemKind::UnknownType));
        assert!(problem.detail.contains("hover"));
    }

    #[test]
    fn bad_lines_are_reported_with_their_numbers_and_reading_goes_on() {
        let log = b"\n{\"type\":\"tap\",\"x\":\"left\",\"y\":2}\n\xff\xfe\n{\"type\":\"backspace\"}\n{\"type\":\"tap\",\"x\":1,";
        let records = read(log);
        assert_eq!(records.len(), 4);
        let kinds: Vec<_> = records
            .iter()
            .map(|r| r.as_ref().map(|r| r.line).map_err(|p| (p.line, p.kind)))
            .collect();
        assert_eq!(
            kinds,
            [
                Err((2, ProblemKind::Malformed)),
                Err((3, ProblemKind::InvalidUtf8)),
                Ok(4),
                Err((5, ProblemKind::Malformed)),
            ]
        );
        let last = records[3].as_ref().unwrap_err();
        assert!(last.detail.starts_with("truncated last line"), "{last}");
    }

    #[test]
    fn huge_lines_are_skipped_without_being_kept() {
        let mut log = vec![b'x'; MAX_LINE_BYTES * 3];
        log.extend_from_slice(b"\n{\"type\":\"backspace\"}\n");
        let mut reader = LogReader::new(&log[..]);
        let first = reader.next().unwrap().unwrap_err();
        assert_eq!(first.kind, ProblemKind::TooLong);
        assert!(reader.buffer.capacity() <= 2 * MAX_LINE_BYTES + 64);
        let second = reader.next().unwrap().unwrap();
        assert_eq!(
            (second.line, second.event),
            (2, Event::Backspace { t: None })
        );
        assert_eq!(reader.bytes_read(), log.len() as u64);
    }
}
