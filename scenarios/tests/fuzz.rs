//! The parser never panics: random bytes, and valid library files with random edits.

use std::path::Path;

use proptest::prelude::*;

fn library() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("library");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn every_library_file_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("library");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        // Municipal plan files (`*_plan.toml`) live beside the scenarios.
        if p.to_string_lossy().ends_with("_plan.toml") {
            scenarios::plan::load(&p).unwrap_or_else(|e| panic!("{e}"));
            continue;
        }
        let plan = scenarios::load(&p).unwrap_or_else(|e| panic!("{e}"));
        plan.model(1000).unwrap();
        n += 1;
    }
    assert_eq!(n, 5);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = scenarios::parse(&text, Path::new("r.toml"));
    }

    #[test]
    fn mutated_library_files_never_panic(
        file in 0usize..5,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<char>()), 1..6),
    ) {
        let files = library();
        let mut chars: Vec<char> = files[file].chars().collect();
        for (at, op, c) in edits {
            if chars.is_empty() { break; }
            let i = at.index(chars.len());
            match op {
                0 => { chars.remove(i); }
                1 => chars.insert(i, c),
                2 => chars[i] = c,
                // Digits are where range checks live.
                _ => chars[i] = char::from(b'0' + (u32::from(c) % 10) as u8),
            }
        }
        let text: String = chars.into_iter().collect();
        if let Err(e) = scenarios::parse(&text, Path::new("m.toml")) {
            prop_assert!(e.to_string().starts_with("m.toml"));
        }
    }
}
