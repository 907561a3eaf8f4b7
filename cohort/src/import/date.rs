//! Dates and times as written in the sources, kept as local wall-clock time (the date a
//! person or a clinic would call it); time-zone offsets are read and ignored, so a reading at
//! 08:00 +0900 belongs to that Japanese calendar day in every format.
//!
//! Accepted: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD`, each optionally
//! followed by `T` or a space and `hh:mm[:ss[.fff]]` and an offset (`Z`, `+09:00`, `+0900`).

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day number.
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn format_day(day: i32) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// How much of a date was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    Year,
    Month,
    Day,
}

/// A parsed date-time: day number and minute of the day (0 when no time was given).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub day: i32,
    pub minute: u16,
    pub precision: Precision,
}

fn num(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u32, |a, &b| a * 10 + u32::from(b - b'0')))
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses a date or date-time. Partial dates (year, year-month) take the first day; callers
/// that need a mid-point (birth dates) use [`Stamp::precision`].
pub fn parse(s: &str) -> Option<Stamp> {
    let b = s.trim().as_bytes();
    let (date, rest) = match b.iter().position(|&c| c == b'T' || c == b' ') {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &b[b.len()..]),
    };
    let (y, m, d, precision) = if date.len() == 8 && date.iter().all(u8::is_ascii_digit) {
        (
            num(&date[..4])?,
            num(&date[4..6])?,
            num(&date[6..8])?,
            Precision::Day,
        )
    } else {
        let mut parts = date.split(|&c| c == b'-' || c == b'/');
        let y = parts.next().and_then(num)?;
        if date.first() == Some(&b'-') {
            return None;
        }
        match (parts.next(), parts.next(), parts.next()) {
            (None, _, _) => (y, 1, 1, Precision::Year),
            (Some(m), None, _) => (y, num(m)?, 1, Precision::Month),
            (Some(m), Some(d), None) => (y, num(m)?, num(d)?, Precision::Day),
            _ => return None,
        }
    };
    if !(1800..=2200).contains(&y) || !(1..=12).contains(&m) {
        return None;
    }
    let y = y as i32;
    if d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut minute = 0u16;
    if !rest.is_empty() {
        if precision != Precision::Day || rest.len() < 5 || rest[2] != b':' {
            return None;
        }
        let h = num(&rest[..2])?;
        let mi = num(&rest[3..5])?;
        if h > 23 || mi > 59 {
            return None;
        }
        // Seconds, fractions and the offset are checked for shape only.
        let tail = &rest[5..];
        if !tail
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.' | b'+' | b'-' | b'Z' | b' '))
        {
            return None;
        }
        minute = (h * 60 + mi) as u16;
    }
    Some(Stamp {
        day: days_from_civil(y, m, d),
        minute,
        precision,
    })
}

/// A birth date with its missing parts at their mid-point: a year alone → 1 July, a year and
/// month → the 15th ([A]: halves the worst-case age error).
pub fn birth_day(s: &str) -> Option<i32> {
    let st = parse(s)?;
    Some(match st.precision {
        Precision::Day => st.day,
        Precision::Month => st.day + 14,
        Precision::Year => {
            let (y, _, _) = civil_from_days(st.day);
            days_from_civil(y, 7, 1)
        }
    })
}

/// Today's date (UTC) as a day number, from the system clock.
pub fn today() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (secs / 86_400) as i32
}
