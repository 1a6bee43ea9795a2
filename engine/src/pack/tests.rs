use super::*;
use crate::layout::{Key, KeyKind};
use proptest::prelude::*;

pub(crate) fn sample_layout() -> Layout {
    let keys = "qwertyuiop"
        .chars()
        .enumerate()
        .map(|(i, c)| Key {
            kind: KeyKind::Letter,
            output: c.to_string(),
            x: i as f32 + 0.5,
            y: 0.5,
            width: 1.0,
            height: 1.0,
            alternates: vec![],
        })
        .collect();
    Layout {
        name: "test".into(),
        language: "en".into(),
        width: 10.0,
        height: 1.0,
        keys,
    }
}

pub(crate) fn sample_manifest() -> Manifest {
    Manifest {
        language: "en".into(),
        name: "English".into(),
        pack_version: "test".into(),
        words: 0,
        offensive_words: 0,
        pairs: 0,
        casing: "as given".into(),
        sources: vec![],
    }
}

fn spec(words: &[(&str, u16, bool)], pairs: Vec<(u32, u32, u32)>) -> PackSpec {
    PackSpec {
        manifest: sample_manifest(),
        layout: sample_layout(),
        words: words
            .iter()
            .map(|&(s, cost, offensive)| WordSpec {
                surface: s.into(),
                cost,
                offensive,
            })
            .collect(),
        pairs,
    }
}

fn load(spec: &PackSpec) -> LanguagePack {
    LanguagePack::from_bytes(Path::new("mem.nibpack"), encode(spec)).unwrap()
}

#[test]
fn stores_words_pairs_and_manifest() {
    let pack = load(&spec(
        &[
            ("the", 100, false),
            ("Paris", 400, false),
            ("café", 450, false),
            ("cafe", 600, false),
        ],
        vec![(0, 1, 5), (0, 2, 7)],
    ));
    assert_eq!(pack.word_count(), 4);
    assert_eq!(pack.manifest().words, 4);
    assert_eq!(pack.manifest().pairs, 2);
    let cafe: Vec<_> = pack.exact("cafe").map(|w| w.surface).collect();
    assert_eq!(cafe, ["café", "cafe"], "cheaper first within a key");
    let the = pack.lookup("The").unwrap();
    let (total, followers) = pack.followers(the).unwrap();
    assert_eq!(total, 12);
    let followers: Vec<_> = followers
        .map(|(id, n)| (pack.word(id).unwrap().surface, n))
        .collect();
    assert_eq!(followers, [("café", 7), ("Paris", 5)]);
    assert!(pack.followers(pack.lookup("paris").unwrap()).is_none());
}

#[test]
fn huge_pair_counts_keep_their_ratios() {
    let big = 3_000_000_000;
    let pack = load(&spec(
        &[
            ("to", 100, false),
            ("the", 100, false),
            ("thank", 300, false),
        ],
        vec![(0, 1, big), (0, 1, big), (0, 2, big / 10)],
    ));
    let (total, followers) = pack.followers(pack.lookup("to").unwrap()).unwrap();
    let counts: Vec<u32> = followers.map(|(_, n)| n).collect();
    let ratio = f64::from(counts[0]) / f64::from(total);
    assert!((ratio - 20.0 / 21.0).abs() < 1e-3, "{counts:?} of {total}");
    assert!((f64::from(counts[1]) / f64::from(total) - 1.0 / 21.0).abs() < 1e-3);
}

#[test]
fn heavy_prefixes_get_top_lists_without_offensive_words() {
    let words: Vec<(String, u16, bool)> = (0..400)
        .map(|i| (format!("a{i:03}"), (1000 - i) as u16, i == 399))
        .collect();
    let refs: Vec<(&str, u16, bool)> = words.iter().map(|(s, c, o)| (s.as_str(), *c, *o)).collect();
    let pack = load(&spec(&refs, vec![]));
    let top: Vec<_> = pack.top_words("a").unwrap().map(|w| w.surface).collect();
    assert_eq!(top.len(), TOP_PER_PREFIX);
    assert_eq!(top[0], "a398", "the offensive a399 is left out");
    assert!(pack.top_words("a39").is_none(), "ten words is not heavy");
    let mut seen = vec![];
    assert!(!pack.for_each_with_prefix("a39", 100, |w| seen.push(w.surface.to_owned())));
    assert_eq!(seen.len(), 10);
    assert!(
        pack.for_each_with_prefix("a", 5, |_| {}),
        "stops at the limit"
    );
}

#[test]
fn corrupt_packs_are_typed_errors() {
    let bytes = encode(&spec(&[("word", 100, false)], vec![]));
    let path = Path::new("x.nibpack");
    for cut in [0, 7, 31, bytes.len() / 2, bytes.len() - 1] {
        let err = LanguagePack::from_bytes(path, bytes[..cut].to_vec()).unwrap_err();
        assert!(err.to_string().contains("x.nibpack"), "{err}");
    }
    let mut flipped = bytes.clone();
    let at = flipped.len() - 3;
    flipped[at] ^= 0x40;
    assert!(LanguagePack::from_bytes(path, flipped).is_err());
}

proptest! {
    #[test]
    fn encode_decode_round_trip(
        words in proptest::collection::btree_map("[a-zé']{1,8}", (0u16..900, any::<bool>()), 1..60),
        pair_seed in proptest::collection::vec((0u32..60, 0u32..60, 1u32..50), 0..40),
    ) {
        let words: Vec<(String, u16, bool)> =
            words.into_iter().map(|(s, (c, o))| (s, c, o)).collect();
        let refs: Vec<(&str, u16, bool)> = words.iter().map(|(s, c, o)| (s.as_str(), *c, *o)).collect();
        let n = refs.len() as u32;
        let pairs: Vec<_> = pair_seed.into_iter().filter(|p| p.0 < n && p.1 < n).collect();
        let spec = spec(&refs, pairs);
        let pack = load(&spec);
        let keyed: Vec<_> = words.iter().filter(|(s, _, _)| !fold(s).is_empty()).collect();
        prop_assert_eq!(pack.word_count() as usize, keyed.len());
        for (surface, cost, offensive) in keyed {
            let found = pack.exact(&fold(surface)).find(|w| w.surface == surface);
            let found = found.expect("every word is stored under its folded key");
            prop_assert_eq!(found.cost, *cost);
            prop_assert_eq!(found.offensive, *offensive);
        }
    }
}

fn sample_spec() -> PackSpec {
    let mut words: Vec<(String, u16, bool)> = (0..300)
        .map(|i| (format!("w{i:03}"), (100 + i) as u16, i % 50 == 0))
        .collect();
    words.extend(
        [
            ("the", 50, false),
            ("café", 60, false),
            ("Paris", 70, false),
        ]
        .map(|(s, c, o)| (s.to_string(), c, o)),
    );
    let refs: Vec<(&str, u16, bool)> = words.iter().map(|(s, c, o)| (s.as_str(), *c, *o)).collect();
    spec(&refs, (0..100).map(|i| (300, i, 100 - i)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// A pack whose sections were damaged and whose checksums were then
    /// recomputed, as an attacker or a buggy builder could write it, loads
    /// with a typed error or answers every read without panicking.
    #[test]
    fn crafted_packs_never_panic(
        section in 0usize..9,
        at in any::<proptest::sample::Index>(),
        garbage in proptest::collection::vec(any::<u8>(), 1..24),
        cut in proptest::option::of(any::<proptest::sample::Index>()),
    ) {
        let good = encode(&sample_spec());
        let path = Path::new("crafted.nibpack");
        let container = Container::parse(path, &good).unwrap();
        let mut writer = ContainerWriter::new();
        for (i, (tag, _)) in container.sections().enumerate() {
            let mut data = good[container.get(tag).unwrap()].to_vec();
            if i == section && !data.is_empty() {
                let start = at.index(data.len());
                for (j, b) in garbage.iter().enumerate() {
                    if let Some(slot) = data.get_mut(start + j) {
                        *slot = *b;
                    }
                }
                if let Some(cut) = &cut {
                    data.truncate(cut.index(data.len()));
                }
            }
            writer.section(tag, data);
        }
        if let Ok(pack) = LanguagePack::from_bytes(path, writer.finish()) {
            for id in 0..pack.word_count() + 2 {
                let _ = pack.word(WordId(id));
                let _ = pack.followers(WordId(id)).map(|(_, f)| f.count());
            }
            let _ = pack.lookup("the");
            let _ = pack.top_words("").map(|t| t.count());
            let _ = pack.top_words("w").map(|t| t.count());
            pack.for_each_with_prefix("", 10_000, |_| {});
            let config = crate::engine::Config::default();
            for (context, typed) in [("the ", ""), ("", "w0"), ("so ", "caf"), ("", "zz")] {
                let _ = crate::suggest::suggest(&pack, None, &config, context, typed, 5);
            }
        }
    }
}

#[test]
fn lexicon_walk_reaches_every_surface_of_a_key() {
    let pack = load(&spec(
        &[
            ("cafe", 300, false),
            ("café", 250, false),
            ("car", 200, false),
            ("don't", 100, false),
        ],
        vec![],
    ));
    let root = pack.lexicon_root();
    assert_eq!(pack.lexicon_words(root).count(), 0);
    let ca = pack.lexicon_next(root, "ca").unwrap();
    assert_eq!(pack.lexicon_words(ca).count(), 0);
    let mut cafe: Vec<_> = pack
        .lexicon_words(pack.lexicon_next(ca, "fe").unwrap())
        .map(|w| w.surface)
        .collect();
    cafe.sort();
    assert_eq!(cafe, ["cafe", "café"]);
    let car = pack.lexicon_next(ca, "r").unwrap();
    assert_eq!(pack.lexicon_words(car).next().unwrap().surface, "car");
    assert!(pack.lexicon_next(car, "s").is_none());
    assert!(pack.lexicon_next(ca, "x").is_none());
    assert_eq!(pack.lexicon_next(ca, ""), Some(ca));
    let dont = pack.lexicon_next(root, "dont").unwrap();
    assert_eq!(pack.lexicon_words(dont).next().unwrap().surface, "don't");
}
