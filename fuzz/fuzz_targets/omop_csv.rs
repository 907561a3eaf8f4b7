//! An OMOP CDM folder (`cohort import --omop DIR`). The input is the folder: `person.csv`,
//! then further tables each after a line `=== NAME.csv` (`healthtwin_fuzz::folder_sections`),
//! so several tables of the same people meet in one import, and file names vary.
#![no_main]

use cohort::import::omop;
use healthtwin_fuzz::{folder_sections, folder_tokens, import_and_check, write_folder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let sections = folder_sections(data, "person.csv");
    let dir = write_folder("in", &sections);
    let tokens = folder_tokens(&sections);
    import_and_check(|imp| omop::read_dir(imp, &dir, 1), &tokens);
});
