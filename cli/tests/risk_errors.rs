//! `healthtwin risk --patient`: a patient file that does not parse is refused with the line
//! and the key, never with what the file holds or its name (issue 17, item 3: the TOML
//! parser's message repeated the offending line, `name = 山田太郎 MRN-12345`).

use std::fs;
use std::process::Command;

const SECRETS: [&str; 4] = ["山田太郎", "MRN-12345", "73519001", "YAMADA"];

fn refused(name: &str, content: &str, expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    fs::write(&file, content).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_healthtwin"))
        .args(["risk", "--patient", file.to_str().unwrap()])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains(expect), "{text}");
    for s in SECRETS {
        assert!(!text.contains(s), "`{s}` printed: {text}");
    }
}

#[test]
fn patient_file_errors_name_the_line_and_key_never_the_value() {
    let toml = "山田太郎_73519001.toml";
    refused(
        toml,
        "sex = \"male\"\nage = 60\nname = 山田太郎 MRN-12345\n",
        "--patient file, line 3: not valid TOML",
    );
    refused(
        toml,
        "sex = \"male\"\nage = \"MRN-12345\"\n",
        "--patient file, line 2: `age` must be a number",
    );
    refused(
        toml,
        "sex = \"山田太郎\"\nage = 60\n",
        "`sex` (--sex) is not male or female",
    );
    refused(
        toml,
        "sex = \"male\"\nage = 60\ntc = \"73519001 YAMADA\"\n",
        "`tc` (--tc): unknown unit",
    );
    refused(
        toml,
        "sex = \"male\"\nage = 60\ntc = 73519001\n",
        "`tc` (--tc) is implausible",
    );
    let json = "山田太郎_73519001.json";
    refused(
        json,
        "{\"sex\": \"male\",\n \"age\": \"山田太郎 MRN-12345\"}",
        "--patient file, line 2: `age` must be a number",
    );
    refused(
        json,
        "{\"sex\": \"male\",\n \"name\": \"山田太郎\"}",
        "--patient file, line 2: unknown key `name`",
    );
    refused(
        json,
        "{\"sex\": \"male\", \"age\": 山田太郎}",
        "--patient file, line 1: not valid JSON",
    );
    refused("山田太郎_73519001.txt", "", "use a .toml or .json file");
}
