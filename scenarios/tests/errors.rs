//! Every kind of mistake in a scenario file is refused with its file, key path and line.
#![allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)

use std::path::Path;

use scenarios::{parse, ScenarioError};

fn err(text: &str) -> ScenarioError {
    parse(text, Path::new("s.toml")).expect_err("must be refused")
}

const OK: &str = r#"name = "t"
years = 10

[population]
n = 100

[parameters]
"mortality.background.hazard_ratio" = 1.1

[[intervention]]
name = "a"
type = "statin"
uptake = 0.5
start_year = 1
stop_year = 5
capacity_per_year = 10
cost_per_participant_year_yen = 1000
cost_source = "[A] test"

[intervention.eligibility]
ldl_mg_dl = { min = 140.0 }
"#;

#[test]
fn the_valid_file_parses() {
    let p = parse(OK, Path::new("s.toml")).unwrap();
    assert_eq!(p.years, 10);
    assert_eq!(p.discount_rate, 0.02);
    assert_eq!(p.programmes[0].spec.capacity_per_year, Some(10));
    assert_eq!(
        p.parameters,
        vec![("mortality.background.hazard_ratio".into(), 1.1)]
    );
    p.model(100).unwrap();
}

fn check(text: &str, line: usize, key: &str, words: &[&str]) {
    let e = err(text);
    assert_eq!(e.file, "s.toml");
    assert_eq!(e.line, line, "{e}");
    assert_eq!(e.key, key, "{e}");
    for w in words {
        assert!(e.message.contains(w), "`{w}` not in: {e}");
    }
    assert!(e.to_string().starts_with(&format!("s.toml:{line}:")), "{e}");
}

#[test]
fn mistyped_key() {
    check(
        &OK.replace("uptake", "uptak"),
        13,
        "intervention[0].uptak",
        &["unknown field", "uptake"],
    );
    check(
        &OK.replace("years = 10", "yeers = 10"),
        2,
        "yeers",
        &["unknown field"],
    );
}

#[test]
fn unknown_intervention_type_lists_the_valid_ones() {
    check(
        &OK.replace("\"statin\"", "\"statins\""),
        12,
        "intervention[0].type",
        &[
            "statins",
            "`statin`",
            "`community_salon`",
            "`smoking_cessation`",
        ],
    );
}

#[test]
fn out_of_range_and_impossible_values() {
    check(
        &OK.replace("uptake = 0.5", "uptake = 1.2"),
        13,
        "intervention[0].uptake",
        &["1.2"],
    );
    check(
        &OK.replace("stop_year = 5", "stop_year = 1"),
        15,
        "intervention[0].stop_year",
        &["not after start_year"],
    );
    check(
        &OK.replace("capacity_per_year = 10", "capacity_per_year = -3"),
        16,
        "intervention[0].capacity_per_year",
        &["below zero"],
    );
    check(
        &OK.replace("years = 10", "years = 0"),
        2,
        "years",
        &["outside"],
    );
    check(
        &OK.replace(
            "[population]\nn = 100",
            "[population]\nn = 100\nage_min = 70\nage_max = 60",
        ),
        7,
        "population.age_max",
        &["below age_min"],
    );
    check(
        &OK.replace("{ min = 140.0 }", "{ min = 140.0, max = 100.0 }"),
        21,
        "intervention[0].eligibility.ldl_mg_dl",
        &["above max"],
    );
    // Eligibility takes the population filter's keys (one covariate filter).
    check(
        &OK.replace(
            "ldl_mg_dl = { min = 140.0 }",
            "ldl_mg_dl = { min = 140.0 }\nsex = \"other\"",
        ),
        22,
        "intervention[0].eligibility.sex",
        &["unknown sex"],
    );
    check(
        &OK.replace(
            "ldl_mg_dl = { min = 140.0 }",
            "ldl_mg_dl = { min = 140.0 }\nfrailty_index = { max = 2.0 }",
        ),
        22,
        "intervention[0].eligibility.frailty_index.max",
        &["plausible range [0, 1]"],
    );
    check(
        &OK.replace("uptake = 0.5", "uptake = \"high\""),
        13,
        "intervention[0].uptake",
        &["invalid type"],
    );
}

#[test]
fn unknown_parameter_and_duplicates() {
    check(
        &OK.replace("mortality.background.hazard_ratio", "mortality.hr"),
        8,
        "parameters.mortality.hr",
        &["unknown parameter"],
    );
    check(
        &OK.replace("= 1.1", "= 99.0"),
        8,
        "parameters.mortality.background.hazard_ratio",
        &["outside its valid range"],
    );
    let dup = format!("{OK}\n[[intervention]]\nname = \"a\"\ntype = \"metformin\"\n");
    check(&dup, 24, "intervention[1].name", &["duplicate"]);
    // A key given twice is a TOML error, located too.
    check(
        &OK.replace("uptake = 0.5", "uptake = 0.5\nuptake = 0.6"),
        14,
        "intervention[0].uptake",
        &["duplicate key"],
    );
}

#[test]
fn uncertainty_tables() {
    let u = format!("{OK}\n[uncertainty.\"cvd.effect.rr_chd_per_mmol\"]\ndist = \"lognormal\"\nmedian = 0.77\nci95 = [0.74, 0.80]\nsource = \"CTT 2005\"\n");
    let p = parse(&u, Path::new("s.toml")).unwrap();
    let models::params::Uncertainty::LogNormal { sigma, .. } = p.uncertainty[0].draw.uncertainty
    else {
        panic!()
    };
    assert!((sigma - (0.80f64.ln() - 0.74f64.ln()) / 3.919927969).abs() < 1e-9);
    check(
        &u.replace("\"lognormal\"", "\"gamma\""),
        24,
        "uncertainty.cvd.effect.rr_chd_per_mmol.dist",
        &["`normal`"],
    );
    check(
        &u.replace("ci95 = [0.74, 0.80]", "sd = 0.1"),
        26,
        "uncertainty.cvd.effect.rr_chd_per_mmol.sd",
        &["does not apply"],
    );
    check(
        &u.replace("rr_chd_per_mmol", "rr_nothing"),
        23,
        "uncertainty.cvd.effect.rr_nothing",
        &["unknown parameter"],
    );
}

#[test]
fn regions() {
    let with = |regions: &str| format!("{OK}\n{regions}");
    let two = "[[region]]\nname = \"n\"\npeople = 40\ncapacity_per_year = { a = 4 }\n\
               [[region]]\nname = \"s\"\npeople = 60\ncapacity_per_year = { a = 6 }\n";
    let p = parse(&with(two), Path::new("s.toml")).unwrap();
    assert_eq!(p.regions.len(), 2);
    assert_eq!(p.regions[1].people, 40..100);
    let south = p.in_region(1);
    assert_eq!(south.programmes[0].spec.capacity_per_year, Some(6));
    assert!(south.regions.is_empty());
    let refused = |text: String, key: &str, words: &[&str]| {
        let e = err(&text);
        assert_eq!(e.key, key, "{e}");
        for w in words {
            assert!(e.message.contains(w), "`{w}` not in: {e}");
        }
    };
    refused(
        with(&two.replace("people = 60", "people = 50")),
        "region",
        &["90", "population.n = 100"],
    );
    refused(
        with(&two.replace("a = 6", "a = 5")),
        "region",
        &["`a`", "9", "capacity_per_year = 10"],
    );
    refused(
        with(&two.replace("capacity_per_year = { a = 6 }", "")),
        "region[1].capacity_per_year",
        &["`a`"],
    );
    refused(
        with(&two.replace("{ a = 6 }", "{ a = 6, b = 1 }")),
        "region[1].capacity_per_year.b",
        &["capacity_per_year"],
    );
    refused(
        with(&two.replace("name = \"s\"", "name = \"n\"")),
        "region[1].name",
        &["twice"],
    );
}
