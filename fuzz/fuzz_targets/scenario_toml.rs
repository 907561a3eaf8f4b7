//! A scenario file (`healthtwin run/compare SCENARIO.toml`): read and validated as the CLI
//! does (`scenarios::load`), then the model, programmes and PSA draws built from it. The
//! cohort is not generated (a fuzzed `n` would only measure the generator). An error must
//! point at a place inside the file.
#![no_main]

use healthtwin_fuzz::fresh_dir;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = fresh_dir("in").join("scenario.toml");
    std::fs::write(&path, data).unwrap();
    match scenarios::load(&path) {
        Ok(s) => {
            let _ = s.interventions(1000);
            let _ = s.draws();
            let _ = s.scale(1000);
            if let Err(e) = s.model(1000) {
                let _ = e.to_string();
            }
        }
        Err(e) => {
            let lines = data.split(|&b| b == b'\n').count();
            assert!(e.line <= lines, "error at line {} of {lines}: {e}", e.line);
            let _ = e.to_string();
        }
    }
});
