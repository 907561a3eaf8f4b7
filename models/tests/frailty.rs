//! Frailty and long-term care: instrument scoring on hand-made cases, invariants of the
//! deficit process, its log-linear growth, recovery of the mortality hazard ratio from
//! simulated data, the cardiovascular coupling, and (ignored, printed) the transition
//! calibration targets.
#![allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)

use cohort::synth::{Generator, SyntheticSpec};
use engine::observe::{builtin, metric_defs, Acc, Aggregator, Recorder};
use engine::{
    init_patients, simulate, Baseline, Conditions, Covariates, Patient, Process, RunKey,
    RunSettings, Sex, StepCtx, Stream, StreamKey, Treatments, MAX_CAUSES,
};
use models::frailty::kcl::{
    self, jchs_count, kcl_category, score_kcl, JchsInputs, KclAnswers, KclCategory, Phenotype,
};
use models::frailty::{items, level, FrState};
use models::mortality::LifeTable;
use models::{HealthModel, PersonState};
use proptest::prelude::*;

use engine::Model;

// ---------------------------------------------------------------------------------------
// Kihon Checklist and J-CHS on hand-made cases (item rules: items 1-8, 16, 19 score on "no").

fn answers(yes_items: &[usize]) -> KclAnswers {
    let mut a = [false; 25];
    for &i in yes_items {
        a[i - 1] = true;
    }
    a
}

#[test]
fn kcl_all_yes_and_all_no() {
    // "Yes" to everything scores the 15 items that score on "yes".
    let s = score_kcl(&[true; 25]);
    assert_eq!(s.total, 15);
    assert_eq!(s.iadl, 0);
    assert_eq!(s.physical, 2); // items 9 and 10
    assert_eq!(s.nutrition, 2);
    assert_eq!(s.oral, 3);
    assert_eq!(s.housebound, 1); // item 17 only
    assert_eq!(s.cognition, 2); // 18 and 20
    assert_eq!(s.mood, 5);
    assert_eq!(s.category(), KclCategory::Frail);
    // "No" to everything scores the 10 items that score on "no".
    let s = score_kcl(&[false; 25]);
    assert_eq!(s.total, 10);
    assert_eq!(s.iadl, 5);
    assert_eq!(s.physical, 3);
    assert_eq!(s.housebound, 1); // item 16
    assert_eq!(s.cognition, 1); // item 19
    assert!(s.housebound_flag() && s.physical_decline() && s.cognitive_decline());
    assert!(!s.depressive_mood() && !s.oral_decline() && !s.undernutrition());
    assert_eq!(s.items_1_20, 10);
    assert!(s.overall_risk());
}

#[test]
fn kcl_robust_person_scores_zero() {
    // Goes out, shops, banks, visits, advises, climbs, stands, walks, goes out weekly, uses
    // the phone book; no falls, no weight loss, no oral or mood problems.
    let a = answers(&[1, 2, 3, 4, 5, 6, 7, 8, 16, 19]);
    let s = score_kcl(&a);
    assert_eq!(s.total, 0);
    assert_eq!(s.category(), KclCategory::Robust);
    assert!(!s.housebound_flag());
}

#[test]
fn kcl_domain_flags_on_a_worked_case() {
    // Independent in IADL and going out, but: cannot climb stairs without the rail (6 "no"),
    // fell this year (9), fears falling (10), lost 2 kg (11), hard foods (13), dry mouth (15),
    // told forgetful (18), no joy (22), tired without reason (25).
    let a = answers(&[1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 13, 15, 16, 18, 19, 22, 25]);
    let s = score_kcl(&a);
    assert_eq!(s.physical, 3);
    assert!(s.physical_decline());
    assert_eq!(s.nutrition, 1);
    assert!(!s.undernutrition());
    assert_eq!(s.oral, 2);
    assert!(s.oral_decline());
    assert!(s.cognitive_decline());
    assert_eq!(s.mood, 2);
    assert!(s.depressive_mood());
    assert_eq!(s.total, 9);
    assert_eq!(s.category(), KclCategory::Frail);
    assert!(!s.overall_risk()); // 7 of items 1-20
}

#[test]
fn kcl_category_cut_points() {
    for (t, c) in [
        (0, KclCategory::Robust),
        (3, KclCategory::Robust),
        (4, KclCategory::Prefrail),
        (7, KclCategory::Prefrail),
        (8, KclCategory::Frail),
        (25, KclCategory::Frail),
    ] {
        assert_eq!(kcl_category(t), c, "total {t}");
    }
}

#[test]
fn jchs_thresholds_follow_the_revised_criteria() {
    let base = JchsInputs {
        sex: Sex::Male,
        weight_loss_2kg_6_months: false,
        grip_kg: 28.0,
        exhausted: false,
        gait_speed_m_s: 1.0,
        light_exercise_weekly: true,
        sport_weekly: false,
    };
    assert_eq!(jchs_count(&base), 0);
    assert_eq!(
        jchs_count(&JchsInputs {
            grip_kg: 27.9,
            ..base
        }),
        1
    );
    // A woman at 27.9 kg is not weak (threshold 18 kg); at 17.9 she is.
    let woman = JchsInputs {
        sex: Sex::Female,
        ..base
    };
    assert_eq!(
        jchs_count(&JchsInputs {
            grip_kg: 27.9,
            ..woman
        }),
        0
    );
    assert_eq!(
        jchs_count(&JchsInputs {
            grip_kg: 17.9,
            ..woman
        }),
        1
    );
    // Low activity needs both answers "no".
    let no_exercise = JchsInputs {
        light_exercise_weekly: false,
        sport_weekly: false,
        ..base
    };
    assert_eq!(jchs_count(&no_exercise), 1);
    let frail = JchsInputs {
        gait_speed_m_s: 0.99,
        exhausted: true,
        ..no_exercise
    };
    assert_eq!(jchs_count(&frail), 3);
    assert_eq!(kcl::phenotype(jchs_count(&frail)), Phenotype::Frail);
    assert_eq!(kcl::phenotype(2), Phenotype::Prefrail);
}

#[test]
fn screening_answers_enter_and_leave_the_state_unchanged() {
    let mut st = HealthModel::new(LifeTable::mhlw_2024())
        .frailty()
        .init(RunKey::default_for_tests(), &baseline(0, 75.0, 0.2));
    let a = answers(&[1, 2, 5, 6, 9, 11, 12, 14, 16, 17, 20, 23, 25]);
    st.set_kcl_answers(&a);
    assert_eq!(st.kcl_answers(), a);
    assert_eq!(u32::from(score_kcl(&a).total), st.kcl_total());
    // KCL 11 and 25 are J-CHS criteria: measured J-CHS inputs overwrite them.
    st.set_jchs(&JchsInputs {
        sex: Sex::Female,
        weight_loss_2kg_6_months: false,
        grip_kg: 15.0,
        exhausted: true,
        gait_speed_m_s: 1.2,
        light_exercise_weekly: false,
        sport_weekly: false,
    });
    assert_eq!(st.jchs_count(), 3);
    assert_eq!(st.phenotype(), Phenotype::Frail);
    assert_eq!(st.deficits >> items::WEIGHT_LOSS & 1, 0);
}

// ---------------------------------------------------------------------------------------
// Helpers.

trait ForTests {
    fn default_for_tests() -> RunKey;
}
impl ForTests for RunKey {
    fn default_for_tests() -> RunKey {
        RunKey {
            seed: 1,
            replicate: 0,
        }
    }
}

fn baseline(id: u64, age: f64, fi: f64) -> Baseline {
    Baseline {
        id,
        sex: if id.is_multiple_of(2) {
            Sex::Female
        } else {
            Sex::Male
        },
        age_years: age,
        covariates: Covariates {
            bmi_kg_m2: 22.5,
            fpg_mg_dl: 95.0,
            hba1c_pct: 5.6,
            sbp_mmhg: 130.0,
            dbp_mmhg: 80.0,
            tc_mg_dl: 200.0,
            hdl_mg_dl: 60.0,
            ldl_mg_dl: 120.0,
            egfr_ml_min: 75.0,
            steps_per_day: 5000.0,
            frailty_index: fi,
            smoker: false,
            conditions: Conditions::default(),
            treatments: Treatments::default(),
        },
    }
}

fn synthetic(n: u64, seed: u64, age_min: u32, age_max: u32) -> Vec<Baseline> {
    Generator::new(SyntheticSpec {
        n,
        seed,
        age_min,
        age_max,
    })
    .unwrap()
    .generate()
}

/// A recorder over a scratch aggregator (the tests that step by hand do not read it).
struct Scratch {
    agg: Aggregator,
    offset: usize,
}

impl Scratch {
    fn new(model: &HealthModel) -> Scratch {
        let causes = model.causes_of_death();
        let n = metric_defs(causes, &model.metrics()).len();
        Scratch {
            agg: Aggregator::new(1, n),
            offset: builtin::DEATHS_BY_CAUSE + causes.len(),
        }
    }
    fn rec(&mut self) -> Recorder<'_> {
        let cells: &mut [Acc] = self.agg.cells_mut(0);
        Recorder::new(cells, self.offset)
    }
}

fn ctx(step: u32) -> StepCtx {
    StepCtx {
        run: RunKey::default_for_tests(),
        step,
        year: step / 12,
        t_years: f64::from(step) / 12.0,
        dt_years: 1.0 / 12.0,
    }
}

fn patient(model: &HealthModel, b: &Baseline) -> Patient<PersonState> {
    Patient {
        baseline: *b,
        age_years: b.age_years,
        now: b.covariates,
        death: None,
        hazard_left: f64::INFINITY,
        state: model.init(RunKey::default_for_tests(), b),
    }
}

// ---------------------------------------------------------------------------------------
// Invariants.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn fi_stays_in_the_unit_interval_and_below_the_ceiling(
        age in 40.0f64..100.0,
        fi in 0.0f64..1.0,
        bmi in 12.0f64..45.0,
        steps in 0.0f64..20_000.0,
        flags in 0u16..64,
        event_month in 0u32..240,
        id in 0u64..1_000_000,
    ) {
        let model = HealthModel::new(LifeTable::mhlw_2024());
        let fr = model.frailty();
        let mut b = baseline(id, age, fi);
        b.covariates.bmi_kg_m2 = bmi;
        b.covariates.steps_per_day = steps;
        b.covariates.conditions = Conditions(flags & 0b111);
        let mut p = patient(&model, &b);
        let mut scratch = Scratch::new(&model);
        let ceiling = fr.max_deficits();
        prop_assert!(p.state.fr.count() <= ceiling.max(1));
        for step in 0..240 {
            if step == event_month {
                // Cardiovascular events (read from the flags the CVD module sets).
                p.now.conditions = Conditions(flags >> 3 | flags & 0b111);
            }
            fr.events(&ctx(step), &mut p, &mut scratch.rec());
            let st = &p.state.fr;
            let x = p.now.frailty_index;
            prop_assert!((0.0..=1.0).contains(&x));
            prop_assert!(st.count() <= ceiling, "count {} above {ceiling}", st.count());
            prop_assert!(x <= model.frailty().p.ceiling);
            prop_assert_eq!(x, st.fi());
            prop_assert!(st.ltc <= level::CARE5);
            prop_assert!(!st.institution || st.certified());
            p.age_years += 1.0 / 12.0;
        }
    }
}

#[test]
fn a_new_stroke_adds_deficits_and_raises_acquisition() {
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let fr = model.frailty();
    let mut scratch = Scratch::new(&model);
    let mut more = 0;
    let mut raised = 0;
    for id in 0..200 {
        let mut p = patient(&model, &baseline(id, 72.0, 0.1));
        fr.events(&ctx(0), &mut p, &mut scratch.rec());
        let (n0, a0) = (p.state.fr.count(), p.state.fr.acquisition);
        p.now.conditions.insert(Conditions::STROKE);
        fr.events(&ctx(1), &mut p, &mut scratch.rec());
        // Two deficits at once (fr.event.stroke_deficits = 2); the month's own events may
        // add or repair one more.
        if p.state.fr.count() > n0 {
            more += 1;
        }
        if p.state.fr.acquisition > a0 * 1.5 {
            raised += 1;
        }
        // The flag is an event once: the next month adds nothing beyond the process.
        let n1 = p.state.fr.count();
        fr.events(&ctx(2), &mut p, &mut scratch.rec());
        assert!(p.state.fr.count() <= n1 + 2);
    }
    assert!(more >= 195, "{more} of 200 gained deficits at a stroke");
    assert_eq!(raised, 200, "stroke history multiplies acquisition by 1.6");
}

// ---------------------------------------------------------------------------------------
// Log-linear growth of the mean FI and recovery of the mortality hazard ratio.

fn run_years(
    model: &HealthModel,
    people: &[Baseline],
    years: u32,
    trace: u64,
) -> (Aggregator, Vec<engine::run::TraceRow<PersonState>>) {
    let settings = RunSettings {
        years,
        step_months: 1,
        chunk_size: 1024,
        trace_patients: trace,
    };
    let run = RunKey {
        seed: 7,
        replicate: 0,
    };
    let mut patients = init_patients(model, run, people);
    let out = simulate(model, &settings, run, &mut patients, &|_| {});
    (out.aggregate, out.trace)
}

fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>()
        / points.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>()
}

#[test]
fn mean_fi_grows_log_linearly_at_the_published_rate() {
    // 20 simulated years, so the figures describe the process rather than the cohort's
    // baseline FI (a proxy from UK Biobank, docs/cohort.md): people 50-79 at entry are
    // 69-98 at year 19, every one of them aged under the model for 19 years.
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let people = synthetic(24_000, 3, 50, 79);
    let (agg, trace) = run_years(&model, &people, 20, 24_000);
    // Cross-sectional: ln(mean FI) on age over the 5-year bands 70-89 in the last year.
    let fi = builtin::covariate("frailty_index").unwrap();
    let mut pts = Vec::new();
    for band in 14..18 {
        let mut a = Acc::default();
        for sex in Sex::ALL {
            let c = agg.get(19, sex, band, fi);
            a.num += c.num;
            a.den += c.den;
        }
        let mean = a.num as f64 / a.den as f64 / 1e6;
        pts.push((band as f64 * 5.0 + 2.5, mean.ln()));
    }
    let cross = slope(&pts);
    // Longitudinal: people aged 65-79 at year 10 and alive at year 19, mean FI at both.
    let mut by_patient: std::collections::HashMap<u64, [Option<(f64, f64)>; 2]> =
        Default::default();
    for r in &trace {
        if r.year == 10 || r.year == 19 {
            by_patient.entry(r.patient).or_insert([None, None])[(r.year / 19) as usize] =
                Some((r.patient_state.age_years, r.patient_state.state.fr.fi()));
        }
    }
    let (mut s0, mut s9, mut n) = (0.0, 0.0, 0.0);
    for v in by_patient.values() {
        if let [Some((age, a)), Some((_, b))] = v {
            if (65.0..80.0).contains(age) {
                s0 += a;
                s9 += b;
                n += 1.0;
            }
        }
    }
    let longitudinal = (s9 / s0).ln() / 9.0;
    eprintln!(
        "ln(mean FI) slope: cross-sectional {:.2}%/y (bands {pts:?}), longitudinal {:.2}%/y over {n} survivors",
        100.0 * cross,
        100.0 * longitudinal
    );
    // Published: 3%/y cross-sectional (Mitnitski 2001/2002, CSHA), 3.5%/y cross-sectional
    // and 4.5 +- 0.75%/y longitudinal (Mitnitski & Rockwood 2016, NPHS).
    assert!((0.03..=0.045).contains(&cross), "cross-sectional {cross}");
    assert!(
        (0.03..=0.0525).contains(&longitudinal),
        "longitudinal {longitudinal}"
    );
}

#[test]
fn a_cox_fit_on_simulated_deaths_recovers_the_fi_hazard_ratio() {
    // Diabetes hazard ratios neutralised, so the FI is the only individual risk factor
    // besides age and sex; strata = sex x single year of age, x = FI in 0.01 units (the
    // deficit count is discrete, so person-time is tabulated by stratum and count).
    let mut model = HealthModel::new(LifeTable::mhlw_2024());
    for (name, v) in [
        ("dm.mortality.hr_male", 1.0),
        ("dm.mortality.hr_female", 1.0),
        ("dm.mortality.log_hr_esrd", 0.0),
        ("dm.mortality.log_hr_amputation", 0.0),
        ("dm.mortality.log_hr_albuminuria", 0.0),
    ] {
        model.set_param(name, v).unwrap();
    }
    let fr = model.frailty();
    let people = synthetic(60_000, 5, 60, 89);
    let mut scratch = Scratch::new(&model);
    const AGES: usize = 80;
    const COUNTS: usize = items::N as usize + 1;
    let mut time = vec![[0.0f64; COUNTS]; 2 * AGES];
    let mut deaths = vec![[0.0f64; COUNTS]; 2 * AGES];
    let death = Process::named("test.cox_death");
    for b in &people {
        let mut p = patient(&model, b);
        for step in 0..120 {
            let c = ctx(step);
            fr.events(&c, &mut p, &mut scratch.rec());
            let mut h = [0.0; MAX_CAUSES];
            model.mortality_hazards(&c, &p, &mut h);
            let total: f64 = h.iter().sum();
            let u = Stream::new(StreamKey::new(c.run, death), b.id, step).uniform();
            let died = u < -(-total * c.dt_years).exp_m1();
            let t = if died {
                -(-u).ln_1p() / total
            } else {
                c.dt_years
            };
            let stratum = p.sex().index() * AGES + (p.age_years as usize - 50).min(AGES - 1);
            let k = p.state.fr.count() as usize;
            time[stratum][k] += t;
            if died {
                deaths[stratum][k] += 1.0;
                break;
            }
            p.age_years += t;
        }
    }
    let x = |k: usize| 100.0 * k as f64 / f64::from(items::N);
    let mut beta = 0.0;
    let mut info = 0.0;
    for _ in 0..30 {
        let (mut score, mut inf) = (0.0, 0.0);
        for s in 0..2 * AGES {
            let d_s: f64 = deaths[s].iter().sum();
            if d_s == 0.0 {
                continue;
            }
            let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
            for k in 0..COUNTS {
                let w = time[s][k] * (beta * x(k)).exp();
                s0 += w;
                s1 += w * x(k);
                s2 += w * x(k) * x(k);
                score += deaths[s][k] * x(k);
            }
            score -= d_s * s1 / s0;
            inf += d_s * (s2 / s0 - (s1 / s0).powi(2));
        }
        beta += score / inf;
        info = inf;
    }
    let se = 1.0 / info.sqrt();
    let (lo, hi) = ((beta - 1.96 * se).exp(), (beta + 1.96 * se).exp());
    let total_deaths: f64 = deaths.iter().flatten().sum();
    eprintln!(
        "Cox fit: HR per 0.01 FI {:.4} (95% CI {lo:.4}-{hi:.4}), {total_deaths} deaths; input {}",
        beta.exp(),
        model.frailty().p.hr_per_001
    );
    let input = model.frailty().p.hr_per_001;
    assert!(lo <= input && input <= hi, "input HR outside the fitted CI");
    // The simulated study is at least as precise as the meta-analysis (1.033-1.044).
    assert!(hi - lo < 0.011, "CI too wide to be a test: {lo}-{hi}");
}

// ---------------------------------------------------------------------------------------
// Calibration printout: the targets that need individual follow-up (Kojima 2019
// transitions, Fallah 2011, the longitudinal FI slope) and, for quick iteration, the
// cross-sectional ones. Run with
// `cargo test --release -p models --test frailty -- --ignored --nocapture calibration`;
// `FR_SET="name=value,name=value"` overrides parameters for a trial run.

fn age_band_of(age: f64) -> Option<usize> {
    match age {
        a if a < 65.0 => None,
        a if a < 70.0 => Some(0),
        a if a < 75.0 => Some(1),
        a if a < 80.0 => Some(2),
        a if a < 85.0 => Some(3),
        a if a < 90.0 => Some(4),
        _ => Some(5),
    }
}

#[test]
#[ignore]
fn calibration_printout() {
    let mut model = HealthModel::new(LifeTable::mhlw_2024());
    if let Ok(set) = std::env::var("FR_SET") {
        for kv in set.split(',').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').expect("name=value");
            model
                .set_param(k.trim(), v.trim().parse().unwrap())
                .unwrap();
        }
    }
    let years = 10usize;
    let people = synthetic(30_000, 11, 40, 89);
    let (_, trace) = run_years(&model, &people, years as u32, 30_000);
    let mut at: std::collections::HashMap<u64, Vec<Option<(f64, FrState)>>> = Default::default();
    for r in &trace {
        at.entry(r.patient).or_insert_with(|| vec![None; years])[r.year as usize] =
            Some((r.patient_state.age_years, r.patient_state.state.fr));
    }
    // Cross-sectional figures at year 0 and the last year.
    for y in [0, years - 1] {
        let mut frail = [[0.0f64; 2]; 6];
        let mut pre = [0.0f64; 6];
        let mut cert = [[0.0f64; 2]; 6];
        let mut fi = [[0.0f64; 2]; 6];
        let mut levels = [0.0f64; 8];
        let mut inst = [0.0f64; 8];
        let mut kcl8 = [0.0f64; 2];
        let mut fi_young = [[0.0f64; 2]; 3];
        for s in at.values() {
            if let Some((age, st)) = s[y] {
                if age < 65.0 {
                    let b = ((age - 40.0) / 10.0).floor().clamp(0.0, 2.0) as usize;
                    fi_young[b][0] += st.fi();
                    fi_young[b][1] += 1.0;
                    continue;
                }
                let b = age_band_of(age).unwrap();
                frail[b][0] += (st.phenotype() == Phenotype::Frail) as u8 as f64;
                pre[b] += (st.phenotype() == Phenotype::Prefrail) as u8 as f64;
                frail[b][1] += 1.0;
                cert[b][0] += st.certified() as u8 as f64;
                cert[b][1] += 1.0;
                fi[b][0] += st.fi();
                fi[b][1] += 1.0;
                levels[st.ltc as usize] += 1.0;
                if st.institution {
                    inst[st.ltc as usize] += 1.0;
                }
                kcl8[0] += (st.kcl_total() >= 8) as u8 as f64;
                kcl8[1] += 1.0;
            }
        }
        let pct = |a: [f64; 2]| 100.0 * a[0] / a[1];
        eprintln!("== year {y} ==");
        eprintln!(
            "frail %  65-69..85-89,90+: {:?}  (target 1.9 3.8 10.0 20.4 35.1[85+])",
            frail
                .iter()
                .map(|a| format!("{:.1}", pct(*a)))
                .collect::<Vec<_>>()
        );
        let n65: f64 = frail.iter().map(|a| a[1]).sum();
        eprintln!(
            "65+: frail {:.1} (7.4) prefrail {:.1} (48.1)   KCL>=8 {:.1}",
            100.0 * frail.iter().map(|a| a[0]).sum::<f64>() / n65,
            100.0 * pre.iter().sum::<f64>() / n65,
            pct(kcl8)
        );
        eprintln!(
            "certified %: {:?}  (target 2.8 5.5 12.4 26.4 48.1 72.7)",
            cert.iter()
                .map(|a| format!("{:.1}", pct(*a)))
                .collect::<Vec<_>>()
        );
        eprintln!(
            "mean FI 65-69..90+: {:?}  (reference 0.144 0.164 0.184 0.205 0.235@85-89)   40s,50s,60-64: {:?}",
            fi.iter().map(|a| format!("{:.3}", a[0] / a[1])).collect::<Vec<_>>(),
            fi_young.iter().map(|a| format!("{:.3}", a[0] / a[1])).collect::<Vec<_>>()
        );
        let nc: f64 = levels[1..].iter().sum();
        eprintln!(
            "level mix %: {:?}  (target 14.3 13.8 20.9 16.6 13.2 12.8 8.4)",
            levels[1..]
                .iter()
                .map(|v| format!("{:.1}", 100.0 * v / nc))
                .collect::<Vec<_>>()
        );
        eprintln!(
            "facility share by care level %: {:?}  (target 3.6 7.5 26.4 39.9 43.4)",
            (3..8)
                .map(|k| format!("{:.1}", 100.0 * inst[k] / levels[k]))
                .collect::<Vec<_>>()
        );
    }
    let idx = |p: Phenotype| match p {
        Phenotype::Robust => 0,
        Phenotype::Prefrail => 1,
        Phenotype::Frail => 2,
    };
    // Kojima 2019: mean follow-up 3.9 y, community-dwelling, mean age > 60 (years 0 -> 4
    // among survivors aged 65+ at baseline, outside facilities).
    let mut m = [[0.0f64; 3]; 3];
    let mut same_or_fewer = [0.0f64; 2];
    let mut n70 = [0.0f64; 2];
    let (mut l0, mut l9, mut nl) = (0.0, 0.0, 0.0);
    for s in at.values() {
        let Some((age0, a)) = s[0] else { continue };
        if age0 < 65.0 {
            continue;
        }
        if let Some((_, b)) = s[4] {
            if !a.institution {
                m[idx(a.phenotype())][idx(b.phenotype())] += 1.0;
            }
        }
        // Fallah 2011 (Yale PEP, 70+): same or fewer deficits 54 months later (years 4, 5).
        if age0 >= 70.0 {
            for (j, y) in [4usize, 5].iter().enumerate() {
                if let Some((_, b)) = s[*y] {
                    n70[j] += 1.0;
                    if b.count() <= a.count() {
                        same_or_fewer[j] += 1.0;
                    }
                }
            }
        }
        if age0 < 80.0 {
            if let Some((_, b)) = s[years - 1] {
                l0 += a.fi();
                l9 += b.fi();
                nl += 1.0;
            }
        }
    }
    let names = ["robust", "prefrail", "frail"];
    let (mut improved, mut worsened, mut all) = (0.0, 0.0, 0.0);
    for (i, row) in m.iter().enumerate() {
        let n: f64 = row.iter().sum();
        all += n;
        for (j, v) in row.iter().enumerate() {
            if j < i {
                improved += v;
            } else if j > i {
                worsened += v;
            }
        }
        eprintln!(
            "{:>9} (n={n}): -> robust {:.1}%, prefrail {:.1}%, frail {:.1}%",
            names[i],
            100.0 * row[0] / n,
            100.0 * row[1] / n,
            100.0 * row[2] / n
        );
    }
    eprintln!(
        "Kojima 2019 targets: robust -> 54.0 / 40.6 / 4.5; prefrail -> robust 23.1; overall \
         improved 13.7, worsened 29.1, same 56.5. Simulated: improved {:.1}, worsened {:.1}, same {:.1}",
        100.0 * improved / all,
        100.0 * worsened / all,
        100.0 * (all - improved - worsened) / all
    );
    eprintln!(
        "Fallah 2011 (70+, 54 months): same or fewer deficits 20.6-32.4%. Simulated: {:.1}% at 48 \
         months, {:.1}% at 60 months",
        100.0 * same_or_fewer[0] / n70[0],
        100.0 * same_or_fewer[1] / n70[1]
    );
    eprintln!(
        "longitudinal ln(mean FI) growth, 65-79 at baseline, {nl} survivors to year {}: {:.2}%/y (4.5 +- 0.75)",
        years - 1,
        100.0 * (l9 / l0).ln() / (years - 1) as f64
    );
    for row in m {
        assert!(row.iter().sum::<f64>() > 0.0);
    }
}
