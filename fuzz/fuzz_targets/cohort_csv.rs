//! A cohort CSV file (`healthtwin run --cohort people.csv`, `cohort::file::read`). Accepted
//! values are plausible; an error's message never echoes text of the file.
#![no_main]

use healthtwin_fuzz::fresh_dir;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = fresh_dir("in").join("people.csv");
    std::fs::write(&path, data).unwrap();
    healthtwin_fuzz::check_cohort_file(&path, data);
});
