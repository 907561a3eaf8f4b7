//! A FHIR R4 Bundle (`cohort import --fhir x.json`): the input is one file.
#![no_main]

use cohort::import::fhir;
use healthtwin_fuzz::{fresh_dir, import_and_check, json_tokens, Tokens};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = fresh_dir("in").join("bundle.json");
    std::fs::write(&path, data).unwrap();
    let mut tokens = Tokens::default();
    json_tokens(data, &mut tokens);
    import_and_check(|imp| fhir::read_bundle(imp, &path, 1), &tokens);
});
