use nib_tests::{completion_cases, engine};

#[test]
fn completion_cases_hold() {
    let engine = engine();
    let mut failures = Vec::new();
    for case in completion_cases() {
        let shown: Vec<String> = engine
            .suggest(&case.lang, &case.context, &case.word, case.k)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name))
            .into_iter()
            .map(|s| s.text)
            .collect();
        let missing: Vec<_> = case.expect.iter().filter(|e| !shown.contains(e)).collect();
        let present: Vec<_> = case.absent.iter().filter(|a| shown.contains(a)).collect();
        let first_wrong = case.first.as_ref().filter(|f| shown.first() != Some(f));
        if !missing.is_empty() || !present.is_empty() || first_wrong.is_some() {
            failures.push(format!(
                "{} ({} {:?} + {:?}): got {shown:?}; missing {missing:?}, unwanted {present:?}, first {:?}",
                case.name, case.lang, case.context, case.word, case.first
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
