//! Replay results as a JSON summary, a text summary and a self-contained
//! HTML report with plots (drawn with plotters as inline SVG).
//!
//! Everything in the summary except its `timing` object is a function of the
//! logs, the packs and the model: the same replay gives the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use nib_engine::typing::{LatencyHistogram, Metrics, Tally};
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use serde_json::{Value, json};

use crate::typing::Partial;
use nib_engine::memory::Memory;

/// The summary's format version.
const SUMMARY_VERSION: u32 = 1;

fn metrics_json(m: &Metrics) -> Value {
    json!({
        "ksr": m.ksr(),
        "word_accuracy": m.word_accuracy(),
        "false_correction_rate": m.false_correction_rate(),
        "fix_rate": m.fix_rate(),
        "next_word_top1": m.next_word_top1_accuracy(),
        "next_word_top3": m.next_word_top3_accuracy(),
        "counts": m,
    })
}

fn latency_json(h: &LatencyHistogram) -> Value {
    let us = |ns: u64| ns as f64 / 1000.0;
    json!({
        "count": h.count(),
        "p50_us": us(h.quantile(0.5)),
        "p95_us": us(h.quantile(0.95)),
        "p99_us": us(h.quantile(0.99)),
        "max_us": us(h.max()),
        "mean_us": h.mean() / 1000.0,
    })
}

/// The JSON summary of a replay (`wall`: its wall-clock seconds, unknown
/// after a merge).
pub fn summary(partial: &Partial, wall: Option<f64>) -> Value {
    let t = &partial.tally;
    let group = |m: &BTreeMap<String, Metrics>| -> Value {
        m.iter()
            .map(|(k, v)| (k.clone(), metrics_json(v)))
            .collect()
    };
    let by_length: serde_json::Map<String, Value> = t
        .by_word_length
        .iter()
        .map(|(k, v)| (k.to_string(), metrics_json(v)))
        .collect();
    let latency: serde_json::Map<String, Value> = t
        .latency
        .iter()
        .map(|(k, v)| (k.clone(), latency_json(v)))
        .collect();
    let busy = t.busy_nanos as f64 / 1e9;
    let timed: u64 = t.latency.values().map(LatencyHistogram::count).sum();
    let taps = t.latency.get("tap").map_or(0, LatencyHistogram::count);
    json!({
        "format": "nib-replay-summary",
        "version": SUMMARY_VERSION,
        "k": partial.k,
        "neural": partial.neural,
        "corrector": partial.corrector,
        "logs": t.logs,
        "sessions": t.sessions,
        "events": t.events,
        "event_count": t.event_count(),
        "problems": t.problems,
        "problem_count": t.problem_count(),
        "problem_examples": t.examples,
        "skipped_events": t.skipped_events,
        "unmeasured_words": t.unmeasured_words,
        "handwriting": t.ink.iter().map(|(language, c)| (language.clone(), json!({
            "words": c.words, "correct": c.correct, "word_accuracy": c.accuracy(),
        }))).collect::<serde_json::Map<String, Value>>(),
        "overall": metrics_json(&t.overall),
        "by_language": group(&t.by_language),
        "by_noise": group(&t.by_noise),
        "by_language_noise": group(&t.by_language_noise),
        "by_word_length": by_length,
        "timing": {
            "latency": latency,
            "busy_seconds": busy,
            "events_per_busy_second": if busy > 0.0 { timed as f64 / busy } else { 0.0 },
            "taps_per_busy_second": if busy > 0.0 { taps as f64 / busy } else { 0.0 },
            "wall_seconds": wall,
            "events_per_wall_second": wall.filter(|w| *w > 0.0).map(|w| t.event_count() as f64 / w),
        },
    })
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

/// A plain-text summary for the terminal.
pub fn text(partial: &Partial, summary: &Value) -> String {
    let t = &partial.tally;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "replayed {} logs, {} sessions, {} events (k = {}, neural model: {}, corrector: {})",
        t.logs,
        t.sessions,
        t.event_count(),
        partial.k,
        partial.neural,
        partial.corrector
    );
    if t.problem_count() > 0 || t.skipped_events > 0 {
        let kinds: Vec<String> = t.problems.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(
            out,
            "problems: {} ({}), events skipped with their session: {}",
            t.problem_count(),
            kinds.join(", "),
            t.skipped_events
        );
    }
    let mut line = |name: &str, m: &Metrics| {
        let _ = writeln!(
            out,
            "{name:>8}: KSR {}, word accuracy {} ({} words), correct words changed {}, typos fixed {}, next word top-1 {} top-3 {}",
            pct(m.ksr()),
            pct(m.word_accuracy()),
            m.committed,
            pct(m.false_correction_rate()),
            pct(m.fix_rate()),
            pct(m.next_word_top1_accuracy()),
            pct(m.next_word_top3_accuracy())
        );
    };
    line("all", &t.overall);
    if t.by_language.len() > 1 {
        for (language, m) in &t.by_language {
            line(language, m);
        }
    }
    if t.by_noise.len() > 1 {
        for (noise, m) in &t.by_noise {
            line(&format!("σ {noise}"), m);
        }
    }
    for (language, c) in &t.ink {
        let _ = writeln!(
            out,
            "handwriting {language}: {} words written as ink, word accuracy {}",
            c.words,
            pct(c.accuracy())
        );
    }
    if t.unmeasured_words > 0 {
        let _ = writeln!(
            out,
            "not measured: {} words (swipe, pasted text, cursor moves, ink without a stroke model)",
            t.unmeasured_words
        );
    }
    for (kind, h) in &t.latency {
        let us = |q: f64| h.quantile(q) as f64 / 1000.0;
        let _ = writeln!(
            out,
            "{kind:>9} latency: {} events, p50 {:.1} µs, p95 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
            h.count(),
            us(0.5),
            us(0.95),
            us(0.99),
            h.max() as f64 / 1000.0
        );
    }
    let timing = &summary["timing"];
    let _ = write!(
        out,
        "throughput: {:.0} events per busy second",
        timing["events_per_busy_second"].as_f64().unwrap_or(0.0)
    );
    if let Some(wall) = timing["events_per_wall_second"].as_f64() {
        let _ = write!(out, ", {wall:.0} events per wall-clock second");
    }
    out.push('\n');
    if let Ok(memory) = serde_json::from_value::<Memory>(timing["memory"].clone()) {
        let _ = writeln!(out, "memory at the end: {memory}");
    }
    out
}

/// Chart colours, taken in turn (also the strokes of `nib ink-svg`).
pub(crate) const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

type Plot = std::result::Result<String, Box<dyn std::error::Error>>;

/// A named rate of the metrics, plotted as a percentage.
type Rate = (&'static str, fn(&Metrics) -> f64);

/// Latency distributions per event type: share of events per tenth of a
/// decade, on a log axis.
fn latency_plot(tally: &Tally) -> Plot {
    let mut series = Vec::new();
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for (kind, h) in &tally.latency {
        if h.count() == 0 {
            continue;
        }
        let mut bins: BTreeMap<i64, u64> = BTreeMap::new();
        for (ns, count) in h.buckets() {
            let us = (ns as f64 / 1000.0).max(0.01);
            *bins.entry((us.log10() * 10.0).floor() as i64).or_default() += count;
        }
        let total = h.count() as f64;
        let points: Vec<(f64, f64)> = bins
            .iter()
            .map(|(&bin, &count)| {
                let centre = 10f64.powf((bin as f64 + 0.5) / 10.0);
                lo = lo.min(centre);
                hi = hi.max(centre);
                (centre, 100.0 * count as f64 / total)
            })
            .collect();
        series.push((kind.clone(), points));
    }
    if series.is_empty() {
        return Ok(String::new());
    }
    let lo = 10f64.powf(lo.log10().floor());
    let hi = 10f64.powf(hi.log10().ceil().max(lo.log10() + 1.0));
    let top = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|&(_, y)| y))
        .fold(0.0, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 380)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Latency per event (event applied + suggestions)",
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((lo..hi).log_scale(), 0f64..(top * 1.1).max(1.0))?;
        chart
            .configure_mesh()
            .x_desc("latency (µs, log scale)")
            .y_desc("% of events of the type")
            .draw()?;
        for (i, (kind, points)) in series.into_iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))?
                .label(kind)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

/// Lines of rates against a numeric x.
fn rates_plot(title: &str, x_desc: &str, points: &[(f64, &Metrics)], rates: &[Rate]) -> Plot {
    if points.is_empty() {
        return Ok(String::new());
    }
    let x_lo = points.iter().map(|p| p.0).fold(f64::MAX, f64::min);
    let x_hi = points.iter().map(|p| p.0).fold(f64::MIN, f64::max);
    let pad = ((x_hi - x_lo) * 0.05).max(0.05);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 380)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((x_lo - pad)..(x_hi + pad), 0f64..100f64)?;
        chart.configure_mesh().x_desc(x_desc).y_desc("%").draw()?;
        for (i, (name, rate)) in rates.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let series: Vec<(f64, f64)> =
                points.iter().map(|(x, m)| (*x, 100.0 * rate(m))).collect();
            chart
                .draw_series(LineSeries::new(series.clone(), colour.stroke_width(2)))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
            chart.draw_series(
                series
                    .into_iter()
                    .map(|(x, y)| Circle::new((x, y), 3, colour.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

/// Grouped bars of rates per language.
fn language_plot(tally: &Tally, rates: &[Rate]) -> Plot {
    let languages: Vec<(&String, &Metrics)> = tally.by_language.iter().collect();
    if languages.is_empty() {
        return Ok(String::new());
    }
    let slots = rates.len() as i32 + 1;
    let n = languages.len() as i32 * slots;
    let names: Vec<String> = languages.iter().map(|(l, _)| (*l).clone()).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 380)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("By language", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((0..n).into_segmented(), 0f64..100f64)?;
        let label = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) if i % slots == slots / 2 => {
                names.get((i / slots) as usize).cloned().unwrap_or_default()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n as usize)
            .x_label_formatter(&label)
            .y_desc("%")
            .draw()?;
        for (j, (name, rate)) in rates.iter().enumerate() {
            let colour = COLOURS[j % COLOURS.len()];
            chart
                .draw_series(languages.iter().enumerate().map(|(i, (_, m))| {
                    let x = i as i32 * slots + j as i32;
                    Rectangle::new(
                        [
                            (SegmentValue::Exact(x), 0.0),
                            (SegmentValue::Exact(x + 1), 100.0 * rate(m)),
                        ],
                        colour.filled(),
                    )
                }))?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

const RATES: [Rate; 3] = [
    ("word accuracy", Metrics::word_accuracy),
    ("KSR", Metrics::ksr),
    ("next-word top-3", Metrics::next_word_top3_accuracy),
];

fn escape(text: &str) -> String {
    html_escape::encode_text(text).into_owned()
}

fn metrics_row(name: &str, m: &Metrics) -> String {
    format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        escape(name),
        m.words,
        pct(m.ksr()),
        pct(m.word_accuracy()),
        pct(m.false_correction_rate()),
        pct(m.fix_rate()),
        pct(m.next_word_top1_accuracy()),
        pct(m.next_word_top3_accuracy()),
        m.characters,
    )
}

fn metrics_table(rows: &[(String, &Metrics)]) -> String {
    let mut html = String::from(
        "<table><tr><th></th><th>words</th><th>KSR</th><th>word accuracy</th><th>correct words changed</th><th>typos fixed</th><th>next word top-1</th><th>top-3</th><th>characters</th></tr>\n",
    );
    for (name, m) in rows {
        html.push_str(&metrics_row(name, m));
    }
    html.push_str("</table>\n");
    html
}

/// Word accuracy and KSR with one row per language and one column per
/// noise level.
fn language_noise_table(t: &Tally) -> String {
    let mut html =
        String::from("<p>Word accuracy / KSR by language and tap noise:</p>\n<table><tr><th></th>");
    for noise in t.by_noise.keys() {
        let _ = write!(html, "<th>σ {}</th>", escape(noise));
    }
    html.push_str("</tr>\n");
    for language in t.by_language.keys() {
        let _ = write!(html, "<tr><td>{}</td>", escape(language));
        for noise in t.by_noise.keys() {
            match t.by_language_noise.get(&format!("{language} {noise}")) {
                Some(m) => {
                    let _ = write!(
                        html,
                        "<td>{} / {}</td>",
                        pct(m.word_accuracy()),
                        pct(m.ksr())
                    );
                }
                None => html.push_str("<td></td>"),
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    html
}

/// Mistakes listed in the HTML report.
const MISTAKES_SHOWN: usize = 50;

/// The self-contained HTML report.
pub fn html(
    partial: &Partial,
    summary: &Value,
) -> std::result::Result<String, Box<dyn std::error::Error>> {
    let t = &partial.tally;
    let mut html = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>nib replay report</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}figure{margin:1.5em 0}code{background:#f4f4f4}</style></head><body>\n<h1>nib replay report</h1>\n",
    );
    let _ = writeln!(
        html,
        "<p>{} logs, {} sessions, {} events; k = {}; neural model: {}; corrector: {}.</p>",
        t.logs,
        t.sessions,
        t.event_count(),
        partial.k,
        escape(&partial.neural),
        escape(&partial.corrector)
    );
    html.push_str("<h2>Accuracy</h2>\n");
    let mut rows = vec![("all".to_owned(), &t.overall)];
    rows.extend(t.by_language.iter().map(|(l, m)| (l.clone(), m)));
    html.push_str(&metrics_table(&rows));
    html.push_str(&format!("<figure>{}</figure>\n", language_plot(t, &RATES)?));
    html.push_str("<h2>By tap noise (σ, key widths)</h2>\n");
    let noise: Vec<(String, &Metrics)> = t
        .by_noise
        .iter()
        .map(|(k, m)| (format!("σ {k}"), m))
        .collect();
    html.push_str(&metrics_table(&noise));
    let numeric: Vec<(f64, &Metrics)> = t
        .by_noise
        .iter()
        .filter_map(|(k, m)| k.parse::<f64>().ok().map(|x| (x, m)))
        .collect();
    html.push_str(&format!(
        "<figure>{}</figure>\n",
        rates_plot("By tap noise", "σ (key widths)", &numeric, &RATES)?
    ));
    if t.by_language.len() > 1 && t.by_noise.len() > 1 {
        html.push_str(&language_noise_table(t));
    }
    html.push_str("<h2>By word length</h2>\n");
    let lengths: Vec<(f64, &Metrics)> = t
        .by_word_length
        .iter()
        .filter(|(l, _)| **l > 0)
        .map(|(l, m)| (f64::from(*l), m))
        .collect();
    html.push_str(&format!(
        "<figure>{}</figure>\n",
        rates_plot(
            "By word length",
            "characters (20 = 20 or more)",
            &lengths,
            &RATES
        )?
    ));
    html.push_str("<h2>Latency and throughput</h2>\n<table><tr><th>event</th><th>count</th><th>p50 µs</th><th>p95 µs</th><th>p99 µs</th><th>max µs</th></tr>\n");
    for (kind, h) in &t.latency {
        let us = |ns: u64| format!("{:.1}", ns as f64 / 1000.0);
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(kind),
            h.count(),
            us(h.quantile(0.5)),
            us(h.quantile(0.95)),
            us(h.quantile(0.99)),
            us(h.max())
        );
    }
    html.push_str("</table>\n");
    let timing = &summary["timing"];
    let _ = writeln!(
        html,
        "<p>{:.0} events per busy second of the engine{}.</p>",
        timing["events_per_busy_second"].as_f64().unwrap_or(0.0),
        timing["events_per_wall_second"]
            .as_f64()
            .map_or_else(String::new, |w| format!(", {w:.0} per wall-clock second"))
    );
    html.push_str(&format!("<figure>{}</figure>\n", latency_plot(t)?));
    html.push_str("<h2>Events and problems</h2>\n<table><tr><th>event</th><th>count</th></tr>\n");
    for (kind, n) in &t.events {
        let _ = writeln!(html, "<tr><td>{}</td><td>{n}</td></tr>", escape(kind));
    }
    html.push_str("</table>\n");
    let _ = writeln!(
        html,
        "<p>{} problems; {} events skipped with their session; {} words not measured (swipe, pasted text, cursor moves, ink without a stroke model).</p>",
        t.problem_count(),
        t.skipped_events,
        t.unmeasured_words
    );
    for (language, c) in &t.ink {
        let _ = writeln!(
            html,
            "<p>Handwriting ({}): {} words written as ink, word accuracy {}.</p>",
            escape(language),
            c.words,
            pct(c.accuracy())
        );
    }
    if !t.examples.is_empty() {
        html.push_str("<ul>\n");
        for example in &t.examples {
            let _ = writeln!(html, "<li><code>{}</code></li>", escape(example));
        }
        html.push_str("</ul>\n");
    }
    if !t.mistakes.is_empty() {
        let _ = writeln!(
            html,
            "<h2>Words that came out wrong</h2>\n<p>The first {} of the typed words whose committed result is not the intended word (all of them in <code>mistakes.jsonl</code>, at most {}).</p>",
            t.mistakes.len().min(MISTAKES_SHOWN),
            nib_engine::typing::replay::MAX_MISTAKES
        );
        html.push_str("<table><tr><th>language</th><th>noise</th><th>intended</th><th>typed</th><th>committed</th><th>kind</th><th>offered</th><th>why</th></tr>\n");
        for m in t.mistakes.iter().take(MISTAKES_SHOWN) {
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&m.language),
                escape(&m.noise),
                escape(&m.word),
                escape(&m.typed),
                escape(&m.committed),
                escape(&m.kind),
                escape(m.offered.as_deref().unwrap_or("")),
                escape(m.decision.as_deref().unwrap_or(""))
            );
        }
        html.push_str("</table>\n");
    }
    html.push_str("</body></html>\n");
    Ok(html)
}
