//! A plain-CSV folder (`cohort import --csv DIR`, docs/data.md). The input is the folder:
//! `persons.csv`, then `=== records.csv` and its text (`healthtwin_fuzz::folder_sections`).
#![no_main]

use cohort::import::plain;
use healthtwin_fuzz::{folder_sections, folder_tokens, import_and_check, write_folder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sections = folder_sections(data, "persons.csv");
    let dir = write_folder("in", &sections);
    let tokens = folder_tokens(&sections);
    import_and_check(|imp| plain::read_dir(imp, &dir, 1), &tokens);
});
