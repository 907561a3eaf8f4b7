//! The patient file of `healthtwin risk --patient FILE`: the first byte picks the format
//! (even: `.toml`, odd: `.json`), the rest is the file. Parsed, validated and every equation
//! evaluated into the printed table; a table must not show NaN.
#![no_main]

use std::path::Path;

use healthtwin::risk;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let path = Path::new(if selector % 2 == 0 {
        "patient.toml"
    } else {
        "patient.json"
    });
    // `read_patient_file` reads the file as UTF-8 text first.
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let Ok(spec) = risk::parse_patient(text, path) else {
        return;
    };
    if let Ok(table) = risk::assess(&spec, &[]) {
        assert!(!table.contains("NaN"), "{table}");
    }
});
