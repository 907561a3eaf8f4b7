//! Municipal plan files (TOML, docs/planning.md): the town (its residents from the resident
//! register, or a national or given age structure scaled to a population size), local
//! prevalences that differ from national ones, the programmes the town can fund (every key
//! of a scenario's `[[intervention]]` except the capacity), the options (places per
//! programme), the capacity sweep, the horizon in fiscal years and the finance shares.
//! Parsed with unknown keys refused and validated into a typed [`PlanFile`]; the residents
//! and projection CSV files it names are read by the `plan` crate.
//!
//! Must never: panic on user input, or accept a value it cannot run. Every error names the
//! file, the key path and the line:column ([`ScenarioError`]).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use models::interventions::Intervention;
use models::mortality::LifeTable;
use models::HealthModel;
use serde::Deserialize;

use crate::locate::Locator;
use crate::raw::{self, RawIntervention, RawUncertainty};
use crate::{Ctx, Distribution, ScenarioError, ScenarioProgramme, DEFAULT_DISCOUNT_RATE};

type R<T> = Result<T, ScenarioError>;

/// Share of long-term-care costs paid by the insurance (the rest is the users' co-payment,
/// 10-30%, lowered by the high-cost and low-income reliefs): FY2022 benefits ¥10兆5,100億 over
/// total cost ¥11兆3,778億 = 0.9237 [D] (MHLW 令和4年度 介護保険事業状況報告, reported by
/// ケアマネタイムス/Joint 2024-09-02 and roushikyo-digital.com/news/7825 [2]; users pay 10-30%,
/// shared/science/frailty_japan.md §4.3).
pub const DEFAULT_INSURER_SHARE: f64 = 10.51 / 11.3778;
/// Share of the insurance's benefits the municipality pays from its general account: 12.5%
/// (介護保険法 第124条; e.g. 大分市 介護保険財源のしくみ, updated 2024-12-18 [V]).
pub const DEFAULT_MUNICIPAL_SHARE: f64 = 0.125;
/// Share of the benefits paid by the premiums of category-1 insured people (65+): 23% in the
/// 9th insurance period, FY2024-2026 (大分市 and 宮城県大郷町 pages on 介護保険の財源 [V]).
pub const DEFAULT_PREMIUM_SHARE: f64 = 0.23;
/// Disclosure threshold: cells counting fewer people are suppressed (docs/planning.md).
pub const DEFAULT_THRESHOLD: u64 = 10;
/// First fiscal year of the plan by default: FY2027 (令和9年度), the first year of the
/// 10th insurance period (第10期介護保険事業計画, FY2027-2029), the plan municipalities
/// draft in FY2026.
pub const DEFAULT_START_FISCAL_YEAR: i64 = 2027;
/// Default horizon: nine years, three insurance periods of three years.
pub const DEFAULT_YEARS: u32 = 9;
/// Most people simulated by default (a larger town is simulated as a weighted sample).
pub const DEFAULT_SAMPLE: u64 = 20_000;

/// Where the town's residents come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Structure {
    /// Counts by sex and 5-year age band from the resident register (CSV).
    Residents(PathBuf),
    /// Japan's structure (2022-10-01 population estimates) scaled to `population` residents
    /// of all ages.
    National { population: f64 },
    /// A structure given as counts by sex and 5-year band (CSV, e.g. a prefecture's), scaled
    /// to `population`: residents of all ages when `all_ages` (the file then needs a `total`
    /// row), else residents of the bands listed.
    Scaled {
        path: PathBuf,
        population: f64,
        all_ages: bool,
    },
}

/// Who lives in the town in the years ahead.
#[derive(Clone, Debug, PartialEq)]
pub enum Future {
    /// Today's residents only, ageing and dying as the model says (no migration); the
    /// residents who turn 65 during the horizon are simulated from today (the default).
    Closed,
    /// A projected population by year, sex and 5-year band (IPSS 地域別将来推計人口 layout,
    /// CSV): every year's results are reweighted to it, cell by cell.
    Projection(PathBuf),
}

/// How a local frailty prevalence was measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrailtyMeasure {
    /// J-CHS phenotype, 3 or more of 5 criteria.
    Jchs,
    /// Kihon Checklist, 8 or more of 25 points.
    Kcl,
}

/// Local prevalences that differ from national ones (each optional).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocalInputs {
    /// Share frail among residents 65+ who are not certified (a community survey).
    pub frailty: Option<(FrailtyMeasure, f64)>,
    /// Share certified (any level) among residents 65+.
    pub certification_rate: Option<f64>,
    /// Share of care levels 1-5 (要介護) among the certified 65+.
    pub care_level_share: Option<f64>,
    /// Share with diabetes (HbA1c ≥ 6.5% or treated) among residents 40-74 (特定健診 ages).
    pub diabetes_prevalence: Option<f64>,
    /// Where the local numbers come from (required when any is given).
    pub source: String,
}

impl LocalInputs {
    pub fn is_empty(&self) -> bool {
        self.frailty.is_none()
            && self.certification_rate.is_none()
            && self.care_level_share.is_none()
            && self.diabetes_prevalence.is_none()
    }
}

/// How long-term-care spending is split between payers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Finance {
    /// Share of LTC costs paid by the insurance (benefits).
    pub insurer_share: f64,
    /// Share of the benefits paid from the municipality's general account.
    pub municipal_share: f64,
    /// Share of the benefits paid by category-1 (65+) premiums.
    pub premium_share: f64,
}

impl Default for Finance {
    fn default() -> Self {
        Finance {
            insurer_share: DEFAULT_INSURER_SHARE,
            municipal_share: DEFAULT_MUNICIPAL_SHARE,
            premium_share: DEFAULT_PREMIUM_SHARE,
        }
    }
}

/// One option: places per programme (indices into [`PlanFile::programmes`]).
#[derive(Clone, Debug, PartialEq)]
pub struct PlanOption {
    pub name: String,
    /// Labels for the report (Japanese, English); the name when not given.
    pub label_ja: String,
    pub label_en: String,
    pub places: Vec<(usize, u64)>,
}

/// The capacity sweep: each programme alone at 1, 2, …, `points` blocks of places.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    /// (programme index, places per block).
    pub blocks: Vec<(usize, u64)>,
    pub points: u32,
}

/// A validated plan file.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanFile {
    pub file: PathBuf,
    pub name: String,
    pub description: String,
    /// The town's name as the report shows it (free text; the plan name when not given),
    /// and in English reports (`town_name` when not given).
    pub town_name: String,
    pub town_name_en: String,
    pub start_fiscal_year: i64,
    pub years: u32,
    pub step_months: u32,
    pub replicates: u32,
    pub seed: u64,
    pub discount_rate: f64,
    pub structure: Structure,
    pub future: Future,
    /// Most people simulated (larger towns: a weighted stratified sample).
    pub sample: u64,
    pub local: LocalInputs,
    pub finance: Finance,
    pub threshold: u64,
    /// Named-parameter overrides, in file order.
    pub parameters: Vec<(String, f64)>,
    /// The programmes the town may fund (no capacity: the options give places).
    pub programmes: Vec<ScenarioProgramme>,
    pub options: Vec<PlanOption>,
    pub sweep: Option<Sweep>,
    pub uncertainty: Vec<Distribution>,
}

impl PlanFile {
    /// The programmes of `places` as the model takes them (capacities in simulated people
    /// per the caller's `to_simulated`).
    pub fn interventions(
        &self,
        places: &[(usize, u64)],
        to_simulated: impl Fn(u64) -> u64,
    ) -> Vec<Intervention> {
        places
            .iter()
            .map(|&(k, real)| {
                let mut s = self.programmes[k].spec.clone();
                s.capacity_per_year = Some(to_simulated(real));
                s
            })
            .collect()
    }

    /// The PSA draws (empty without an `[uncertainty]` table).
    pub fn draws(&self) -> Vec<models::params::ParamDraw> {
        self.uncertainty.iter().map(|d| d.draw.clone()).collect()
    }
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    name: String,
    #[serde(default)]
    description: String,
    town_name: Option<String>,
    town_name_en: Option<String>,
    start_fiscal_year: Option<i64>,
    years: Option<i64>,
    step_months: Option<i64>,
    replicates: Option<i64>,
    seed: Option<u64>,
    discount_rate: Option<f64>,
    disclosure_threshold: Option<i64>,
    town: Option<RawTown>,
    local: Option<RawLocal>,
    finance: Option<RawFinance>,
    #[serde(default)]
    parameters: BTreeMap<String, f64>,
    #[serde(default)]
    programme: Vec<RawIntervention>,
    #[serde(default)]
    option: Vec<RawOption>,
    sweep: Option<RawSweep>,
    #[serde(default)]
    uncertainty: BTreeMap<String, RawUncertainty>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawTown {
    residents: Option<String>,
    structure: Option<String>,
    population: Option<f64>,
    population_covers: Option<String>,
    projection: Option<String>,
    sample: Option<i64>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawLocal {
    frailty_prevalence: Option<f64>,
    frailty_measure: Option<String>,
    certification_rate: Option<f64>,
    care_level_share: Option<f64>,
    diabetes_prevalence: Option<f64>,
    source: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawFinance {
    ltc_insurer_share: Option<f64>,
    municipal_share: Option<f64>,
    premium_share: Option<f64>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawOption {
    name: String,
    label: Option<String>,
    label_en: Option<String>,
    places: BTreeMap<String, i64>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    points: Option<i64>,
    block: BTreeMap<String, i64>,
}

/// Reads and validates a plan file.
pub fn load(path: &Path) -> R<PlanFile> {
    parse(&crate::read_text(path)?, path)
}

/// Parses and validates plan text; `path` names it in errors and anchors relative paths.
pub fn parse(text: &str, path: &Path) -> R<PlanFile> {
    let ctx = Ctx {
        file: path.display().to_string(),
        text,
        loc: Locator::new(text),
    };
    let raw: RawPlan = toml::from_str(text).map_err(|e| ctx.toml_error(&e))?;
    raw.validate(&ctx, path)
}

fn share(ctx: &Ctx, key: &str, v: Option<f64>, default: f64) -> R<f64> {
    raw::num_in(ctx, key, v, default, 0.0, 1.0)
}

fn name_ok(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl RawPlan {
    fn validate(self, ctx: &Ctx, path: &Path) -> R<PlanFile> {
        if !name_ok(self.name.trim(), 64) {
            return Err(ctx.err(
                "name",
                "use 1-64 letters, digits, `_` or `-` (it names the output files)",
            ));
        }
        let years = raw::int_in(ctx, "years", self.years, i64::from(DEFAULT_YEARS), 1, 40)? as u32;
        let step_months = raw::int_in(ctx, "step_months", self.step_months, 1, 1, 12)? as u32;
        if !models::STEP_MONTHS.contains(&step_months) {
            return Err(ctx.err(
                "step_months",
                format!("{step_months}: the model is validated for steps of 1 or 3 months only"),
            ));
        }
        let replicates = raw::int_in(ctx, "replicates", self.replicates, 20, 1, 10_000)? as u32;
        let start_fiscal_year = raw::int_in(
            ctx,
            "start_fiscal_year",
            self.start_fiscal_year,
            DEFAULT_START_FISCAL_YEAR,
            2019,
            2100,
        )?;
        let discount_rate = raw::num_in(
            ctx,
            "discount_rate",
            self.discount_rate,
            DEFAULT_DISCOUNT_RATE,
            0.0,
            0.2,
        )?;
        let threshold = raw::int_in(
            ctx,
            "disclosure_threshold",
            self.disclosure_threshold,
            DEFAULT_THRESHOLD as i64,
            1,
            1000,
        )? as u64;
        let dir = path.parent().unwrap_or(Path::new("."));
        let (structure, future, sample) = town(ctx, dir, self.town)?;
        let local = local(ctx, self.local)?;
        let f = self.finance.unwrap_or_default();
        let finance = Finance {
            insurer_share: share(
                ctx,
                "finance.ltc_insurer_share",
                f.ltc_insurer_share,
                DEFAULT_INSURER_SHARE,
            )?,
            municipal_share: share(
                ctx,
                "finance.municipal_share",
                f.municipal_share,
                DEFAULT_MUNICIPAL_SHARE,
            )?,
            premium_share: share(
                ctx,
                "finance.premium_share",
                f.premium_share,
                DEFAULT_PREMIUM_SHARE,
            )?,
        };

        let mut model = HealthModel::new(LifeTable::mhlw_2024());
        let mut parameters = Vec::new();
        for (name, v) in &self.parameters {
            if name.starts_with("fr.ltc.local_") {
                return Err(ctx.err(
                    &format!("parameters.{name}"),
                    "set by the plan from [local] (certification_rate, care_level_share); \
                     give the town's rates there",
                ));
            }
            model
                .set_param(name, *v)
                .map_err(|e| ctx.err(&format!("parameters.{name}"), e.to_string()))?;
            parameters.push((name.clone(), *v));
        }

        if self.programme.is_empty() {
            return Err(ctx.err(
                "programme",
                "a plan needs at least one [[programme]] (what the town can fund)",
            ));
        }
        let mut programmes = Vec::new();
        let mut names = HashSet::new();
        for (i, r) in self.programme.into_iter().enumerate() {
            let key = format!("programme[{i}]");
            if r.capacity_per_year.is_some() {
                return Err(ctx.err(
                    &format!("{key}.capacity_per_year"),
                    "a plan's places are given per option: [[option]] places = { <programme> = N }",
                ));
            }
            let p = raw::programme(ctx, &key, r, years)?;
            if !names.insert(p.spec.name.clone()) {
                return Err(ctx.err(
                    &format!("{key}.name"),
                    format!("duplicate programme name `{}`", p.spec.name),
                ));
            }
            programmes.push(p);
        }
        // The model's own checks of the programmes, all together.
        let specs: Vec<Intervention> = programmes.iter().map(|p| p.spec.clone()).collect();
        model.clone().set_interventions(specs).map_err(|e| {
            let i = programmes
                .iter()
                .position(|p| p.spec.name == e.intervention)
                .unwrap_or(0);
            ctx.err(&format!("programme[{i}].{}", e.field), e.message)
        })?;
        let index = |key: &str, name: &str| -> R<usize> {
            programmes
                .iter()
                .position(|p| p.spec.name == name)
                .ok_or_else(|| {
                    let valid: Vec<&str> =
                        programmes.iter().map(|p| p.spec.name.as_str()).collect();
                    ctx.err(
                        key,
                        format!(
                            "no [[programme]] named `{name}`; the plan has {}",
                            crate::one_of(&valid)
                        ),
                    )
                })
        };

        if self.option.is_empty() {
            return Err(ctx.err(
                "option",
                "a plan needs at least one [[option]] (places per programme) to compare with \
                 the baseline",
            ));
        }
        let mut options = Vec::new();
        let mut option_names = HashSet::new();
        option_names.insert("baseline".to_string());
        for (i, o) in self.option.into_iter().enumerate() {
            let key = format!("option[{i}]");
            let name = o.name.trim().to_string();
            if !name_ok(&name, 48) {
                return Err(ctx.err(
                    &format!("{key}.name"),
                    "use 1-48 letters, digits, `_` or `-` (it labels output rows)",
                ));
            }
            if !option_names.insert(name.clone()) {
                return Err(ctx.err(
                    &format!("{key}.name"),
                    format!("option name `{name}` is used twice (or is `baseline`, the reference)"),
                ));
            }
            let mut places = Vec::new();
            for (p, n) in &o.places {
                let k = format!("{key}.places.{p}");
                let idx = index(&k, p)?;
                if *n < 0 || *n > 10_000_000 {
                    return Err(ctx.err(&k, format!("{n} places is outside [0, 10,000,000]")));
                }
                if *n > 0 {
                    places.push((idx, *n as u64));
                }
            }
            places.sort();
            if places.is_empty() {
                return Err(ctx.err(
                    &format!("{key}.places"),
                    "an option needs places in at least one programme",
                ));
            }
            options.push(PlanOption {
                label_ja: o.label.clone().unwrap_or_else(|| name.clone()),
                label_en: o.label_en.or(o.label).unwrap_or_else(|| name.clone()),
                name,
                places,
            });
        }

        let sweep = match self.sweep {
            None => None,
            Some(s) => {
                let points = raw::int_in(ctx, "sweep.points", s.points, 5, 1, 50)? as u32;
                if s.block.is_empty() {
                    return Err(ctx.err(
                        "sweep.block",
                        "name the programmes to sweep and their block of places: \
                         block = { <programme> = N }",
                    ));
                }
                let mut blocks = Vec::new();
                for (p, n) in &s.block {
                    let k = format!("sweep.block.{p}");
                    let idx = index(&k, p)?;
                    if *n < 1 || *n > 1_000_000 {
                        return Err(ctx.err(&k, format!("{n} places is outside [1, 1,000,000]")));
                    }
                    blocks.push((idx, *n as u64));
                }
                blocks.sort();
                Some(Sweep { blocks, points })
            }
        };

        let uncertainty = raw::uncertainty(ctx, &model, self.uncertainty)?;
        let town_name = self
            .town_name
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| self.name.clone());

        Ok(PlanFile {
            file: path.to_path_buf(),
            town_name: town_name.clone(),
            town_name_en: self
                .town_name_en
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .unwrap_or(town_name),
            name: self.name,
            description: self.description,
            start_fiscal_year,
            years,
            step_months,
            replicates,
            seed: self.seed.unwrap_or(1),
            discount_rate,
            structure,
            future,
            sample,
            local,
            finance,
            threshold,
            parameters,
            programmes,
            options,
            sweep,
            uncertainty,
        })
    }
}

fn town(ctx: &Ctx, dir: &Path, t: Option<RawTown>) -> R<(Structure, Future, u64)> {
    let Some(t) = t else {
        return Err(ctx.err(
            "town",
            "a plan needs a [town]: residents = \"register.csv\", or structure = \"national\" \
             with population = N",
        ));
    };
    let population = |key: &str| -> R<f64> {
        match t.population {
            Some(p) if p.is_finite() && (1.0..=50_000_000.0).contains(&p) => Ok(p),
            Some(p) => Err(ctx.err(key, format!("{p} is outside [1, 50,000,000]"))),
            None => Err(ctx.err(
                "town",
                "structure = … needs population = N (the town's residents)",
            )),
        }
    };
    let structure = match (&t.residents, &t.structure) {
        (Some(_), Some(_)) => {
            return Err(ctx.err(
                "town.structure",
                "give either residents (the register's counts) or structure (scaled to \
                 population), not both",
            ))
        }
        (Some(r), None) => {
            if t.population.is_some() || t.population_covers.is_some() {
                return Err(ctx.err(
                    "town.population",
                    "the residents file gives the counts; population applies to structure = …",
                ));
            }
            Structure::Residents(dir.join(r))
        }
        (None, Some(s)) if s == "national" => {
            if t.population_covers
                .as_deref()
                .is_some_and(|c| c != "all_ages")
            {
                return Err(ctx.err(
                    "town.population_covers",
                    "the national structure is scaled to residents of all ages (\"all_ages\")",
                ));
            }
            Structure::National {
                population: population("town.population")?,
            }
        }
        (None, Some(s)) => {
            let all_ages =
                match t.population_covers.as_deref() {
                    None | Some("listed_bands") => false,
                    Some("all_ages") => true,
                    Some(_) => return Err(ctx.err(
                        "town.population_covers",
                        "valid: `listed_bands` (the residents of the file's bands, the default) \
                         or `all_ages` (the file then needs a `total` row)",
                    )),
                };
            Structure::Scaled {
                path: dir.join(s),
                population: population("town.population")?,
                all_ages,
            }
        }
        (None, None) => {
            return Err(ctx.err(
                "town",
                "give residents = \"register.csv\" (counts by sex and 5-year band) or \
                 structure = \"national\" with population = N",
            ))
        }
    };
    let future = match &t.projection {
        None => Future::Closed,
        Some(p) => Future::Projection(dir.join(p)),
    };
    let sample = raw::int_in(
        ctx,
        "town.sample",
        t.sample,
        DEFAULT_SAMPLE as i64,
        100,
        10_000_000,
    )? as u64;
    Ok((structure, future, sample))
}

fn local(ctx: &Ctx, l: Option<RawLocal>) -> R<LocalInputs> {
    let Some(l) = l else {
        return Ok(LocalInputs::default());
    };
    let rate = |key: &str, v: Option<f64>, lo: f64, hi: f64| -> R<Option<f64>> {
        match v {
            None => Ok(None),
            Some(x) if x > lo && x < hi => Ok(Some(x)),
            Some(x) => Err(ctx.err(key, format!("{x} is outside ({lo}, {hi})"))),
        }
    };
    let measure = match l.frailty_measure.as_deref() {
        None | Some("jchs") => FrailtyMeasure::Jchs,
        Some("kcl") => FrailtyMeasure::Kcl,
        Some(_) => {
            return Err(ctx.err(
                "local.frailty_measure",
                "valid: `jchs` (J-CHS, 3+ of 5 criteria) or `kcl` (Kihon Checklist, 8+ points)",
            ))
        }
    };
    let out = LocalInputs {
        frailty: rate("local.frailty_prevalence", l.frailty_prevalence, 0.0, 0.9)?
            .map(|p| (measure, p)),
        certification_rate: rate("local.certification_rate", l.certification_rate, 0.0, 0.6)?,
        care_level_share: rate("local.care_level_share", l.care_level_share, 0.0, 1.0)?,
        diabetes_prevalence: rate("local.diabetes_prevalence", l.diabetes_prevalence, 0.0, 0.5)?,
        source: l.source.unwrap_or_default().trim().to_string(),
    };
    if !out.is_empty() && out.source.is_empty() {
        return Err(ctx.err(
            "local.source",
            "local prevalences need their source (survey, year, table)",
        ));
    }
    if out.frailty.is_none() && l.frailty_measure.is_some() {
        return Err(ctx.err(
            "local.frailty_measure",
            "frailty_measure applies to frailty_prevalence, which is not given",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "town"
[town]
structure = "national"
population = 30000
[[programme]]
name = "salon"
type = "community_salon"
[[option]]
name = "salons"
places = { salon = 3000 }
"#;

    fn check_err(text: &str, key: &str, needle: &str) {
        let e = parse(text, Path::new("p.toml")).unwrap_err();
        assert_eq!(e.key, key, "{e}");
        assert!(e.message.contains(needle), "{e}");
        assert!(e.line > 0 || key.is_empty(), "{e}");
    }

    #[test]
    fn a_minimal_plan_has_the_documented_defaults() {
        let p = parse(MINIMAL, Path::new("plans/p.toml")).unwrap();
        assert_eq!(p.years, DEFAULT_YEARS);
        assert_eq!(p.start_fiscal_year, 2027);
        assert_eq!(p.threshold, 10);
        assert_eq!(p.future, Future::Closed);
        assert_eq!(
            p.structure,
            Structure::National {
                population: 30000.0
            }
        );
        assert_eq!(p.options[0].places, vec![(0, 3000)]);
        assert!((p.finance.insurer_share - 0.9237).abs() < 1e-4);
        assert!(p.local.is_empty());
    }

    #[test]
    fn errors_name_the_key_and_line() {
        check_err(
            &MINIMAL.replace("salon = 3000", "salons = 3000"),
            "option[0].places.salons",
            "no [[programme]] named `salons`",
        );
        check_err(
            &MINIMAL.replace(
                "type = \"community_salon\"",
                "type = \"community_salon\"\ncapacity_per_year = 5",
            ),
            "programme[0].capacity_per_year",
            "per option",
        );
        check_err(
            &MINIMAL.replace(
                "population = 30000",
                "population = 30000\nresidents = \"r.csv\"",
            ),
            "town.structure",
            "not both",
        );
        check_err(
            &format!("{MINIMAL}\n[local]\ncertification_rate = 0.2\n"),
            "local.source",
            "source",
        );
        check_err(
            &format!("{MINIMAL}\n[sweep]\npoints = 3\nblock = {{ gym = 10 }}\n"),
            "sweep.block.gym",
            "no [[programme]]",
        );
        check_err(
            &MINIMAL.replace("name = \"salons\"", "name = \"baseline\""),
            "option[0].name",
            "baseline",
        );
    }
}
