//! The OM2 coefficients as data: `models/data/ukpds_om2_coefficients.csv` (its sources are in
//! the file's header and in `models/data/README.md`), embedded with `include_str!` and parsed
//! **at compile time** into the flat [`Om2Equation`] constants of the parent module.
//!
//! Why at compile time: the equations stay `const` items with `&'static` term slices, so the
//! callers (`&om2::CHF`, `ALL_EQUATIONS`) and the hot path are exactly as they were when the
//! numbers were written as code (no lazy initialisation to check, no lookup by name), and a
//! malformed file fails the build with the line and the reason instead of failing at run
//! time. The same `const fn` parser runs in the unit tests, so its checks are tested too.
//!
//! Numbers are read without `str::parse` (not available in `const fn`), restricted to plain
//! decimals of at most 15 digits: the digits form an integer m < 2^53 and the divisor 10^k
//! (k ≤ 15) is exact, so m / 10^k is one correctly rounded IEEE division, the same f64 that
//! the Rust literal or `str::parse` gives (tested for every value in the file).
//!
//! Must never: be used for input a user supplies (a malformed file is a compile error, or a
//! panic where [`parse`] is called at run time in tests), or change the order of an
//! equation's terms (Xβ is summed in file order; another order can change the last bit).

use super::{Covariate, Form, Om2Equation};

/// Where the table lives, for messages.
const FILE: &str = "models/data/ukpds_om2_coefficients.csv";

/// The embedded file.
const CSV: &str = include_str!("../../../data/ukpds_om2_coefficients.csv");

/// The column header every file starts with (after `#` comment lines).
const HEADER: &[u8] = b"equation,table,form,term,value,note";
const N_FIELDS: usize = 6;

/// The most terms one equation may have (the largest, death in a later event year, has 14).
const MAX_TERMS: usize = 16;

/// The equations the file must hold, one each (the discriminant indexes [`Table`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Id {
    Chf,
    Ihd,
    MiFirstMale,
    MiFirstFemale,
    MiSubsequent,
    StrokeFirst,
    StrokeSubsequent,
    Blindness,
    Ulcer,
    AmputationFirstNoUlcer,
    AmputationFirstWithUlcer,
    AmputationSubsequent,
    RenalFailure,
    DeathNoHistory,
    DeathHistoryNoEvent,
    DeathFirstEventYear,
    DeathSubsequentEventYear,
}

const N_EQUATIONS: usize = 17;

/// The prefix of every equation's stable name; the file's `equation` column omits it.
const NAME_PREFIX: &str = "ukpds_om2.";

impl Id {
    /// Every equation, in declaration order (`Id::ALL[id as usize] == id`).
    const ALL: [Id; N_EQUATIONS] = [
        Id::Chf,
        Id::Ihd,
        Id::MiFirstMale,
        Id::MiFirstFemale,
        Id::MiSubsequent,
        Id::StrokeFirst,
        Id::StrokeSubsequent,
        Id::Blindness,
        Id::Ulcer,
        Id::AmputationFirstNoUlcer,
        Id::AmputationFirstWithUlcer,
        Id::AmputationSubsequent,
        Id::RenalFailure,
        Id::DeathNoHistory,
        Id::DeathHistoryNoEvent,
        Id::DeathFirstEventYear,
        Id::DeathSubsequentEventYear,
    ];

    /// The stable name, `ukpds_om2.<key>`; `<key>` is the file's `equation` column.
    const fn name(self) -> &'static str {
        match self {
            Id::Chf => "ukpds_om2.chf",
            Id::Ihd => "ukpds_om2.ihd",
            Id::MiFirstMale => "ukpds_om2.mi_first_male",
            Id::MiFirstFemale => "ukpds_om2.mi_first_female",
            Id::MiSubsequent => "ukpds_om2.mi_subsequent",
            Id::StrokeFirst => "ukpds_om2.stroke_first",
            Id::StrokeSubsequent => "ukpds_om2.stroke_subsequent",
            Id::Blindness => "ukpds_om2.blindness",
            Id::Ulcer => "ukpds_om2.ulcer",
            Id::AmputationFirstNoUlcer => "ukpds_om2.amputation_first_no_ulcer",
            Id::AmputationFirstWithUlcer => "ukpds_om2.amputation_first_with_ulcer",
            Id::AmputationSubsequent => "ukpds_om2.amputation_subsequent",
            Id::RenalFailure => "ukpds_om2.renal_failure",
            Id::DeathNoHistory => "ukpds_om2.death_no_history",
            Id::DeathHistoryNoEvent => "ukpds_om2.death_history_no_event",
            Id::DeathFirstEventYear => "ukpds_om2.death_first_event_year",
            Id::DeathSubsequentEventYear => "ukpds_om2.death_subsequent_event_year",
        }
    }

    const fn key(self) -> &'static [u8] {
        self.name().as_bytes().split_at(NAME_PREFIX.len()).1
    }
}

/// The source of each ESM table's numbers, for [`Om2Equation::source`]; the file's header
/// and `models/data/README.md` say the same at more length. The parser admits only tables
/// 4, 5 and 6.
const fn source(esm_table: u8) -> &'static str {
    match esm_table {
        4 => "Hayes 2013 (UKPDS 82) ESM Table 4; read from COMPAR-EU R/UKPDS_macrovascular_coef.csv, identical in awinn1 data/ukpds_coef.csv",
        5 => "Hayes 2013 (UKPDS 82) ESM Table 5; read from COMPAR-EU R/UKPDS_microvascular_coef.csv, identical in awinn1 data/ukpds_coef.csv except the λ of first amputation with prior ulcer (COMPAR-EU −0.811, kept; awinn1 −0.881)",
        _ => "Hayes 2013 (UKPDS 82) ESM Table 6; read from COMPAR-EU R/UKPDS_mortality_coef.csv, identical in awinn1 data/ukpds_coef.csv",
    }
}

/// One equation as read from the file.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Coefficients {
    esm_table: u8,
    form: Form,
    lambda: f64,
    terms: [(Covariate, f64); MAX_TERMS],
    n_terms: usize,
}

/// Every equation, indexed by [`Id`].
#[derive(Clone, Copy, Debug, PartialEq)]
struct Table([Coefficients; N_EQUATIONS]);

/// The embedded file, parsed once by the compiler.
const TABLE: &Table = &match parse(CSV) {
    Ok(table) => table,
    Err(e) => e.fail(),
};

/// One equation of the embedded table, in the form the evaluation functions read.
pub(super) const fn equation(id: Id) -> Om2Equation {
    let c = &TABLE.0[id as usize];
    Om2Equation {
        name: id.name(),
        form: c.form,
        lambda: c.lambda,
        terms: c.terms.split_at(c.n_terms).0,
        source: source(c.esm_table),
    }
}

/// What is wrong with a line of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Problem {
    Header,
    FieldCount,
    UnknownEquation,
    NotContiguous,
    UnknownTable,
    TableChanged,
    UnknownForm,
    FormChanged,
    UnknownTerm,
    ShapeForForm,
    Repeated,
    Number,
    ZeroCoefficient,
    ShapeNotPositive,
    TooManyTerms,
    MissingEquation,
    MissingLambda,
    MissingShape,
}

impl Problem {
    const fn message(self) -> &'static str {
        match self {
            Problem::Header => "the first line that is not a # comment must be the header `equation,table,form,term,value,note`, not",
            Problem::FieldCount => "expected 6 comma-separated fields (equation,table,form,term,value,note; no commas in notes)",
            Problem::UnknownEquation => "unknown equation",
            Problem::NotContiguous => "an equation's rows must be consecutive; this one appeared before",
            Problem::UnknownTable => "the ESM table must be 4 (macrovascular), 5 (microvascular) or 6 (mortality), not",
            Problem::TableChanged => "ESM table differs from this equation's first row",
            Problem::UnknownForm => "the form must be weibull, exponential, gompertz or logistic, not",
            Problem::FormChanged => "form differs from this equation's first row",
            Problem::UnknownTerm => "unknown term (lambda, rho, phi or an ESM covariate name such as AGE.DIAG)",
            Problem::ShapeForForm => "rho belongs to weibull equations and phi to gompertz ones only",
            Problem::Repeated => "term given twice in this equation",
            Problem::Number => "value must be a plain decimal with at most 15 digits, such as -12.332",
            Problem::ZeroCoefficient => "a zero coefficient: leave the row out",
            Problem::ShapeNotPositive => "rho and phi must be positive",
            Problem::TooManyTerms => "more than 16 covariate terms in one equation (raise MAX_TERMS)",
            Problem::MissingEquation => "(end of file) equation missing",
            Problem::MissingLambda => "(end of file) no lambda for equation",
            Problem::MissingShape => "(end of file) no rho (weibull) or phi (gompertz) for equation",
        }
    }
}

/// A problem, the line it is on (1-based) and the offending text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ParseError<'a> {
    line: usize,
    problem: Problem,
    text: &'a [u8],
}

/// A message built without allocation, so that a compile-time failure can say where it is.
struct Message {
    bytes: [u8; 512],
    len: usize,
}

impl Message {
    const fn push(mut self, s: &[u8]) -> Self {
        let mut i = 0;
        while i < s.len() && self.len < self.bytes.len() {
            self.bytes[self.len] = s[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    const fn push_number(self, n: usize) -> Self {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut rest = n;
        loop {
            start -= 1;
            digits[start] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        self.push(digits.split_at(start).1)
    }

    const fn as_str(&self) -> &str {
        let bytes = self.bytes.split_at(self.len).0;
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            // Truncated inside a character: drop its first bytes.
            Err(e) => match core::str::from_utf8(bytes.split_at(e.valid_up_to()).0) {
                Ok(s) => s,
                Err(_) => FILE,
            },
        }
    }
}

impl ParseError<'_> {
    const fn message(&self) -> Message {
        let message = Message {
            bytes: [0; 512],
            len: 0,
        };
        message
            .push(FILE.as_bytes())
            .push(b" line ")
            .push_number(self.line)
            .push(b": ")
            .push(self.problem.message().as_bytes())
            .push(b" `")
            .push(self.text)
            .push(b"`")
    }

    const fn fail(&self) -> ! {
        let message = self.message();
        panic!("{}", message.as_str())
    }
}

impl std::fmt::Display for ParseError<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message().as_str())
    }
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Splits `s` at the first `separator`: (before, Some(after)), or (s, None) if there is none.
const fn split_once(s: &[u8], separator: u8) -> (&[u8], Option<&[u8]>) {
    let mut i = 0;
    while i < s.len() {
        if s[i] == separator {
            let (before, rest) = s.split_at(i);
            return (before, Some(rest.split_at(1).1));
        }
        i += 1;
    }
    (s, None)
}

/// 10^k for k ≤ 15, all exact in f64.
const POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// A plain decimal (`-12.332`, `0.068`, `3`): optional minus, digits, optionally a point
/// and more digits, at most 15 digits in all. Correctly rounded (module docs).
const fn parse_decimal(s: &[u8]) -> Option<f64> {
    let negative = !s.is_empty() && s[0] == b'-';
    let mut i = if negative { 1 } else { 0 };
    let mut mantissa: u64 = 0;
    let mut digits = 0;
    let mut integer_digits = 0;
    let mut fraction_digits = 0;
    let mut point = false;
    while i < s.len() {
        let b = s[i];
        if b == b'.' && !point {
            point = true;
        } else if b.is_ascii_digit() && digits < 15 {
            mantissa = mantissa * 10 + (b - b'0') as u64;
            digits += 1;
            if point {
                fraction_digits += 1;
            } else {
                integer_digits += 1;
            }
        } else {
            return None;
        }
        i += 1;
    }
    if integer_digits == 0 || (point && fraction_digits == 0) {
        return None;
    }
    let magnitude = mantissa as f64 / POWERS_OF_TEN[fraction_digits];
    Some(if negative { -magnitude } else { magnitude })
}

#[derive(Clone, Copy, PartialEq)]
enum FormKind {
    Weibull,
    Exponential,
    Gompertz,
    Logistic,
}

/// An equation while its rows are being read.
#[derive(Clone, Copy)]
struct Draft {
    seen: bool,
    esm_table: u8,
    form: FormKind,
    lambda: Option<f64>,
    shape: Option<f64>,
    terms: [(Covariate, f64); MAX_TERMS],
    n_terms: usize,
}

const EMPTY: Draft = Draft {
    seen: false,
    esm_table: 0,
    form: FormKind::Logistic,
    lambda: None,
    shape: None,
    terms: [(Covariate::AgeAtDiagnosis, 0.0); MAX_TERMS],
    n_terms: 0,
};

const fn find_equation(key: &[u8]) -> Option<Id> {
    let mut i = 0;
    while i < N_EQUATIONS {
        if same(key, Id::ALL[i].key()) {
            return Some(Id::ALL[i]);
        }
        i += 1;
    }
    None
}

const fn find_covariate(name: &[u8]) -> Option<Covariate> {
    let mut i = 0;
    while i < Covariate::ALL.len() {
        if same(name, Covariate::ALL[i].name().as_bytes()) {
            return Some(Covariate::ALL[i]);
        }
        i += 1;
    }
    None
}

const fn form_kind(name: &[u8]) -> Option<FormKind> {
    if same(name, b"weibull") {
        Some(FormKind::Weibull)
    } else if same(name, b"exponential") {
        Some(FormKind::Exponential)
    } else if same(name, b"gompertz") {
        Some(FormKind::Gompertz)
    } else if same(name, b"logistic") {
        Some(FormKind::Logistic)
    } else {
        None
    }
}

const fn failure(line: usize, problem: Problem, text: &[u8]) -> Result<Table, ParseError<'_>> {
    Err(ParseError {
        line,
        problem,
        text,
    })
}

/// Reads the coefficient file: `#` comment lines, the header, then one row per number
/// (λ, ρ or φ, or one covariate's β) of each equation, an equation's rows consecutive and in
/// the order its Xβ is summed. Blank lines are ignored. Checks everything [`Problem`] lists,
/// and at the end that every equation is present with its λ and its shape parameter.
const fn parse(text: &str) -> Result<Table, ParseError<'_>> {
    let mut drafts = [EMPTY; N_EQUATIONS];
    let mut current: Option<Id> = None;
    let mut header_seen = false;
    let mut rest = text.as_bytes();
    let mut line_no = 0;
    while !rest.is_empty() {
        let (raw, after) = split_once(rest, b'\n');
        rest = match after {
            Some(after) => after,
            None => &[],
        };
        line_no += 1;
        let line = match raw.split_last() {
            Some((b'\r', line)) => line,
            _ => raw,
        };
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        if !header_seen {
            if !same(line, HEADER) {
                return failure(line_no, Problem::Header, line);
            }
            header_seen = true;
            continue;
        }
        // The six fields.
        let mut fields: [&[u8]; N_FIELDS] = [&[]; N_FIELDS];
        let mut remaining = line;
        let mut n = 0;
        loop {
            let (field, after) = split_once(remaining, b',');
            if n == N_FIELDS {
                return failure(line_no, Problem::FieldCount, line);
            }
            fields[n] = field;
            n += 1;
            match after {
                Some(after) => remaining = after,
                None => break,
            }
        }
        if n != N_FIELDS {
            return failure(line_no, Problem::FieldCount, line);
        }
        let [equation, table, form, term, value, _note] = fields;

        let id = match find_equation(equation) {
            Some(id) => id,
            None => return failure(line_no, Problem::UnknownEquation, equation),
        };
        let esm_table = match table {
            b"4" => 4,
            b"5" => 5,
            b"6" => 6,
            _ => return failure(line_no, Problem::UnknownTable, table),
        };
        let form = match form_kind(form) {
            Some(kind) => kind,
            None => return failure(line_no, Problem::UnknownForm, form),
        };
        let d = &mut drafts[id as usize];
        let continues = match current {
            Some(c) => c as usize == id as usize,
            None => false,
        };
        if !continues {
            if d.seen {
                return failure(line_no, Problem::NotContiguous, equation);
            }
            d.seen = true;
            d.esm_table = esm_table;
            d.form = form;
            current = Some(id);
        } else if d.esm_table != esm_table {
            return failure(line_no, Problem::TableChanged, table);
        } else if d.form as u8 != form as u8 {
            return failure(line_no, Problem::FormChanged, fields[2]);
        }
        let number = match parse_decimal(value) {
            Some(x) => x,
            None => return failure(line_no, Problem::Number, value),
        };

        if same(term, b"lambda") {
            if d.lambda.is_some() {
                return failure(line_no, Problem::Repeated, term);
            }
            d.lambda = Some(number);
        } else if same(term, b"rho") || same(term, b"phi") {
            let wanted = match d.form {
                FormKind::Weibull => b"rho".as_slice(),
                FormKind::Gompertz => b"phi".as_slice(),
                FormKind::Exponential | FormKind::Logistic => b"".as_slice(),
            };
            if !same(term, wanted) {
                return failure(line_no, Problem::ShapeForForm, term);
            }
            if d.shape.is_some() {
                return failure(line_no, Problem::Repeated, term);
            }
            if number <= 0.0 {
                return failure(line_no, Problem::ShapeNotPositive, value);
            }
            d.shape = Some(number);
        } else {
            let covariate = match find_covariate(term) {
                Some(x) => x,
                None => return failure(line_no, Problem::UnknownTerm, term),
            };
            let mut i = 0;
            while i < d.n_terms {
                if d.terms[i].0 as usize == covariate as usize {
                    return failure(line_no, Problem::Repeated, term);
                }
                i += 1;
            }
            if number == 0.0 {
                return failure(line_no, Problem::ZeroCoefficient, value);
            }
            if d.n_terms == MAX_TERMS {
                return failure(line_no, Problem::TooManyTerms, term);
            }
            d.terms[d.n_terms] = (covariate, number);
            d.n_terms += 1;
        }
    }
    if !header_seen {
        return failure(line_no, Problem::Header, b"");
    }

    // Every equation complete.
    // The initial value of every slot (`const` arrays need one); each is overwritten below.
    let unset = Coefficients {
        esm_table: 0,
        form: Form::Logistic,
        lambda: 0.0,
        terms: EMPTY.terms,
        n_terms: 0,
    };
    let mut table = [unset; N_EQUATIONS];
    let mut i = 0;
    while i < N_EQUATIONS {
        let d = drafts[i];
        let key = Id::ALL[i].key();
        if !d.seen {
            return failure(line_no, Problem::MissingEquation, key);
        }
        let lambda = match d.lambda {
            Some(lambda) => lambda,
            None => return failure(line_no, Problem::MissingLambda, key),
        };
        let form = match (d.form, d.shape) {
            (FormKind::Weibull, Some(rho)) => Form::Weibull { rho },
            (FormKind::Gompertz, Some(phi)) => Form::Gompertz { phi },
            (FormKind::Weibull | FormKind::Gompertz, None) => {
                return failure(line_no, Problem::MissingShape, key)
            }
            (FormKind::Exponential, _) => Form::Exponential,
            (FormKind::Logistic, _) => Form::Logistic,
        };
        table[i] = Coefficients {
            esm_table: d.esm_table,
            form,
            lambda,
            terms: d.terms,
            n_terms: d.n_terms,
        };
        i += 1;
    }
    Ok(Table(table))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_file_parses_and_every_equation_is_complete() {
        let table = parse(CSV).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            &table, TABLE,
            "the run-time parse equals the compile-time one"
        );
        for (i, id) in Id::ALL.into_iter().enumerate() {
            assert_eq!(id as usize, i, "Id::ALL in declaration order");
            let c = &table.0[i];
            let eq = equation(id);
            assert!(eq.name.starts_with(NAME_PREFIX), "{}", eq.name);
            assert!(eq.lambda.is_finite(), "{}", eq.name);
            assert!(!eq.terms.is_empty(), "{}: no covariate terms", eq.name);
            assert_eq!(eq.terms.len(), c.n_terms);
            assert!((4..=6).contains(&c.esm_table), "{}", eq.name);
            // The shape parameter is present iff the form has one (the parser enforces it;
            // this fails if Form gains a variant the parser does not know).
            match eq.form {
                Form::Weibull { rho } => assert!(rho > 0.0, "{}", eq.name),
                Form::Gompertz { phi } => assert!(phi > 0.0, "{}", eq.name),
                Form::Exponential | Form::Logistic => {}
            }
        }
        assert_eq!(
            Id::ALL.len(),
            Id::DeathSubsequentEventYear as usize + 1,
            "Id::ALL lists every equation"
        );
        assert_eq!(
            Covariate::ALL.len(),
            Covariate::StrokeEvent as usize + 1,
            "Covariate::ALL lists every covariate"
        );
        for (i, x) in Covariate::ALL.into_iter().enumerate() {
            assert_eq!(x as usize, i, "Covariate::ALL in declaration order");
            assert_eq!(find_covariate(x.name().as_bytes()), Some(x), "{x:?}");
        }
    }

    #[test]
    fn every_value_is_the_f64_of_its_decimal_text() {
        // The std parser (what a Rust literal of the same text gives) against ours, on every
        // value in the file and on a few edge cases.
        let values = CSV
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .skip(1)
            .map(|l| l.split(',').nth(4).unwrap());
        let extra = [
            "0",
            "-0.5",
            "123456789012345",
            "0.00000000000001",
            "9.99999999999999",
        ];
        let mut n = 0;
        for text in values.chain(extra) {
            let ours = parse_decimal(text.as_bytes()).unwrap();
            assert_eq!(
                ours.to_bits(),
                text.parse::<f64>().unwrap().to_bits(),
                "{text}"
            );
            n += 1;
        }
        assert_eq!(n, 162 + extra.len(), "17 λ, 8 shapes and 137 β in the file");
        for bad in [
            "",
            "-",
            ".5",
            "5.",
            "1e3",
            "+1",
            "1.2.3",
            "0x10",
            "1234567890123456",
            " 1",
        ] {
            assert_eq!(parse_decimal(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn equations_carry_the_literals_they_replaced() {
        // A few numbers as they were written in the code before the table became data.
        let chf = equation(Id::Chf);
        assert_eq!(chf.form, Form::Weibull { rho: 1.514 });
        assert_eq!(chf.lambda, -12.332);
        assert_eq!(chf.terms[0], (Covariate::AgeAtDiagnosis, 0.068));
        assert_eq!(chf.terms[3], (Covariate::EgfrSplineBelow60, -0.220));
        let amp = equation(Id::AmputationFirstWithUlcer);
        assert_eq!(amp.lambda, -0.811);
        assert_eq!(amp.form, Form::Exponential);
        let death = equation(Id::DeathHistoryNoEvent);
        assert_eq!(death.form, Form::Gompertz { phi: 0.073 });
        assert_eq!(death.terms[0], (Covariate::BmiUnderweight, 1.083));
        let last = equation(Id::DeathSubsequentEventYear);
        assert_eq!(last.form, Form::Logistic);
        assert_eq!(last.terms.last(), Some(&(Covariate::StrokeEvent, -0.619)));
        assert_eq!(equation(Id::RenalFailure).lambda, 3.549);
    }

    /// The embedded file with its line `line` (1-based) replaced: where the parser stops,
    /// why, and the text it names.
    fn parse_with(line: usize, replacement: &str) -> (usize, Problem, String) {
        let lines: Vec<&str> = CSV
            .lines()
            .enumerate()
            .map(|(i, l)| if i + 1 == line { replacement } else { l })
            .collect();
        let text = lines.join("\n");
        let e = parse(&text).expect_err(replacement);
        (
            e.line,
            e.problem,
            String::from_utf8(e.text.to_vec()).unwrap(),
        )
    }

    /// The line number of the first row starting with `prefix`.
    fn row(prefix: &str) -> usize {
        CSV.lines()
            .position(|l| l.starts_with(prefix))
            .expect(prefix)
            + 1
    }

    /// Replaces the row starting with `prefix`: the parser must stop on it, about `text`.
    fn check(prefix: &str, replacement: &str, problem: Problem, text: &str) {
        let line = row(prefix);
        let expected = (line, problem, text.to_string());
        assert_eq!(parse_with(line, replacement), expected, "{replacement}");
    }

    #[test]
    fn malformed_rows_are_named_with_line_and_reason() {
        use Problem::*;
        let (lambda, rho) = ("chf,4,weibull,lambda", "chf,4,weibull,rho");
        for short_or_long in [
            "chf,4,weibull,lambda",
            "chf,4,weibull,lambda,-12,332,",
            "chf,4,weibull,lambda,-1,a, b",
        ] {
            check(lambda, short_or_long, FieldCount, short_or_long);
        }
        check(
            lambda,
            "chff,4,weibull,lambda,-12.332,",
            UnknownEquation,
            "chff",
        );
        check(lambda, "chf,7,weibull,lambda,-12.332,", UnknownTable, "7");
        check(lambda, "chf,4,cox,lambda,-12.332,", UnknownForm, "cox");
        check(lambda, "chf,4,weibull,AGE.DX,0.068,", UnknownTerm, "AGE.DX");
        for number in ["−12.332", "-1.2332e1", ""] {
            check(
                lambda,
                &format!("chf,4,weibull,lambda,{number},"),
                Number,
                number,
            );
        }
        check(lambda, "chf,4,weibull,phi,0.5,", ShapeForForm, "phi");
        check(
            "ulcer,5,logistic,AGE.DIAG",
            "ulcer,5,logistic,rho,1,",
            ShapeForForm,
            "rho",
        );
        check(lambda, "chf,4,weibull,BMI,0.0,", ZeroCoefficient, "0.0");
        check(rho, "chf,4,weibull,lambda,-1,", Repeated, "lambda");
        check(
            "chf,4,weibull,ATFIB",
            "chf,4,weibull,AGE.DIAG,1,",
            Repeated,
            "AGE.DIAG",
        );
        check(rho, "chf,5,weibull,rho,1.514,", TableChanged, "5");
        check(rho, "chf,4,gompertz,rho,1.514,", FormChanged, "gompertz");
        check(rho, "chf,4,weibull,rho,-1.5,", ShapeNotPositive, "-1.5");
        check(
            "death_no_history,6,gompertz,phi",
            "death_no_history,6,gompertz,phi,0,",
            ShapeNotPositive,
            "0",
        );
        // An ihd row among the chf rows: the parser stops on the chf row after it.
        let atfib = row("chf,4,weibull,ATFIB");
        let ihd_inside = parse_with(atfib, "ihd,4,weibull,lambda,-6.709,");
        assert_eq!(ihd_inside, (atfib + 1, NotContiguous, "chf".into()));
    }

    #[test]
    fn incomplete_files_are_named_with_the_missing_piece() {
        use Problem::*;
        let end = CSV.lines().count();
        let no_rho = parse_with(row("chf,4,weibull,rho"), "# no rho");
        assert_eq!(no_rho, (end, MissingShape, "chf".into()));
        let no_phi = parse_with(row("death_history_no_event,6,gompertz,phi"), "");
        assert_eq!(no_phi, (end, MissingShape, "death_history_no_event".into()));
        let no_lambda = parse_with(row("ihd,4,weibull,lambda"), "#");
        assert_eq!(no_lambda, (end, MissingLambda, "ihd".into()));
        let no_ulcer: String = CSV
            .lines()
            .filter(|l| !l.starts_with("ulcer,"))
            .collect::<Vec<_>>()
            .join("\n");
        let e = parse(&no_ulcer).unwrap_err();
        assert_eq!((e.problem, e.text), (MissingEquation, &b"ulcer"[..]));
        assert_eq!(parse("# only a comment\n").unwrap_err().problem, Header);
        let e = parse("chf,4,weibull,lambda,-12.332,\n").unwrap_err();
        assert_eq!((e.line, e.problem), (1, Header));
        // Windows line ends and blank lines are fine.
        assert_eq!(parse(&CSV.replace('\n', "\r\n\r\n")).as_ref(), Ok(TABLE));
    }

    #[test]
    fn the_message_names_file_line_reason_and_text() {
        let line = row("chf,4,weibull,AGE.DIAG");
        let e = ParseError {
            line,
            problem: Problem::UnknownTerm,
            text: b"AGE.DX",
        };
        assert_eq!(
            e.to_string(),
            format!("{FILE} line {line}: unknown term (lambda, rho, phi or an ESM covariate name such as AGE.DIAG) `AGE.DX`")
        );
        // A text too long for the 512-byte buffer is cut at a character boundary.
        let long = "é".repeat(400);
        let e = ParseError {
            text: long.as_bytes(),
            ..e
        };
        let message = e.to_string();
        assert!(
            message.len() <= 512 && message.len() > 500,
            "{}",
            message.len()
        );
        assert!(message.ends_with('é'));
    }
}
