//! A cohort Parquet file (`healthtwin run --cohort people.parquet`, `cohort::file::read`).
//! Accepted values are plausible; an error's message never echoes text of the file.
//!
//! `cohort::file` contains panics of the parquet crate (damaged pages) with `catch_unwind`,
//! but libFuzzer's panic hook aborts before unwinding; here a panic located in the parquet
//! crate unwinds to that containment (each place is printed once), any other is a crash.
#![no_main]

use std::collections::HashSet;
use std::sync::{Mutex, Once};

use healthtwin_fuzz::fresh_dir;
use libfuzzer_sys::fuzz_target;

fn contain_parquet_panics() {
    static HOOK: Once = Once::new();
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let place = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()));
            match place {
                Some(p) if p.contains("/parquet-") => {
                    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
                    if seen.get_or_insert_with(HashSet::new).insert(p.clone()) {
                        eprintln!("contained parquet panic at {p}: {info}");
                    }
                }
                _ => abort(info),
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    contain_parquet_panics();
    let path = fresh_dir("in").join("people.parquet");
    std::fs::write(&path, data).unwrap();
    healthtwin_fuzz::check_cohort_file(&path, data);
});
