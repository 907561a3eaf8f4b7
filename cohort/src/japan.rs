//! Published Japanese inputs of the synthetic cohort, each with its source and a quality tag
//! (the tags of `shared/science/japan_population.md`):
//! `[V]` read in a primary page; `[2]` a secondary page quoting the official survey;
//! `[D]` derived here by arithmetic (method stated); `[A]` an assumption with no source,
//! stated so calibration can move it. The full research notes, with URLs, are in
//! `docs/sources/cohort_research_2026-11.md`; `docs/cohort.md` explains the generator.
//!
//! Tables are by sex (male, female) and 10-year band 40-49 ... 80-89. The generator
//! interpolates linearly between band midpoints (45, 55, ..., 85), so no value jumps at
//! a decade boundary. NHNS reports "70+" as one band; where only 70+ exists, the 80-89
//! column repeats it and is the weakest column of the table.

/// Midpoints of the 10-year bands the tables are given for.
pub const BAND_MIDPOINTS: [f64; 5] = [45.0, 55.0, 65.0, 75.0, 85.0];

/// Mean and SD of a continuous covariate by sex and band.
#[derive(Clone, Copy, Debug)]
pub struct Marginal {
    pub name: &'static str,
    /// `[male, female]` × band.
    pub mean: [[f64; 5]; 2],
    pub sd: [[f64; 5]; 2],
    pub source: &'static str,
}

/// A share (percent) by sex and band.
#[derive(Clone, Copy, Debug)]
pub struct Share {
    pub name: &'static str,
    pub pct: [[f64; 5]; 2],
    pub source: &'static str,
}

/// Linear interpolation between band midpoints, flat outside them.
pub fn at_age(table: &[f64; 5], age: f64) -> f64 {
    engine::math::interpolate(&BAND_MIDPOINTS, table, age)
}

/// Population on 2022-10-01 by sex and 5-year age group 20-24 ... 85-89, thousands.
/// Source [V]: 総務省統計局 人口推計 2022-10-01 (total incl. foreigners), reprinted by IPSS
/// 人口統計資料集2024 表2-2 (ipss.go.jp Popular2024 T02-02, read again for 20-39 in issue 18).
/// The 2023/2024 five-year tables by sex could not be read; this is the newest found
/// (shared/science/japan_population.md §1).
pub const POPULATION_2022_THOUSANDS: [[f64; 14]; 2] = [
    [
        3216.0, 3295.0, 3300.0, 3668.0, 4028.0, 4792.0, 4756.0, 4036.0, 3684.0, 3665.0, 4405.0,
        3151.0, 2392.0, 1429.0,
    ],
    [
        3047.0, 3118.0, 3146.0, 3544.0, 3918.0, 4671.0, 4680.0, 4038.0, 3761.0, 3870.0, 4932.0,
        3878.0, 3350.0, 2525.0,
    ],
];
pub const POPULATION_FIRST_AGE: u32 = 20;

/// Ages 20-39 (issue 18): values at the midpoints 25 and 35 of the 20-29 and 30-39 bands,
/// `[male, female] × [25, 35]`. Below 40 a covariate interpolates 25 → 35 → 40, ending at the
/// 40-49 value (which holds flat from 40 to 45 as before), so nobody aged 40 or more changes.
/// Sources and tags in `source`; docs/cohort.md lists them.
#[derive(Clone, Copy, Debug)]
pub struct Young {
    pub name: &'static str,
    pub mean: [[f64; 2]; 2],
    /// SD (marginals) — unused for shares.
    pub sd: [[f64; 2]; 2],
    pub source: &'static str,
}

/// Half the 40s→50s slope, extrapolated to 35 and 25 (`[D]`): for risk factors that rise with
/// age more slowly in young adults than in middle age [A]; SDs of the 40s.
const fn half_slope(t: &[[f64; 5]; 2], sd: &[[f64; 5]; 2]) -> ([[f64; 2]; 2], [[f64; 2]; 2]) {
    let mut mean = [[0.0; 2]; 2];
    let mut s = [[0.0; 2]; 2];
    let mut i = 0;
    while i < 2 {
        let half = (t[i][1] - t[i][0]) / 2.0;
        mean[i] = [t[i][0] - 2.0 * half, t[i][0] - half];
        s[i] = [sd[i][0], sd[i][0]];
        i += 1;
    }
    (mean, s)
}

const fn young_marginal(m: &Marginal, source: &'static str) -> Young {
    let (mean, sd) = half_slope(&m.mean, &m.sd);
    Young {
        name: m.name,
        mean,
        sd,
        source,
    }
}

/// The 20-39 values of each marginal, by name.
pub const YOUNG_MARGINALS: [Young; 11] = [
    Young {
        name: "bmi_kg_m2",
        mean: [[22.94, 23.66], [20.65, 21.80]],
        sd: [[3.33, 2.87], [2.75, 2.98]],
        source: "[D] from [2] NHNS 2017 shares with BMI <18.5 and >=25 (men 20s 9.1/26.8%, 30s \
                 3.6/32.0%; women 20s 21.7/5.7%, 30s 13.4/14.2%; tricraft-jp.com quoting H29 \
                 NHNS), mean and SD solved under a normal model as for 40+",
    },
    young_marginal(
        &SBP,
        "[D] half the 40s->50s slope extrapolated [A]; SD of the 40s",
    ),
    young_marginal(
        &DBP,
        "[D] half the 40s->50s slope extrapolated [A]; SD of the 40s",
    ),
    young_marginal(
        &TC,
        "[D] half the 40s->50s slope extrapolated [A]; SD of the 40s",
    ),
    Young {
        name: "hdl_mg_dl",
        mean: [[57.8, 57.8], [69.8, 69.8]],
        sd: [[17.0, 17.0], [17.0, 17.0]],
        source: "[A] the 40s value held (HDL changes little with age in young adults)",
    },
    young_marginal(
        &LDL,
        "[D] half the 40s->50s slope extrapolated [A]; SD of the 40s",
    ),
    young_marginal(
        &HBA1C_NON_DIABETIC,
        "[D] half the 40s->50s slope extrapolated [A]; SD of the 40s",
    ),
    young_marginal(
        &FPG_NON_DIABETIC,
        "[D] half the 40s->50s slope extrapolated [A]; SD of the 40s",
    ),
    Young {
        name: "egfr_ml_min",
        mean: [[91.3, 86.35], [91.3, 86.35]],
        sd: [[14.4, 14.4], [14.4, 14.4]],
        source: "[D] the Kyokai Kenpo 40s->50s decline (-0.5 per year, Takahashi 2016) \
                 extrapolated linearly to 35 and 25; SD of the 40s",
    },
    Young {
        name: "steps_per_day",
        mean: [[7500.0, 7500.0], [6641.0, 6691.0]],
        sd: [[4702.0, 4702.0], [4064.0, 4095.0]],
        source: "women 20s [2] NHNS 2019 6,641 (la-caprese.com/41, the source of the 40+ \
                 table), 30s [D] mean of 20s and 40s; men [A] the 40s-50s 7,500 held; SD [D] \
                 the NHNS 2007 coefficients of variation",
    },
    Young {
        name: "frailty_index",
        mean: [[0.111, 0.111], [0.111, 0.111]],
        sd: [[0.070, 0.070], [0.070, 0.070]],
        source: "proxy [V] UK Biobank <50 value (Williams 2019) held below 40 [A]",
    },
];

/// The 20-39 values of each share (percent), by name.
pub const YOUNG_SHARES: [Young; 7] = [
    Young {
        name: "smoker",
        mean: [[25.0, 33.0], [6.0, 8.0]],
        sd: [[0.0; 2]; 2],
        source: "[A] current smoking lower in the 20s than the 30s-40s, as NHNS reports by age \
                 [M]; not read for 20-39 in a source",
    },
    Young {
        name: "diabetes",
        mean: [[0.4, 1.3], [0.2, 0.7]],
        sd: [[0.0; 2]; 2],
        source: "30-39 [V] NHNS 2016 'strongly suspected' men 1.3%, women 0.7% \
                 (shared/science/diabetes_cvd.md §5); 20-29 [A] a third of the 30s",
    },
    Young {
        name: "rx_glucose_lowering_given_dx",
        mean: [[33.3, 33.3], [16.7, 16.7]],
        sd: [[0.0; 2]; 2],
        source: "[A] the 40s share",
    },
    Young {
        name: "rx_antihypertensive",
        mean: [[0.2, 1.0], [0.2, 1.0]],
        sd: [[0.0; 2]; 2],
        source: "30s [2] NHNS 2004: 1% of people in their 30s take antihypertensives (JPALD \
                 seikatsusyukanbyo.com statistics 003326); 20s [A] 0.2%",
    },
    Young {
        name: "rx_lipid_lowering",
        mean: [[0.5, 2.0], [0.5, 2.0]],
        sd: [[0.0; 2]; 2],
        source: "[A] continuing the halving per decade below the 40s",
    },
    Young {
        name: "hx_stroke",
        mean: [[0.2, 0.39], [0.11, 0.23]],
        sd: [[0.0; 2]; 2],
        source: "[A] prevalence halving per decade below the 40s, as for 40+",
    },
    Young {
        name: "hx_myocardial_infarction",
        mean: [[0.18, 0.37], [0.05, 0.1]],
        sd: [[0.0; 2]; 2],
        source: "[A] prevalence halving per decade below the 40s, as for 40+",
    },
];

fn young_of<'a>(list: &'a [Young], name: &str) -> Option<&'a Young> {
    list.iter().find(|y| y.name == name)
}

/// Below 40: 25 → 35 → 40 with the 40-49 value at 40 (see [`Young`]).
fn young_at(y25: f64, y35: f64, at40: f64, age: f64) -> f64 {
    engine::math::interpolate(&[25.0, 35.0, 40.0], &[y25, y35, at40], age)
}

impl Marginal {
    /// Mean and SD for `sex` (0 male, 1 female) at `age`.
    pub fn at(&self, sex: usize, age: f64) -> (f64, f64) {
        let mean = at_age(&self.mean[sex], age);
        let sd = at_age(&self.sd[sex], age);
        if age >= 40.0 {
            return (mean, sd);
        }
        match young_of(&YOUNG_MARGINALS, self.name) {
            Some(y) => (
                young_at(y.mean[sex][0], y.mean[sex][1], mean, age),
                young_at(y.sd[sex][0], y.sd[sex][1], sd, age),
            ),
            None => (mean, sd),
        }
    }
}

impl Share {
    /// Percent for `sex` at `age`.
    pub fn at(&self, sex: usize, age: f64) -> f64 {
        let pct = at_age(&self.pct[sex], age);
        if age >= 40.0 {
            return pct;
        }
        match young_of(&YOUNG_SHARES, self.name) {
            Some(y) => young_at(y.mean[sex][0], y.mean[sex][1], pct, age),
            None => pct,
        }
    }
}

pub const BMI: Marginal = Marginal {
    name: "bmi_kg_m2",
    mean: [
        [24.03, 23.70, 23.75, 23.19, 23.19],
        [22.21, 22.56, 23.01, 22.91, 22.91],
    ],
    sd: [
        [2.58, 2.74, 3.04, 2.78, 2.78],
        [2.97, 3.18, 3.07, 3.33, 3.33],
    ],
    source:
        "[D] from [2]: mean and SD solved from NHNS 2017 shares with BMI <18.5 and >=25 by sex \
             and age (tricraft-jp.com quoting H29 NHNS) under a normal model; 80-89 = 70+. \
             Drawn log-normal with this mean and SD (BMI is right-skewed).",
};

pub const SBP: Marginal = Marginal {
    name: "sbp_mmhg",
    mean: [[125.8, 131.7, 138.1, 141.5, 141.5], [114.3, 123.7, 137.1, 140.1, 140.1]],
    sd: [[16.0, 16.8, 17.5, 16.6, 16.6], [16.5, 16.5, 18.9, 18.9, 18.9]],
    source: "[2] means incl. antihypertensive users: NHNS 2019 for 40-59 (wellpalette.lotte.co.jp \
             article 10099), NHNS 2013 for 60+ (kou-ketsuatsu.com/mean); 80-89 = 70+. Men's SDs [D] \
             from NHNS 2012 SBP bins by age; women's SDs are proxies: checkup workers 2013-16 SD \
             16.5 [V] (40-59) and JPSC-AD 65+ SD 18.9 [V] (60+).",
};

pub const DBP: Marginal = Marginal {
    name: "dbp_mmhg",
    mean: [
        [81.3, 82.0, 84.0, 79.9, 79.9],
        [71.2, 75.4, 81.6, 76.6, 76.6],
    ],
    sd: [
        [11.6, 11.6, 11.5, 11.5, 11.5],
        [11.7, 11.7, 11.5, 11.5, 11.5],
    ],
    source: "[2] means incl. users: NHNS 2019 (40-59), NHNS 2013 (60-69, men 70+), NHNS 2015 \
             (women 70+, ketuatu-info.com); SDs are proxies: NHNS 2023 men all ages [D] 11.6, \
             checkup workers 11.7 [V], JPSC-AD 65+ 11.5 [V].",
};

pub const TC: Marginal = Marginal {
    name: "tc_mg_dl",
    mean: [
        [211.8, 206.5, 199.1, 191.6, 191.6],
        [200.0, 221.7, 212.0, 210.0, 210.0],
    ],
    sd: [
        [36.7, 36.7, 36.7, 36.7, 36.7],
        [36.7, 36.7, 36.7, 36.7, 36.7],
    ],
    source: "weak. Men [2] NHNS 2004 40s 211.8 and 70+ 191.6 (sophyrich.com), 50s and 60s [D] \
             linear between them. Women: 50s [2] midpoint of 219.1-224.3 (NHNS 1997-2004), 60s \
             and 70+ [2] 'about 210+' / 'around 210'; 40s [A] 200 (no source found). SD [D] \
             pooled Japanese cohorts TC 5.16 (0.95) mmol/L, Hypertens Res 2012 (hr201287) Table 1.",
};

pub const HDL: Marginal = Marginal {
    name: "hdl_mg_dl",
    mean: [
        [57.8, 59.6, 61.6, 57.5, 57.5],
        [69.8, 73.1, 68.7, 64.1, 64.1],
    ],
    sd: [
        [17.0, 17.0, 17.0, 17.0, 17.0],
        [17.0, 17.0, 17.0, 17.0, 17.0],
    ],
    source: "[2] means: NHNS 第2部 身体状況調査 (year not stated, probably 2019), \
             wellpalette.lotte.co.jp article 10097; 80-89 = 70-79. SD proxy [V]: community \
             cohort n=8,850, HDL 65 +/- 17 (J Clin Hypertens 2021;23:1390, PMC8678776).",
};

pub const LDL: Marginal = Marginal {
    name: "ldl_mg_dl",
    mean: [
        [130.0, 130.0, 125.0, 125.0, 125.0],
        [120.0, 137.5, 142.5, 142.5, 142.5],
    ],
    sd: [
        [30.7, 30.7, 30.7, 30.7, 30.7],
        [30.7, 30.7, 30.7, 30.7, 30.7],
    ],
    source: "weak: means [D] are midpoints of ranges said to be NHNS (choleste-coach.com, \
             [unconfirmed]); anchors NHNS 2000 all ages M 121, F 115 [V]. SD [V] Ningen-dock \
             FY2014 n=55,771, LDL 128.6 (30.7) (JMAJ 2024-0328 table 1).",
};

/// HbA1c of people without diabetes (HbA1c < 6.5 % and no glucose-lowering drug).
pub const HBA1C_NON_DIABETIC: Marginal = Marginal {
    name: "hba1c_pct",
    mean: [
        [5.446, 5.533, 5.636, 5.687, 5.687],
        [5.467, 5.588, 5.687, 5.713, 5.713],
    ],
    sd: [
        [0.25, 0.35, 0.35, 0.35, 0.35],
        [0.35, 0.30, 0.30, 0.30, 0.30],
    ],
    source:
        "[2] NHNS 2012-15 pooled, people with HbA1c <6.5% and no drug (crankcho.com/h/hba1c.html); \
             SD [D] half the published -1SD..+1SD range; 80-89 = 70+.",
};

/// Fasting plasma glucose of people without diabetes.
pub const FPG_NON_DIABETIC: Marginal = Marginal {
    name: "fpg_mg_dl",
    mean: [
        [97.0, 101.0, 101.0, 100.0, 100.0],
        [90.0, 94.0, 96.0, 98.0, 98.0],
    ],
    sd: [
        [10.0, 10.0, 10.0, 10.0, 10.0],
        [10.0, 10.0, 10.0, 10.0, 10.0],
    ],
    source: "weak: fasting glucose by decade, source not named (seijyou.net, [unconfirmed]); \
             anchor Ningen-dock FBG 97.1 (16.4) at mean age 52 [V] (JMAJ 2024-0328), whose SD \
             includes people with diabetes; [A] SD 10 for the non-diabetic part.",
};

/// HbA1c of people with diabetes: [D] NHNS 2003 mean of people on drug therapy, 7.26 % (JDS)
/// [2], converted to NGSP with the JDS formula NGSP = 1.02 × JDS + 0.25 (Kashiwagi 2012) = 7.66;
/// SD [A] 1.0. Issue 3's physiology model replaces this component.
pub const HBA1C_DIABETIC_MEAN: f64 = 7.66;
pub const HBA1C_DIABETIC_SD: f64 = 1.0;
/// ADAG: estimated average glucose (mg/dL) = 28.7 × HbA1c − 46.7 (Nathan et al., Diabetes Care
/// 2008;31:1473), less the mean-minus-fasting gap, is the centre of fasting glucose in people
/// with diabetes; SD [A] 20.
pub const ADAG_SLOPE: f64 = 28.7;
pub const ADAG_INTERCEPT: f64 = -46.7;
/// Mean glucose minus fasting glucose (mg/dL): [D] the JDS criteria equate FPG 126 mg/dL with
/// HbA1c 6.5%, whose ADAG eAG is 139.85 (the model's `dm.hba1c.mean_minus_fasting`).
pub const MEAN_MINUS_FASTING: f64 = 13.85;
pub const FPG_DIABETIC_SD: f64 = 20.0;

pub const EGFR: Marginal = Marginal {
    name: "egfr_ml_min",
    mean: [
        [81.4, 76.45, 72.05, 66.5, 61.3],
        [81.4, 76.45, 72.05, 66.5, 61.3],
    ],
    sd: [
        [14.4, 15.6, 14.6, 11.8, 11.8],
        [14.4, 15.6, 14.6, 11.8, 11.8],
    ],
    source: "[D] from [V] Takahashi et al., 総合健診 2016;43(4):518 (Kyokai Kenpo Tokyo 2012, \
             n=766,095): means of the two 5-year rows per decade; 70-79 averages 70-74 (67.8) \
             and 75-79 extrapolated at -0.523/yr; 80-89 extrapolated the same way (no direct \
             data). Sex-specific means not found: both sexes share them. SD proxies [V]: \
             worksite cohort 14.4 (PMC6434140), community cohort 15.6/14.6 (PMC8678776), \
             JPSC-AD 65+ 11.8.",
};

pub const STEPS: Marginal = Marginal {
    name: "steps_per_day",
    mean: [
        [7500.0, 7500.0, 6500.0, 4900.0, 3300.0],
        [6741.0, 6841.0, 5500.0, 4250.0, 3000.0],
    ],
    sd: [
        [4702.0, 4702.0, 4076.0, 3072.0, 2069.0],
        [4119.0, 4180.0, 3361.0, 2597.0, 1833.0],
    ],
    source: "[2] NHNS 2019 as paraphrased by la-caprese.com/41 (men 40s-50s 7,000-7,999 -> 7,500, \
             60s 6,000-6,999 -> 6,500, 70s 'just under 5,000' -> 4,900; women 50s 6,841, 60s \
             5,000-5,999 -> 5,500, 70s 4,000-4,499 -> 4,250, 40s [D] mean of 20s 6,641 and 50s \
             6,841); 80-89 [D] the 60s->70s decline continued one decade. SD [D] coefficient of \
             variation of NHNS 2007 (M 0.627, F 0.611; Inoue et al. MSSE 2011;43:1913 [V]). \
             Drawn log-normal.",
};

/// Frailty index (deficit accumulation). No Japanese FI distribution by age was found.
pub const FRAILTY_INDEX: Marginal = Marginal {
    name: "frailty_index",
    mean: [
        [0.111, 0.123, 0.134, 0.174, 0.235],
        [0.111, 0.123, 0.134, 0.174, 0.235],
    ],
    sd: [
        [0.070, 0.076, 0.076, 0.085, 0.090],
        [0.070, 0.076, 0.076, 0.085, 0.090],
    ],
    source: "proxy, not Japanese: UK Biobank 49-item FI by age (Williams et al., J Gerontol A \
             2019;74:582, Table 1 [V]): <50 0.111 (0.070), 50-59 0.123 (0.076), 60-69 [D] mean of \
             60-64 and 65+; 70-79 and 80-89 [D] 3%/yr log-linear growth (Mitnitski 2002, \
             shared/science/frailty_japan.md §1.1) from 0.139 at an assumed age 67; SDs 70+ [A]. \
             Drawn gamma, capped at the 0.7 ceiling. Issue 5 recalibrates the FI scale.",
};

pub const SMOKING: Share = Share {
    name: "smoker",
    pct: [[36.5, 31.8, 31.1, 15.1, 15.1], [10.3, 12.9, 8.6, 3.0, 3.0]],
    source: "[2] NHNS 2019 current smoking by sex and age (news.livedoor.com article 19130253); \
             80-89 = 70+ (overstates smoking at 80+).",
};

/// Diabetes "strongly suspected" (HbA1c >= 6.5 % or on treatment): the latent diabetes state.
pub const DIABETES: Share = Share {
    name: "diabetes",
    pct: [[4.9, 12.5, 18.8, 22.6, 22.6], [1.9, 5.7, 10.7, 15.6, 15.6]],
    source:
        "[2] NHNS 2012-15 pooled, 'strongly suspected' by sex and age (crankcho.com third-party \
             tabulation; japan_population.md §2.1); 80-89 = 70+.",
};

/// Of people with diabetes, the share diagnosed (ever told by a doctor). [A]: no age-specific
/// source found; NHNS counts about 11.0 M strongly suspected (2024) and 67.4 % of the
/// diagnosed treated [V]. A calibration handle for issue 3.
pub const DIABETES_DIAGNOSED_PCT: f64 = 75.0;

/// Of people with diagnosed diabetes, the share treated with glucose-lowering drugs.
pub const DIABETES_TREATED: Share = Share {
    name: "rx_glucose_lowering_given_dx",
    pct: [[33.3, 70.4, 76.5, 78.7, 78.7], [16.7, 52.4, 55.0, 71.2, 71.2]],
    source: "[V] NHNS 2019 special tabulation, % treated among those ever told they have diabetes \
             (Health Japan 21 final evaluation 図8-2, wic-net.com/material/document/893/67); 80-89 = 70+.",
};

pub const ANTIHYPERTENSIVE: Share = Share {
    name: "rx_antihypertensive",
    pct: [[5.1, 17.8, 33.9, 53.8, 53.8], [5.1, 17.8, 33.9, 53.8, 53.8]],
    source: "[2] NHNS antihypertensive use by age, both sexes (year not stated, probably 2016-19; \
             nikkan-gendai.com 348961); by sex not found; 80-89 = 70+.",
};

pub const LIPID_LOWERING: Share = Share {
    name: "rx_lipid_lowering",
    pct: [[7.0, 14.9, 21.7, 29.0, 29.0], [7.0, 14.9, 21.7, 29.0, 29.0]],
    source: "proxies, both sexes: 50s [V] Ningen-dock FY2020 (mean age 52) 14.9% under treatment \
             for dyslipidaemia (JMAJ 2024-0328); 60s [V] community cohort at mean age 59.8, 21.7% \
             (PMC8678776); 70+ [V] JPSC-AD 65+ 29.0%; 40s [A] about half the 50s value.",
};

pub const HX_STROKE: Share = Share {
    name: "hx_stroke",
    pct: [[0.78, 1.55, 3.1, 6.2, 9.3], [0.45, 0.9, 1.8, 3.6, 5.4]],
    source: "50-59 [V] MHLW 中高年者縦断調査 2005 表4 (mean of 50-54 and 55-59: M 1.1/2.0, F 0.6/1.2); \
             other bands [A] prevalence doubling per decade below 80, +50% 70s->80s. No age-specific \
             source found for 40s or 60+. Issue 4 recalibrates.",
};

pub const HX_MI: Share = Share {
    name: "hx_myocardial_infarction",
    pct: [[0.74, 1.47, 2.9, 5.9, 8.8], [0.21, 0.41, 0.8, 1.6, 2.5]],
    source:
        "50-59 [D]: 'heart disease' [V] 中高年者縦断調査 2005 (M 3.5, F 1.7) x the MI share of \
             MI+angina in NHNS 2010 [V] (M 2.7/6.5, F 0.9/3.7); other bands [A] as for stroke.",
};

/// Pairwise correlations of the Gaussian copula's latent normals, with their sources.
/// Variables: 0 BMI, 1 SBP, 2 DBP, 3 glucose (shared by HbA1c and FPG within each component),
/// 4 TC, 5 HDL, 6 LDL, 7 eGFR, 8 steps, 9 FI, 10 smoking, 11 antihypertensive, 12 lipid-lowering,
/// 13 diabetes, 14 FPG-given-glucose residual.
pub const N_LATENT: usize = 15;
pub const CORRELATIONS: &[(usize, usize, f64, &str)] = &[
    (1, 2, 0.55, "SBP-DBP: '0.5 or higher' in every age group, 10,210 Japanese (geriatrics1964 14(1):14) [V]; 0.53/0.55 in CEBP 2009 Table 5"),
    (0, 1, 0.18, "BMI-SBP: standardised beta 0.175, community Japanese men (Clin Hypertens s40885-018-0087-3) [V]"),
    (0, 2, 0.14, "BMI-DBP: standardised beta 0.141, same study [V]"),
    (0, 3, 0.18, "BMI-HbA1c: M 0.18, F 0.19, Japanese check-up data (blog) [2]"),
    (0, 5, -0.30, "BMI-HDL: waist-HDL -0.28/-0.33 (CEBP 2009 Table 5, population unidentified) [unconfirmed]"),
    (0, 8, -0.15, "BMI-steps: -0.217 in Japanese women, n.s. in men (Mitsui 2008 J Physiol Anthropol) [V]"),
    (1, 3, 0.13, "SBP-glucose: 0.11/0.16 (CEBP 2009 Table 5) [unconfirmed]"),
    (3, 5, -0.20, "HDL-glucose: -0.16/-0.23 (CEBP 2009 Table 5) [unconfirmed]"),
    (4, 6, 0.85, "TC-LDL [A]: LDL is most of TC (Friedewald); no Japanese r found"),
    (4, 5, 0.25, "TC-HDL [A]: HDL is part of TC"),
    (0, 6, 0.10, "BMI-LDL [A]"),
    (8, 9, -0.30, "steps-FI [A]: inactivity is a frailty deficit"),
    (1, 11, 0.60, "SBP-antihypertensive liability [D]: chosen so treated people's SBP exceeds the \
                   untreated by ~15 mmHg, NHNS 2003 users 144.8/146.2 vs ~125 [2]"),
    (11, 12, 0.269, "antihypertensive-lipid-lowering: IMPACTncd-Japan exposure_corr_mean (NHNS) [V-file]"),
    (11, 13, 0.268, "antihypertensive-diabetes: IMPACTncd-Japan MedHT-MedDM [V-file]"),
    (12, 13, 0.538, "lipid-lowering-diabetes: IMPACTncd-Japan MedHL-MedDM [V-file]"),
    (10, 12, -0.144, "smoking-lipid-lowering: IMPACTncd-Japan [V-file]"),
    (0, 13, 0.20, "BMI-diabetes liability [A]"),
    (0, 11, 0.093, "BMI-antihypertensive: IMPACTncd-Japan MedHT-BMI [V-file]"),
    (3, 14, 0.0, "glucose-FPG residual: independent by construction"),
    (5, 10, -0.10, "HDL-smoking [A]"),
];

/// Correlation between the non-diabetic HbA1c and FPG draws [A]: no Japanese r found.
pub const HBA1C_FPG_CORRELATION: f64 = 0.55;

/// Frailty index ceiling: "universal limit at FI ~0.7" (Rockwood & Mitnitski; frailty_japan.md §1.1).
pub const FI_CEILING: f64 = 0.7;

/// Canonical text of every input above, for the run manifest's parameter hash.
pub fn canonical() -> String {
    let mut s = format!("{POPULATION_2022_THOUSANDS:?}\n");
    for m in [
        BMI,
        SBP,
        DBP,
        TC,
        HDL,
        LDL,
        HBA1C_NON_DIABETIC,
        FPG_NON_DIABETIC,
        EGFR,
        STEPS,
        FRAILTY_INDEX,
    ] {
        s.push_str(&format!("{}={:?}{:?}\n", m.name, m.mean, m.sd));
    }
    for t in [
        SMOKING,
        DIABETES,
        DIABETES_TREATED,
        ANTIHYPERTENSIVE,
        LIPID_LOWERING,
        HX_STROKE,
        HX_MI,
    ] {
        s.push_str(&format!("{}={:?}\n", t.name, t.pct));
    }
    s.push_str(&format!(
        "{HBA1C_DIABETIC_MEAN:?},{HBA1C_DIABETIC_SD:?},{ADAG_SLOPE:?},{ADAG_INTERCEPT:?},{FPG_DIABETIC_SD:?},\
         {DIABETES_DIAGNOSED_PCT:?},{HBA1C_FPG_CORRELATION:?},{FI_CEILING:?}\n"
    ));
    for (a, b, r, _) in CORRELATIONS {
        s.push_str(&format!("r{a},{b}={r:?}\n"));
    }
    s
}
