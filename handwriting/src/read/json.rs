//! JSON ink: the shape of the typing log's `ink` event.
//!
//! ```json
//! {"strokes": [[[x, y, t], [x, y, t], ...], ...], "label": "optional"}
//! ```
//!
//! A bare array of strokes, and a whole `{"type": "ink", ...}` event, are
//! read too. `t` (milliseconds) may be left out (`[x, y]`: 0). `null`
//! stands for a missing (NaN) coordinate, as in the feature test vector; a
//! recogniser then refuses the ink, while the feature pipeline drops the
//! point.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::ink::{Ink, Point};

/// Ink and its label, if the document has one.
pub fn parse(text: &str, path: &Path) -> Result<(Ink, Option<String>)> {
    let fail = |line: usize, detail: String| Error::Parse {
        path: path.to_path_buf(),
        format: "JSON ink",
        line,
        detail,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| fail(e.line(), e.to_string()))?;
    let (strokes, label) = match &value {
        Value::Array(_) => (&value, None),
        Value::Object(map) => {
            let strokes = map
                .get("strokes")
                .ok_or_else(|| fail(0, "no \"strokes\"".into()))?;
            let label = match map.get("label").or_else(|| map.get("text")) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(fail(0, "\"label\" is not a string".into())),
            };
            (strokes, label)
        }
        _ => {
            return Err(fail(
                0,
                "expected an object with \"strokes\" or an array".into(),
            ));
        }
    };
    Ok((strokes_of(strokes).map_err(|d| fail(0, d))?, label))
}

/// The ink of a JSON array of strokes.
pub fn strokes_of(value: &Value) -> Result<Ink, String> {
    let strokes = value.as_array().ok_or("strokes are not an array")?;
    let mut out = Vec::with_capacity(strokes.len());
    for (i, s) in strokes.iter().enumerate() {
        let points = s
            .as_array()
            .ok_or_else(|| format!("stroke {i} is not an array"))?;
        let mut stroke = Vec::with_capacity(points.len());
        for (j, p) in points.iter().enumerate() {
            let bad = || format!("stroke {i}, point {j}: expected [x, y] or [x, y, t]");
            let values = p.as_array().ok_or_else(bad)?;
            if !(2..=3).contains(&values.len()) {
                return Err(bad());
            }
            let num = |v: &Value| match v {
                Value::Null => Ok(f64::NAN),
                Value::Number(n) => n.as_f64().ok_or_else(bad),
                _ => Err(bad()),
            };
            let t = values.get(2).map_or(Ok(0.0), num)?;
            stroke.push(Point::new(num(&values[0])?, num(&values[1])?, t));
        }
        out.push(stroke);
    }
    Ok(Ink::new(out))
}

/// JSON ink of `ink` (with `label` when given), as [`parse`] reads it.
pub fn to_json(ink: &Ink, label: Option<&str>) -> Value {
    let num = |v: f64| serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
    let strokes: Vec<Value> = ink
        .strokes
        .iter()
        .map(|s| {
            Value::Array(
                s.iter()
                    .map(|p| Value::Array(vec![num(p.x), num(p.y), num(p.t)]))
                    .collect(),
            )
        })
        .collect();
    let mut map = serde_json::Map::new();
    map.insert("strokes".into(), Value::Array(strokes));
    if let Some(label) = label {
        map.insert("label".into(), Value::String(label.into()));
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn reads_the_shapes_it_documents() {
        let p = Path::new("ink.json");
        let (ink, label) = parse(r#"{"strokes": [[[1, 2, 3], [4, 5]]], "label": "a"}"#, p).unwrap();
        assert_eq!(label.as_deref(), Some("a"));
        assert_eq!(ink.strokes[0][1], Point::new(4.0, 5.0, 0.0));
        let (ink, _) = parse(r#"{"type": "ink", "strokes": [[[1, null, 0]]]}"#, p).unwrap();
        assert!(ink.strokes[0][0].y.is_nan());
        let (ink, label) = parse("[[[0, 0, 0]], []]", p).unwrap();
        assert_eq!((ink.strokes.len(), label), (2, None));
        let back = to_json(&ink, Some("x")).to_string();
        assert_eq!(parse(&back, p).unwrap().0, ink);
    }

    #[test]
    fn reports_bad_documents() {
        let p = Path::new("ink.json");
        for bad in [
            "",
            "{}",
            "3",
            r#"{"strokes": 1}"#,
            r#"{"strokes": [[[1]]]}"#,
            r#"{"strokes": [[["a", 2]]]}"#,
            r#"{"strokes": [[[1, 2, 3, 4]]]}"#,
            r#"{"strokes": [], "label": 5}"#,
        ] {
            assert!(parse(bad, p).is_err(), "{bad}");
        }
    }
}
