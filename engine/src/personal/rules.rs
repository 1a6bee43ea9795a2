//! What is never learned, whatever the field: strings that look like
//! secrets or addresses.
//!
//! Each rule is a plain function of the committed word so that it can be
//! tested on its own; [`secret_kind`] names the first rule a word breaks.

/// Digit runs this long or longer are never learned (phone numbers, codes,
/// account numbers).
pub const MAX_DIGITS: usize = 5;

/// Why a word is refused, if it is.
pub fn secret_kind(word: &str) -> Option<&'static str> {
    if is_card_number(word) {
        return Some("a payment card number");
    }
    if longest_digit_run(word) >= MAX_DIGITS {
        return Some("a long digit string");
    }
    if looks_like_email(word) {
        return Some("an e-mail address");
    }
    if looks_like_api_key(word) {
        return Some("something shaped like an API key or token");
    }
    if looks_like_password(word) {
        return Some("something shaped like a password");
    }
    None
}

/// The longest run of consecutive digits.
pub fn longest_digit_run(word: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    for c in word.chars() {
        if c.is_ascii_digit() {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// 13 to 19 digits (spaces and dashes allowed between them) that pass the
/// Luhn check.
pub fn is_card_number(word: &str) -> bool {
    if !word
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        return false;
    }
    let digits: Vec<u32> = word.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if !i.is_multiple_of(2) {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// `local@domain.tld`.
pub fn looks_like_email(word: &str) -> bool {
    let Some((local, domain)) = word.split_once('@') else {
        return false;
    };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
}

/// Twenty or more characters of letters, digits and `-_` mixing digits
/// with letters, or a well-known key prefix.
pub fn looks_like_api_key(word: &str) -> bool {
    const PREFIXES: [&str; 6] = ["sk-", "sk_", "pk_", "ghp_", "AKIA", "xox"];
    if PREFIXES.iter().any(|p| word.starts_with(p)) && word.len() >= 12 {
        return true;
    }
    word.len() >= 20
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && word.chars().any(|c| c.is_ascii_digit())
        && word.chars().any(|c| c.is_ascii_alphabetic())
}

/// At least eight characters with three of: lower case, upper case, digits,
/// symbols (other than the apostrophes and hyphens of words).
pub fn looks_like_password(word: &str) -> bool {
    if word.chars().count() < 8 {
        return false;
    }
    let lower = word.chars().any(char::is_lowercase);
    let upper = word.chars().any(char::is_uppercase);
    let digit = word.chars().any(|c| c.is_ascii_digit());
    let symbol = word
        .chars()
        .any(|c| !c.is_alphanumeric() && !matches!(c, '\'' | '’' | '-'));
    [lower, upper, digit, symbol].iter().filter(|&&b| b).count() >= 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_pass_luhn() {
        assert!(is_card_number("4111111111111111"));
        assert!(is_card_number("4111 1111 1111 1111"));
        assert!(is_card_number("5500-0000-0000-0004"));
        assert!(!is_card_number("4111111111111112"));
        assert!(!is_card_number("1234"));
        assert_eq!(
            secret_kind("4111111111111111"),
            Some("a payment card number")
        );
    }

    #[test]
    fn secrets_are_recognised_and_words_are_not() {
        for secret in [
            "0612345678",
            "PIN92817",
            "alice@example.com",
            "sk-abc123def456ghi789",
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "Tr0ub4dor&3",
            "correcthorse9!",
        ] {
            assert!(secret_kind(secret).is_some(), "{secret}");
        }
        for word in [
            "Nadège",
            "Wojciech",
            "don't",
            "well-being",
            "McDonald's",
            "2024",
            "Schwarzwälder-Kirschtorte",
            "R2D2",
        ] {
            assert_eq!(secret_kind(word), None, "{word}");
        }
    }
}
