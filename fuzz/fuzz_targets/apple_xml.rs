//! An Apple Health `export.xml` (`cohort import --apple export.xml --apple-id ID`): the
//! person's raw id must never be echoed. (Without `--apple-id` the id is the file stem,
//! which the report names as part of the file, so it is given here.)
#![no_main]

use cohort::import::apple;
use healthtwin_fuzz::{fresh_dir, import_and_check, Tokens};
use libfuzzer_sys::fuzz_target;

const RAW_ID: &str = "export7person";

fuzz_target!(|data: &[u8]| {
    let path = fresh_dir("in").join("export.xml");
    std::fs::write(&path, data).unwrap();
    let mut tokens = Tokens::default();
    tokens.private(RAW_ID);
    tokens.public(&String::from_utf8_lossy(data));
    import_and_check(
        |imp| apple::read_file(imp, &path, 1, apple::ApplePerson::Id(RAW_ID)),
        &tokens,
    );
});
