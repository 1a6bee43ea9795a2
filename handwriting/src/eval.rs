//! Error rates of recognised text against labels: character error rate
//! (edit distance over reference characters) and word accuracy (the whole
//! label matched exactly), as the model card reports them.

/// Levenshtein distance between the characters of `a` and `b`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Counts behind CER, word accuracy and top-k accuracy; they add up
/// across samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorCounts {
    /// Samples.
    pub samples: usize,
    /// Characters of the labels.
    pub chars: usize,
    /// Edit distance of the best candidate to the label, summed.
    pub char_errors: usize,
    /// Samples whose best candidate is the label.
    pub correct: usize,
    /// Samples whose label is among the first three candidates.
    pub top3: usize,
}

impl ErrorCounts {
    /// Adds one sample: its label and its candidates, best first.
    pub fn add(&mut self, label: &str, candidates: &[&str]) {
        let best = candidates.first().copied().unwrap_or("");
        self.samples += 1;
        self.chars += label.chars().count();
        self.char_errors += edit_distance(label, best);
        self.correct += usize::from(best == label);
        self.top3 += usize::from(candidates.iter().take(3).any(|c| *c == label));
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: &ErrorCounts) {
        self.samples += other.samples;
        self.chars += other.chars;
        self.char_errors += other.char_errors;
        self.correct += other.correct;
        self.top3 += other.top3;
    }

    /// Character error rate.
    pub fn cer(&self) -> f64 {
        self.char_errors as f64 / self.chars.max(1) as f64
    }

    /// Word (whole-label) error rate: 1 − accuracy.
    pub fn wer(&self) -> f64 {
        1.0 - self.accuracy()
    }

    /// Whole-label accuracy of the best candidate.
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.samples.max(1) as f64
    }

    /// Whole-label accuracy within the first three candidates.
    pub fn top3_accuracy(&self) -> f64 {
        self.top3 as f64 / self.samples.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("é", "e"), 1);
        let mut c = ErrorCounts::default();
        c.add("the", &["then", "the"]);
        c.add("cat", &["cat"]);
        assert_eq!((c.char_errors, c.correct, c.top3), (1, 1, 2));
        assert!((c.cer() - 1.0 / 6.0).abs() < 1e-12);
    }
}
