//! Where a key sits in a TOML file: key paths ↔ byte spans ↔ line:column, so every error
//! names the file, the key and the line even for checks made after deserialisation.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// One key (or array element) of the document.
#[derive(Clone, Debug)]
struct Entry {
    path: String,
    key: Range<usize>,
    value: Range<usize>,
    /// A table (or an array-of-tables element): keys below a header belong to it.
    table: bool,
}

/// Every key path of a document with its spans.
#[derive(Clone, Debug, Default)]
pub struct Locator {
    entries: Vec<Entry>,
}

impl Locator {
    /// Indexes `text`; a document with syntax errors is indexed as far as it parses.
    pub fn new(text: &str) -> Locator {
        let mut out = Locator::default();
        let (doc, _errors) = DeTable::parse_recoverable(text);
        out.walk_table("", doc.get_ref());
        out
    }

    fn walk_table(&mut self, prefix: &str, table: &DeTable<'_>) {
        for (k, v) in table.iter() {
            let path = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            self.entries.push(Entry {
                path: path.clone(),
                key: k.span(),
                value: v.span(),
                table: v.get_ref().is_table(),
            });
            self.walk_value(&path, v.get_ref());
        }
    }

    fn walk_value(&mut self, path: &str, v: &DeValue<'_>) {
        match v {
            DeValue::Table(t) => self.walk_table(path, t),
            DeValue::Array(a) => {
                for (i, item) in a.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.entries.push(Entry {
                        path: p.clone(),
                        key: item.span(),
                        value: item.span(),
                        table: item.get_ref().is_table(),
                    });
                    self.walk_value(&p, item.get_ref());
                }
            }
            _ => {}
        }
    }

    /// The span of a key path (the key itself), or of its closest existing parent.
    pub fn span_of(&self, path: &str) -> Option<Range<usize>> {
        let mut p = path.to_string();
        loop {
            if let Some(e) = self.entries.iter().find(|e| e.path == p) {
                return Some(e.key.clone());
            }
            let cut = p.rfind(['.', '['])?;
            p.truncate(cut);
        }
    }

    /// The deepest key path whose key or value contains byte `at`; for a key the parser
    /// dropped (a duplicate), the table whose header comes last before `at`, followed by
    /// the key written at `at`.
    pub fn path_at(&self, text: &str, at: usize) -> Option<String> {
        if let Some(e) = self
            .entries
            .iter()
            .filter(|e| e.key.contains(&at) || e.value.contains(&at))
            .max_by_key(|e| e.path.len())
        {
            return Some(e.path.clone());
        }
        let rest = text.get(at..)?;
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        let table = self
            .entries
            .iter()
            .filter(|e| e.table && e.key.start < at)
            .max_by_key(|e| e.key.start)
            .map(|e| e.path.as_str());
        match (table, word.is_empty()) {
            (_, true) => table.map(str::to_string),
            (Some(t), false) => Some(format!("{t}.{word}")),
            (None, false) => Some(word),
        }
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let mut start = at;
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_positions() {
        let text =
            "name = \"a\"\n[population]\nn = 5\n[[intervention]]\nname = \"x\"\nuptake = 2\n";
        let loc = Locator::new(text);
        let s = loc.span_of("intervention[0].uptake").unwrap();
        assert_eq!(line_col(text, s.start), (6, 1));
        assert_eq!(
            loc.path_at(text, s.start).as_deref(),
            Some("intervention[0].uptake")
        );
        // A missing key falls back to its parent.
        let p = loc.span_of("population.seed").unwrap();
        assert_eq!(line_col(text, p.start), (2, 2));
        assert_eq!(line_col("é\nab", 5), (2, 3));
    }
}
