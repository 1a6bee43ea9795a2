//! InkML (W3C): `<trace>` elements of comma-separated points, each point
//! whitespace-separated channel values.
//!
//! The channels come from the document's first `<traceFormat>` (default X,
//! Y); `T` is read when present. Values may carry InkML's difference
//! prefixes: `!` explicit, `'` first difference (velocity), `"` second
//! difference (acceleration); a prefix stays in force for the following
//! values of the channel until another appears. Traces are taken in
//! document order whatever `<traceGroup>`s hold them; the first
//! `<annotation type="truth">` (or `type="label"`) is the label.

use std::path::Path;

use crate::error::{Error, Result};
use crate::ink::{Ink, Point};

/// Ink and its label, if the document has one.
pub fn parse(text: &str, path: &Path) -> Result<(Ink, Option<String>)> {
    let fail = |line: usize, detail: String| Error::Parse {
        path: path.to_path_buf(),
        format: "InkML",
        line,
        detail,
    };
    let doc =
        roxmltree::Document::parse(text).map_err(|e| fail(e.pos().row as usize, e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "ink" {
        return Err(fail(
            1,
            format!("root element <{}>, expected <ink>", root.tag_name().name()),
        ));
    }
    let mut channels: Vec<String> = vec!["X".into(), "Y".into()];
    if let Some(format) = root.descendants().find(|n| n.has_tag_name("traceFormat")) {
        let names: Vec<String> = format
            .descendants()
            .filter(|n| n.has_tag_name("channel"))
            .filter_map(|n| n.attribute("name").map(str::to_uppercase))
            .collect();
        if !names.is_empty() {
            channels = names;
        }
    }
    let index = |name: &str| channels.iter().position(|c| c == name);
    let (Some(ix), Some(iy)) = (index("X"), index("Y")) else {
        return Err(fail(1, "the trace format has no X or Y channel".into()));
    };
    let it = index("T");
    let mut strokes = Vec::new();
    for trace in root.descendants().filter(|n| n.has_tag_name("trace")) {
        let line = doc.text_pos_at(trace.range().start).row as usize;
        let body: String = trace
            .children()
            .filter_map(|c| c.text())
            .collect::<Vec<_>>()
            .concat();
        let rows = trace_values(&body, channels.len()).map_err(|detail| fail(line, detail))?;
        strokes.push(
            rows.iter()
                .map(|r| Point::new(r[ix], r[iy], it.map_or(0.0, |i| r[i])))
                .collect(),
        );
    }
    let label = root
        .descendants()
        .find(|n| {
            n.has_tag_name("annotation")
                && matches!(n.attribute("type"), Some("truth") | Some("label"))
        })
        .and_then(|n| n.text())
        .map(|t| t.trim().to_owned());
    Ok((Ink::new(strokes), label))
}

/// How a value of a channel is written.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Explicit,
    First,
    Second,
}

/// The points of a trace body, `channels` values each (missing trailing
/// values repeat the previous point's).
fn trace_values(body: &str, channels: usize) -> Result<Vec<Vec<f64>>, String> {
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut modes = vec![Mode::Explicit; channels];
    let mut velocity = vec![0.0; channels];
    for point in body.split(',') {
        let tokens = split_values(point);
        if tokens.is_empty() {
            continue;
        }
        if tokens.len() > channels {
            return Err(format!(
                "a point has {} values for {channels} channels",
                tokens.len()
            ));
        }
        let previous = rows.last().cloned();
        let mut row = Vec::with_capacity(channels);
        for c in 0..channels {
            let Some(&(prefix, value)) = tokens.get(c) else {
                row.push(previous.as_ref().map_or(0.0, |p| p[c]));
                continue;
            };
            if let Some(m) = prefix {
                modes[c] = m;
            }
            let v: f64 = value
                .parse()
                .map_err(|_| format!("{value:?} is not a number"))?;
            let base = previous.as_ref().map_or(0.0, |p| p[c]);
            let x = match modes[c] {
                Mode::Explicit => {
                    velocity[c] = v - base;
                    v
                }
                Mode::First => {
                    velocity[c] = v;
                    base + v
                }
                Mode::Second => {
                    velocity[c] += v;
                    base + velocity[c]
                }
            };
            row.push(x);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The values of one point with their difference prefixes. InkML allows
/// values without spaces between them when a prefix or sign separates
/// them (`'1'-2`); they are split there.
fn split_values(point: &str) -> Vec<(Option<Mode>, &str)> {
    let mut out = Vec::new();
    let bytes = point.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let mode = match b {
            b'!' => Some(Mode::Explicit),
            b'\'' => Some(Mode::First),
            b'"' => Some(Mode::Second),
            _ => None,
        };
        if mode.is_some() {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
        }
        let start = i;
        while i < bytes.len() {
            let c = bytes[i];
            let sign_starts_next =
                (c == b'-' || c == b'+') && i > start && !matches!(bytes[i - 1], b'e' | b'E');
            if c.is_ascii_whitespace() || matches!(c, b'!' | b'\'' | b'"') || sign_starts_next {
                break;
            }
            i += 1;
        }
        if i > start {
            out.push((mode, &point[start..i]));
        } else if mode.is_none() {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn reads_traces_formats_and_differences() {
        let text = r#"<ink xmlns="http://www.w3.org/2003/InkML">
          <traceFormat><channel name="X"/><channel name="Y"/><channel name="T"/></traceFormat>
          <annotation type="truth">hi</annotation>
          <trace>10 0 0, 10 5 10, 10 10 20</trace>
          <traceGroup><trace>0 0 30, '1 '1 '5, '1 '1 '5, "0 "1 "0</trace></traceGroup>
        </ink>"#;
        let (ink, label) = parse(text, Path::new("t.inkml")).unwrap();
        assert_eq!(label.as_deref(), Some("hi"));
        assert_eq!(ink.strokes.len(), 2);
        assert_eq!(ink.strokes[0][2], Point::new(10.0, 10.0, 20.0));
        let s = &ink.strokes[1];
        assert_eq!(s[1], Point::new(1.0, 1.0, 35.0));
        assert_eq!(s[2], Point::new(2.0, 2.0, 40.0));
        assert_eq!(s[3], Point::new(3.0, 4.0, 45.0));
    }

    #[test]
    fn reports_bad_documents() {
        let p = Path::new("t.inkml");
        assert!(parse("<ink><trace>1 x</trace></ink>", p).is_err());
        assert!(parse("<svg/>", p).is_err());
        assert!(parse("<ink><trace>1 2 3 4</trace></ink>", p).is_err());
        assert!(parse("not xml", p).is_err());
    }
}
