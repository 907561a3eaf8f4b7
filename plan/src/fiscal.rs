//! Japanese fiscal years (April to March) and long-term-care insurance periods: simulated
//! year index t is fiscal year `start + t`, 1 April of `start + t` to 31 March of the next
//! calendar year; the residents are the population on 1 April of the first fiscal year.
//!
//! Insurance periods are three fiscal years: the 1st ran FY2000-2002, the 9th FY2024-2026,
//! the 10th FY2027-2029 (介護保険事業計画, 介護保険法 第117条).

use report::html::Lang;

/// Fiscal year `fy` as a label: `令和9年度` (Reiwa year = FY − 2018; 2019 is 令和元年度) or
/// `FY2027`.
pub fn label(fy: i64, lang: Lang) -> String {
    match lang {
        Lang::Ja if fy == 2019 => "令和元年度".to_string(),
        Lang::Ja if fy > 2019 => format!("令和{}年度", fy - 2018),
        Lang::Ja => format!("{fy}年度"),
        Lang::En => format!("FY{fy}"),
    }
}

/// The long-term-care insurance period (第N期) a fiscal year belongs to.
pub fn period(fy: i64) -> i64 {
    (fy - 2000).div_euclid(3) + 1
}

/// The period as a label: `第10期` or `period 10`.
pub fn period_label(fy: i64, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!("第{}期", period(fy)),
        Lang::En => format!("period {}", period(fy)),
    }
}

/// The calendar span of a fiscal year, for tables: `2027-04 – 2028-03`.
pub fn span(fy: i64) -> String {
    format!("{fy}-04 – {}-03", fy + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reiwa_labels_and_insurance_periods() {
        assert_eq!(label(2027, Lang::Ja), "令和9年度");
        assert_eq!(label(2019, Lang::Ja), "令和元年度");
        assert_eq!(label(2027, Lang::En), "FY2027");
        assert_eq!(period(2000), 1);
        assert_eq!(period(2024), 9);
        assert_eq!(period(2026), 9);
        assert_eq!(period(2027), 10);
        assert_eq!(period(2035), 12);
        assert_eq!(period_label(2030, Lang::Ja), "第11期");
    }
}
