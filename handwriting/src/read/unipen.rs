//! UNIPEN: label files under `data/<category>/<contributor>/` and the pen
//! data they pull in with `.INCLUDE` from `include/`.
//!
//! A UNIPEN file is a flat list of keyword lines (`.KEYWORD args`) and the
//! coordinate lines after `.PEN_DOWN` / `.PEN_UP`. Every `.PEN_DOWN` or
//! `.PEN_UP` block holding at least one line of coordinates is a
//! *component*; components are numbered from 0 across the label file with
//! its includes expanded in place. `.SEGMENT LEVEL delineation quality
//! "label"` names components as `a-b`, `a`, or with point offsets
//! `a:p-b:q` (inclusive), in comma-separated ranges; only pen-down
//! components become strokes. This is the rule of the Python reader
//! (`handwriting/train/unipen.py`), which the training split was made with.
//!
//! An include that cannot be found is recorded in
//! [`UnipenDoc::missing`] (the caller warns and skips the file's segments:
//! they would point at the wrong components); includes nested more than
//! eight deep are an error.
//!
//! Orientation: every contributor of `train_r01_v07` has y pointing up (the
//! Python reader decides it per contributor from how `1`, `l`, `I` are drawn
//! and where i-dots sit, and finds all 44 up), so [`UnipenDoc::ink`] flips y
//! into nib's screen orientation unless told otherwise.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ink::{Ink, Point};

/// Includes nested deeper than this are refused.
const MAX_DEPTH: usize = 8;
/// Largest UNIPEN file read (the largest of the data set is a few MB).
const MAX_FILE_BYTES: u64 = 64 << 20;

/// One `.SEGMENT` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The level (`WORD`, `TEXT`, `CHARACTER`, ...).
    pub level: String,
    /// The components it names.
    pub delineation: String,
    /// Its quality (`GOOD`, `OK`, `BAD`, or `?`).
    pub quality: String,
    /// Its label.
    pub label: String,
}

/// A label file with its includes expanded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnipenDoc {
    /// Components: pen-down or not, and the points (raw units, y as
    /// recorded; t in milliseconds).
    pub components: Vec<(bool, Vec<Point>)>,
    /// The segments, in file order.
    pub segments: Vec<Segment>,
    /// The writer's declared `.STYLE` (`CURSIVE`, `MIXED`, `PRINTED`), upper
    /// case, or empty.
    pub style: String,
    /// Includes that were not found.
    pub missing: Vec<String>,
    /// Includes that were read, relative to the root when possible.
    pub includes: Vec<String>,
}

#[derive(Default)]
struct State {
    coord: Vec<String>,
    points_per_second: f64,
    x_res: f64,
    y_res: f64,
    /// Running clock (ms) for data without a T column.
    t0: f64,
}

impl State {
    /// The state at the start of a file: X and Y columns until `.COORD`
    /// says otherwise.
    fn new() -> Self {
        Self {
            coord: vec!["X".into(), "Y".into()],
            ..State::default()
        }
    }
}

impl UnipenDoc {
    /// Reads the label file `path`, resolving includes under `root` (the
    /// directory holding `data/` and `include/`).
    pub fn read(path: &Path, root: &Path) -> Result<Self> {
        let mut doc = UnipenDoc::default();
        parse(path, root, &mut doc, &mut State::new(), 0)?;
        Ok(doc)
    }

    /// Parses a label file held in memory; `path` names it in errors and
    /// includes are looked for under `root`.
    pub fn from_bytes(bytes: &[u8], path: &Path, root: &Path) -> Result<Self> {
        let mut doc = UnipenDoc::default();
        parse_bytes(bytes, path, root, &mut doc, &mut State::new(), 0)?;
        Ok(doc)
    }

    /// Reads a label file, its includes resolved under [`root_of`] it.
    pub fn read_file(path: &Path) -> Result<Self> {
        Self::read(path, &root_of(path))
    }

    /// All pen-down components as one ink, y flipped into screen
    /// orientation when `flip_y`.
    pub fn pen_down_ink(&self, flip_y: bool) -> Ink {
        Ink::new(
            self.components
                .iter()
                .filter(|(down, _)| *down)
                .map(|(_, points)| {
                    points
                        .iter()
                        .map(|p| Point::new(p.x, if flip_y { -p.y } else { p.y }, p.t))
                        .collect()
                })
                .collect(),
        )
    }

    /// The ink a delineation names, y flipped into screen orientation when
    /// `flip_y`; `None` if it names components that do not exist or no
    /// pen-down point.
    pub fn ink(&self, delineation: &str, flip_y: bool) -> Option<Ink> {
        let mut strokes = Vec::new();
        for part in delineation.split(',') {
            if part.is_empty() {
                continue;
            }
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            let (ca, pa) = split_point(a)?;
            let (cb, pb) = split_point(b)?;
            if ca > cb || cb >= self.components.len() {
                return None;
            }
            for c in ca..=cb {
                let (down, points) = &self.components[c];
                let lo = if c == ca { pa.unwrap_or(0) } else { 0 };
                let hi = match (c == cb, pb) {
                    (true, Some(q)) => q.saturating_add(1).min(points.len()),
                    _ => points.len(),
                };
                if *down && hi > lo {
                    strokes.push(
                        points[lo..hi]
                            .iter()
                            .map(|p| Point::new(p.x, if flip_y { -p.y } else { p.y }, p.t))
                            .collect(),
                    );
                }
            }
        }
        (!strokes.is_empty()).then(|| Ink::new(strokes))
    }
}

/// The root a UNIPEN file's includes are resolved under: the nearest
/// ancestor directory that holds an `include` directory, else the file's
/// own directory.
pub fn root_of(path: &Path) -> std::path::PathBuf {
    path.ancestors()
        .skip(1)
        .find(|d| d.join("include").is_dir())
        .or_else(|| path.parent())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// `c` or `c:p`.
fn split_point(text: &str) -> Option<(usize, Option<usize>)> {
    let (c, p) = match text.split_once(':') {
        Some((c, p)) => (c, Some(p)),
        None => (text, None),
    };
    let c = c.trim().parse().ok()?;
    let p = match p {
        Some(p) if !p.trim().is_empty() => Some(p.trim().parse().ok()?),
        _ => None,
    };
    Some((c, p))
}

fn number(text: &str) -> f64 {
    text.split_whitespace()
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0.0)
}

fn resolve(arg: &str, here: &Path, root: &Path) -> Option<PathBuf> {
    let name = arg.split_whitespace().next()?;
    let bases = [
        root.join("include"),
        here.parent().unwrap_or(Path::new(".")).to_path_buf(),
        root.to_path_buf(),
    ];
    bases.iter().map(|b| b.join(name)).find(|p| p.is_file())
}

/// Parses `.SEGMENT LEVEL delineation [quality] ["label"]`.
fn segment(args: &str) -> Option<Segment> {
    fn word(rest: &mut &str) -> Option<String> {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (w, tail) = rest.split_at(end);
        *rest = tail.trim_start();
        (!w.is_empty() && !w.starts_with('"')).then(|| w.to_owned())
    }
    let mut rest = args.trim();
    let level = word(&mut rest)?;
    let delineation = word(&mut rest)?;
    let quality = if rest.starts_with('"') || rest.is_empty() {
        "?".to_owned()
    } else {
        word(&mut rest)?
    };
    let label = if let Some(quoted) = rest.strip_prefix('"') {
        let end = quoted.rfind('"')?;
        if !quoted[end + 1..].trim().is_empty() {
            return None;
        }
        quoted[..end].replace("\\\"", "\"")
    } else if rest.is_empty() {
        String::new()
    } else {
        return None;
    };
    Some(Segment {
        level,
        delineation,
        quality,
        label,
    })
}

fn parse(
    path: &Path,
    root: &Path,
    doc: &mut UnipenDoc,
    state: &mut State,
    depth: usize,
) -> Result<()> {
    let fail = |line: usize, detail: String| Error::Parse {
        path: path.to_path_buf(),
        format: "UNIPEN",
        line,
        detail,
    };
    if depth > MAX_DEPTH {
        return Err(fail(0, ".INCLUDE nested too deeply".into()));
    }
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_FILE_BYTES {
        return Err(fail(0, format!("{len} bytes, more than {MAX_FILE_BYTES}")));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    parse_bytes(&bytes, path, root, doc, state, depth)
}

/// Parses the bytes of `path` (includes are resolved from `root`).
fn parse_bytes(
    bytes: &[u8],
    path: &Path,
    root: &Path,
    doc: &mut UnipenDoc,
    state: &mut State,
    depth: usize,
) -> Result<()> {
    // UNIPEN predates UTF-8: read bytes as Latin-1, as the Python reader does.
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let mut block: Option<(bool, Vec<Point>)> = None;
    for line in text.split(['\n', '\r']) {
        if let Some(keyword) = line.strip_prefix('.') {
            let (key, arg) = keyword
                .split_once(char::is_whitespace)
                .map_or((keyword, ""), |(k, a)| (k, a.trim()));
            close(&mut block, doc, state);
            match key {
                "PEN_DOWN" | "PEN_UP" => block = Some((key == "PEN_DOWN", Vec::new())),
                "INCLUDE" => match resolve(arg, path, root) {
                    None => doc.missing.push(arg.to_owned()),
                    Some(inc) => {
                        let shown = inc.strip_prefix(root).unwrap_or(&inc);
                        doc.includes.push(shown.display().to_string());
                        parse(&inc, root, doc, state, depth + 1)?;
                    }
                },
                "COORD" => state.coord = arg.split_whitespace().map(str::to_uppercase).collect(),
                "POINTS_PER_SECOND" => state.points_per_second = number(arg),
                "X_POINTS_PER_INCH" => state.x_res = number(arg),
                "X_POINTS_PER_MM" => state.x_res = number(arg) * 25.4,
                "Y_POINTS_PER_INCH" => state.y_res = number(arg),
                "Y_POINTS_PER_MM" => state.y_res = number(arg) * 25.4,
                "DT" => state.t0 += number(arg),
                "STYLE" => doc.style = arg.split_whitespace().next().unwrap_or("").to_uppercase(),
                "SEGMENT" => {
                    if let Some(s) = segment(arg) {
                        doc.segments.push(s);
                    }
                }
                _ => {}
            }
        } else if let Some((_, points)) = block.as_mut() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() >= 2 {
                if let Some(p) = point(&fields, state, points.len()) {
                    points.push(p);
                } else {
                    // An unreadable row still makes the block a component
                    // (the Python reader's rule); it adds no point.
                    points.push(Point::new(f64::NAN, f64::NAN, f64::NAN));
                }
            }
        }
    }
    close(&mut block, doc, state);
    Ok(())
}

fn point(fields: &[&str], state: &State, n: usize) -> Option<Point> {
    let col = |name: &str, default: usize| {
        state
            .coord
            .iter()
            .position(|c| c == name)
            .unwrap_or(default)
    };
    let x: f64 = fields.get(col("X", 0))?.parse().ok()?;
    let mut y: f64 = fields.get(col("Y", 1))?.parse().ok()?;
    let t = match state.coord.iter().position(|c| c == "T") {
        Some(i) if i < fields.len() => fields[i].parse().ok()?,
        _ => {
            let rate = if state.points_per_second > 0.0 {
                state.points_per_second
            } else {
                100.0
            };
            state.t0 + 1000.0 * n as f64 / rate
        }
    };
    if state.x_res > 0.0
        && state.y_res > 0.0
        && (state.x_res - state.y_res).abs() > 1e-6 * state.x_res
    {
        y *= state.x_res / state.y_res;
    }
    Some(Point::new(x, y, t))
}

fn close(block: &mut Option<(bool, Vec<Point>)>, doc: &mut UnipenDoc, state: &mut State) {
    if let Some((down, points)) = block.take()
        && !points.is_empty()
    {
        let points: Vec<Point> = points.into_iter().filter(|p| p.x.is_finite()).collect();
        if let Some(last) = points.last() {
            let rate = state.points_per_second.max(1.0);
            state.t0 = last.t + 1000.0 / rate;
        }
        doc.components.push((down, points));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_segment_lines() {
        let s = segment(r#"WORD 3-5:7 GOOD "say \"hi\"""#).unwrap();
        assert_eq!(s.level, "WORD");
        assert_eq!(s.delineation, "3-5:7");
        assert_eq!(s.quality, "GOOD");
        assert_eq!(s.label, "say \"hi\"");
        let s = segment(r#"TEXT 0 "a b""#).unwrap();
        assert_eq!(s.quality, "?");
        assert!(segment("").is_none());
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn expands_includes_and_numbers_components() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("include/w")).unwrap();
        std::fs::create_dir_all(root.join("data/6/w")).unwrap();
        std::fs::write(
            root.join("include/w/pen.dat"),
            ".COORD X Y T\n.PEN_UP\n.PEN_DOWN\n0 0 0\n0 10 10\n.PEN_UP\n5 5 20\n.PEN_DOWN\n1 2 30\n3 4 40\n5 6 50\n",
        )
        .unwrap();
        let label = root.join("data/6/w/label");
        std::fs::write(
            &label,
            ".STYLE cursive\n.INCLUDE w/pen.dat\n.INCLUDE w/gone.dat\n.SEGMENT WORD 0-2:1 GOOD \"it\"\n",
        )
        .unwrap();
        let doc = UnipenDoc::read_file(&label).unwrap();
        assert_eq!(doc.style, "CURSIVE");
        assert_eq!(doc.missing, ["w/gone.dat"]);
        // The empty pen-up block is not a component.
        assert_eq!(doc.components.len(), 3);
        let ink = doc.ink(&doc.segments[0].delineation, true).unwrap();
        assert_eq!(ink.strokes.len(), 2);
        assert_eq!(ink.strokes[0][1], Point::new(0.0, -10.0, 10.0));
        assert_eq!(ink.strokes[1].len(), 2);
        assert!(doc.ink("7", true).is_none());
        assert!(doc.ink("x-1", true).is_none());
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn refuses_include_loops() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("loop");
        std::fs::write(&f, ".INCLUDE loop\n").unwrap();
        assert!(matches!(
            UnipenDoc::read(&f, dir.path()),
            Err(Error::Parse { .. })
        ));
    }
}
