//! Numbers for humans (and, for the command line, durations back from them), the one formatter of the crate (charts, report, terminal summary,
//! `summary.csv` parameters): durations from nanoseconds, byte counts, throughputs and
//! ratios, always with their unit.

use std::time::Duration;

/// Three significant figures, trailing zeros kept (`7.10`, `38.6`, `162`).
fn sig3(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 {
        "0".to_owned()
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Drops trailing zeros after a decimal point (`1.00` -> `1`, `2.50` -> `2.5`).
fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// The unit and scale of a duration given in nanoseconds.
fn ns_unit(ns: f64) -> (f64, &'static str) {
    let a = ns.abs();
    if a < 1e3 {
        (1.0, "ns")
    } else if a < 1e6 {
        (1e3, "µs")
    } else if a < 1e9 {
        (1e6, "ms")
    } else {
        (1e9, "s")
    }
}

/// A duration in nanoseconds with three significant figures: `162 ns`, `7.10 µs`, `395 s`.
pub fn ns(ns: f64) -> String {
    if !ns.is_finite() {
        return "n/a".to_owned();
    }
    let (scale, unit) = ns_unit(ns);
    format!("{} {unit}", sig3(ns / scale))
}

/// A duration in nanoseconds for an axis tick: `1 µs`, `10 ms`, `2.5 s`.
pub fn ns_tick(ns: f64) -> String {
    if !ns.is_finite() {
        return String::new();
    }
    let (scale, unit) = ns_unit(ns);
    format!("{} {unit}", trim(sig3(ns / scale)))
}

/// A signed difference in nanoseconds: `+67 ns`, `-64 ns`.
pub fn ns_delta(delta: f64) -> String {
    if delta >= 0.0 {
        format!("+{}", ns(delta))
    } else {
        format!("-{}", ns(-delta))
    }
}

/// A window in milliseconds as written in `summary.csv` parameters: `250ms`, `1s`, `900s`.
pub fn window_ms(ms: f64) -> String {
    if ms >= 1000.0 && (ms / 1000.0).fract() == 0.0 {
        format!("{}s", ms / 1000.0)
    } else {
        format!("{ms}ms")
    }
}

/// A store round trip: `0`, or a duration (`0.5ms`, `2ms`) up to a second.
pub fn parse_rtt(s: &str) -> Result<Duration, String> {
    let number = s.trim().trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let d = if number.parse::<f64>() == Ok(0.0) {
        Duration::ZERO
    } else {
        parse_duration(s)?
    };
    if d > Duration::from_secs(1) {
        return Err(format!("store round trip {s} is above 1s"));
    }
    Ok(d)
}

/// A count of the command line with an optional k / M / G suffix (`50k`, `2M`, `1.5k`,
/// `3000`): finite and more than 0 (request rates, sessions).
pub fn parse_count(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 1e3),
        Some((i, 'M')) => (&t[..i], 1e6),
        Some((i, 'G')) => (&t[..i], 1e9),
        _ => (t, 1.0),
    };
    let v: f64 = num.parse().map_err(|_| {
        if num.ends_with(|c: char| c.is_ascii_alphabetic()) || t.ends_with('m') {
            format!("unknown unit in '{s}' (use a plain number or k, M, G: 3000, 50k, 2M)")
        } else {
            format!("'{s}' is not a count (examples: 3000, 50k, 2M)")
        }
    })?;
    let x = v * scale;
    if !(x.is_finite() && x > 0.0) {
        return Err(format!("'{s}' must be more than 0"));
    }
    Ok(x)
}

/// Parses a duration of the command line: `250ms`, `1s`, `1.5s`, `2m`; more than 0, at
/// most an hour (a workload's windows and periods).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    parse_duration_within(s, 3600.0, "1 hour")
}

/// Parses a lifetime of the command line (`30m`, `8h`, `2d`; also `ms` and `s`): more than
/// 0, at most 30 days (session and token timeouts).
pub fn parse_lifetime(s: &str) -> Result<Duration, String> {
    parse_duration_within(s, 30.0 * 86_400.0, "30 days")
}

/// `<number><unit>` with the unit one of ms, s (or none), m, h, d, up to `max_secs`.
fn parse_duration_within(s: &str, max_secs: f64, max_words: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (examples: 250ms, 1s, 2m, 8h)"))?;
    let secs = match unit {
        "ms" => v / 1e3,
        "s" | "" => v,
        "m" => v * 60.0,
        "h" => v * 3600.0,
        "d" => v * 86_400.0,
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in '{s}' (use ms, s, m, h or d)"
            ));
        }
    };
    if !(secs.is_finite() && secs > 0.0 && secs <= max_secs) {
        return Err(format!(
            "'{s}' is out of range (more than 0, at most {max_words})"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A byte count: `34 B`, `1731 B`; fractional per-entry figures keep one decimal.
pub fn bytes(b: f64) -> String {
    if !b.is_finite() {
        "n/a".to_owned()
    } else if b.fract() == 0.0 {
        format!("{b:.0} B")
    } else {
        format!("{b:.1} B")
    }
}

/// A count with a k / M suffix: `2.39 M`, `107 k`, `950`.
pub fn count(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".to_owned();
    }
    let a = x.abs();
    if a >= 1e9 {
        format!("{} G", sig3(x / 1e9))
    } else if a >= 1e6 {
        format!("{} M", sig3(x / 1e6))
    } else if a >= 1e3 {
        format!("{} k", sig3(x / 1e3))
    } else {
        format!("{x:.0}")
    }
}

/// A count for an axis tick: `1 k`, `10 M`.
pub fn count_tick(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let a = x.abs();
    let (scale, suffix) = if a >= 1e9 {
        (1e9, " G")
    } else if a >= 1e6 {
        (1e6, " M")
    } else if a >= 1e3 {
        (1e3, " k")
    } else {
        (1.0, "")
    };
    format!("{}{suffix}", trim(sig3(x / scale)))
}

/// A ratio: `×1.31`, `×44.0`, `×240`, `×4.01 M`.
pub fn ratio(r: f64) -> String {
    if !r.is_finite() {
        "n/a".to_owned()
    } else if r.abs() >= 1e4 {
        format!("×{}", count(r))
    } else {
        format!("×{}", sig3(r))
    }
}

/// A share as a percentage: `41%`, `1.8%`.
pub fn percent(share: f64) -> String {
    if !share.is_finite() {
        return "n/a".to_owned();
    }
    let p = share * 100.0;
    if p.abs() >= 10.0 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

/// The UTC date and time of a Unix time, `None` past the year 9999.
fn utc(unix_secs: u64) -> Option<time::OffsetDateTime> {
    let t = time::OffsetDateTime::from_unix_timestamp(i64::try_from(unix_secs).ok()?).ok()?;
    (t.year() <= 9999).then_some(t)
}

/// RFC 3339 in UTC (`2026-11-26T15:07:21Z`) for a Unix time; `None` past the year 9999.
pub fn rfc3339(unix_secs: u64) -> Option<String> {
    utc(unix_secs).and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
}

/// `YYYY-MM-DDTHH-MM-SSZ` for a Unix time, safe in file names on every OS (a time past the
/// year 9999 is written as its seconds).
pub fn utc_timestamp(unix_secs: u64) -> String {
    match utc(unix_secs) {
        Some(t) => format!(
            "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => format!("{unix_secs}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00-00-00Z");
        assert_eq!(rfc3339(1_795_705_641).unwrap(), "2026-11-26T15:07:21Z");
        assert_eq!(rfc3339(951_782_400).unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(253_402_300_799).unwrap(), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_800), None);
        assert_eq!(utc_timestamp(u64::MAX), format!("{}s", u64::MAX));
    }

    #[test]
    fn durations_parse_and_refuse_nonsense() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        for bad in ["", "ms", "0s", "-1s", "2h", "nan s", "1e9s", "3x"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_lifetime("8h").unwrap(), Duration::from_secs(8 * 3600));
        assert!(parse_lifetime("31d").is_err());
    }

    #[test]
    fn counts_parse_with_their_suffix_and_refuse_nonsense() {
        assert_eq!(parse_count("50k").unwrap(), 50_000.0);
        assert_eq!(parse_count("2M").unwrap(), 2_000_000.0);
        assert_eq!(parse_count("1.5k").unwrap(), 1_500.0);
        assert_eq!(parse_count("3000").unwrap(), 3_000.0);
        for bad in ["", "k", "0", "-5k", "2m", "2x", "nan", "inf", "1e400"] {
            assert!(parse_count(bad).is_err(), "{bad}");
        }
        assert!(parse_count("2m").unwrap_err().contains("unit"));
        assert!(parse_count("-1").unwrap_err().contains("more than 0"));
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(ns(161.8), "162 ns");
        assert_eq!(ns(7096.9), "7.10 µs");
        assert_eq!(ns(38_637.0), "38.6 µs");
        assert_eq!(ns(1_783_447.0), "1.78 ms");
        assert_eq!(ns(395e9), "395 s");
        assert_eq!(ns_tick(1e3), "1 µs");
        assert_eq!(ns_tick(2.5e9), "2.5 s");
        assert_eq!(ns_delta(-63.7), "-63.7 ns");
        assert_eq!(ns(f64::NAN), "n/a");
    }

    #[test]
    fn counts_bytes_and_ratios() {
        assert_eq!(count(2_385_232.0), "2.39 M");
        assert_eq!(count(107_026.0), "107 k");
        assert_eq!(count(950.0), "950");
        assert_eq!(count_tick(1e6), "1 M");
        assert_eq!(bytes(1731.0), "1731 B");
        assert_eq!(bytes(1230.3824), "1230.4 B");
        assert_eq!(ratio(1.3134), "×1.31");
        assert_eq!(ratio(4_010_804.0), "×4.01 M");
        assert_eq!(ns(0.0), "0 ns");
        assert_eq!(ns_delta(0.0), "+0 ns");
        assert_eq!(percent(0.41), "41%");
        assert_eq!(percent(0.018), "1.8%");
    }
}
