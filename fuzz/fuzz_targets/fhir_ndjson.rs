//! FHIR R4 Bulk Data NDJSON (`cohort import --fhir x.ndjson`): the input is one file.
#![no_main]

use cohort::import::fhir;
use healthtwin_fuzz::{fresh_dir, import_and_check, json_tokens, Tokens};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = fresh_dir("in").join("Observation.ndjson");
    std::fs::write(&path, data).unwrap();
    let mut tokens = Tokens::default();
    for line in data.split(|&b| b == b'\n') {
        json_tokens(line, &mut tokens);
    }
    import_and_check(|imp| fhir::read_ndjson(imp, &path, 1), &tokens);
});
