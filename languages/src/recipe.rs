//! What each language's pack is made of.

/// The writing system of a language, for cleaning the word list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// Latin letters (with diacritics).
    Latin,
    /// Cyrillic letters.
    Cyrillic,
}

/// How a pack is built for one language.
#[derive(Debug, Clone, Copy)]
pub struct Recipe {
    /// Language tag.
    pub language: &'static str,
    /// Name in English.
    pub name: &'static str,
    /// Script of its words.
    pub script: Script,
    /// The source with a cased word list, and the file inside it.
    pub case_list: (&'static str, &'static str),
    /// Single-letter words that are words (others are dropped as noise).
    pub one_letter_words: &'static [&'static str],
    /// Compound nouns take the case of their last part (German).
    pub compound_heads: bool,
    /// Elided clitics to combine with vowel-initial words (French).
    pub elisions: &'static [&'static str],
    /// Frequent vowel-initial words that take only some of the clitics
    /// (none: never elided before): "et" and "ou" never, "à" only "qu'",
    /// "il" only "s'" and "qu'".
    pub elision_hosts: &'static [(&'static str, &'static [&'static str])],
}

/// All languages nib ships.
pub const RECIPES: &[Recipe] = &[
    Recipe {
        language: "en",
        name: "English",
        script: Script::Latin,
        case_list: ("wamerican-huge", "usr/share/dict/american-english-huge"),
        one_letter_words: &["a", "i"],
        compound_heads: false,
        elisions: &[],
        elision_hosts: &[],
    },
    Recipe {
        language: "de",
        name: "German",
        script: Script::Latin,
        case_list: ("wngerman", "usr/share/dict/ngerman"),
        one_letter_words: &[],
        compound_heads: true,
        elisions: &[],
        elision_hosts: &[],
    },
    Recipe {
        language: "fr",
        name: "French",
        script: Script::Latin,
        case_list: ("wfrench", "usr/share/dict/french"),
        one_letter_words: &["a", "à", "y", "ô"],
        compound_heads: false,
        elisions: &["c", "d", "j", "l", "m", "n", "s", "t", "qu"],
        elision_hosts: &[
            ("et", &[]),
            ("ou", &[]),
            ("où", &["d"]),
            ("à", &["qu"]),
            ("au", &["qu"]),
            ("aux", &["qu"]),
            ("il", &["s", "qu"]),
            ("ils", &["s", "qu"]),
            ("elle", &["d", "qu"]),
            ("elles", &["d", "qu"]),
            ("on", &["l", "qu"]),
            ("un", &["d", "l", "qu"]),
            ("être", &["d", "l", "m", "n", "s", "t", "qu"]),
            ("une", &["d", "l", "qu"]),
        ],
    },
    Recipe {
        language: "es",
        name: "Spanish",
        script: Script::Latin,
        case_list: ("wspanish", "usr/share/dict/spanish"),
        one_letter_words: &["a", "e", "o", "u", "y"],
        compound_heads: false,
        elisions: &[],
        elision_hosts: &[],
    },
    Recipe {
        language: "it",
        name: "Italian",
        script: Script::Latin,
        case_list: ("witalian", "usr/share/dict/italian"),
        one_letter_words: &["a", "e", "i", "o", "è"],
        compound_heads: false,
        elisions: &[],
        elision_hosts: &[],
    },
    Recipe {
        language: "pt",
        name: "Portuguese",
        script: Script::Latin,
        case_list: ("wportuguese", "usr/share/dict/portuguese"),
        one_letter_words: &["a", "e", "o", "é", "à"],
        compound_heads: false,
        elisions: &[],
        elision_hosts: &[],
    },
    Recipe {
        language: "ru",
        name: "Russian",
        script: Script::Cyrillic,
        case_list: ("hunspell-ru", "ru_RU.words"),
        one_letter_words: &["а", "в", "и", "к", "о", "с", "у", "я"],
        compound_heads: false,
        elisions: &[],
        elision_hosts: &[],
    },
];

/// The recipe for `language`.
pub fn recipe(language: &str) -> Option<&'static Recipe> {
    RECIPES.iter().find(|r| r.language == language)
}
