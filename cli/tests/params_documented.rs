//! docs/parameters.md holds the table `healthtwin params` prints, verbatim.

use std::process::Command;

#[test]
fn the_parameter_table_in_the_docs_is_current() {
    let out = Command::new(env!("CARGO_BIN_EXE_healthtwin"))
        .arg("params")
        .output()
        .expect("run healthtwin params");
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.lines().count() > 150,
        "{} lines",
        table.lines().count()
    );
    for name in [
        "econ.cost.mi_acute_kyen",
        "ix.smoking_cessation.quit_rr",
        "dm.si.per_bmi",
    ] {
        assert!(table.contains(&format!("`{name}`")), "{name} missing");
    }
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/parameters.md"
    ))
    .expect("docs/parameters.md");
    assert!(
        doc.contains(&table),
        "docs/parameters.md differs from `healthtwin params`: regenerate it"
    );
}
