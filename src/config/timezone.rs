//! `timezone`: an IANA name, checked. Legacy names (`EST`, `CET`, `GMT`) and fixed offsets
//! (`UTC+1`) are accepted with a warning that says what they mean; an abbreviation that is
//! no zone (`PST`) or a misspelt name is refused with the zone most likely meant.

use chrono::{NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};

/// A time zone as configured: the zone, and a warning when the name is not a place's.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub tz: Tz,
    pub warning: Option<String>,
}

/// The zones people usually mean by a legacy name or an abbreviation.
const MEANT: &[(&str, &str)] = &[
    ("EST", "America/New_York"),
    ("EDT", "America/New_York"),
    ("EST5EDT", "America/New_York"),
    ("CST", "America/Chicago"),
    ("CDT", "America/Chicago"),
    ("CST6CDT", "America/Chicago"),
    ("MST", "America/Denver"),
    ("MDT", "America/Denver"),
    ("MST7MDT", "America/Denver"),
    ("PST", "America/Los_Angeles"),
    ("PDT", "America/Los_Angeles"),
    ("PST8PDT", "America/Los_Angeles"),
    ("HST", "Pacific/Honolulu"),
    ("GMT", "Europe/London"),
    ("GMT0", "Europe/London"),
    ("GMT+0", "Europe/London"),
    ("GMT-0", "Europe/London"),
    ("Greenwich", "Europe/London"),
    ("BST", "Europe/London"),
    ("WET", "Europe/Lisbon"),
    ("WEST", "Europe/Lisbon"),
    ("CET", "Europe/Paris"),
    ("CEST", "Europe/Paris"),
    ("MET", "Europe/Paris"),
    ("MEST", "Europe/Paris"),
    ("EET", "Europe/Athens"),
    ("EEST", "Europe/Athens"),
    ("MSK", "Europe/Moscow"),
    ("IST", "Asia/Kolkata"),
    ("JST", "Asia/Tokyo"),
    ("AEST", "Australia/Sydney"),
    ("AEDT", "Australia/Sydney"),
    ("UCT", "UTC"),
    ("Universal", "UTC"),
    ("Zulu", "UTC"),
];

/// A zone of each whole-hour offset people name most, to suggest for a fixed offset.
const OF_OFFSET: &[(i32, &str)] = &[
    (-8 * 3600, "America/Los_Angeles"),
    (-7 * 3600, "America/Denver"),
    (-6 * 3600, "America/Chicago"),
    (-5 * 3600, "America/New_York"),
    (-3 * 3600, "America/Sao_Paulo"),
    (0, "Europe/London"),
    (3600, "Europe/Berlin"),
    (2 * 3600, "Europe/Athens"),
    (3 * 3600, "Europe/Moscow"),
    (4 * 3600, "Asia/Dubai"),
    (19800, "Asia/Kolkata"),
    (8 * 3600, "Asia/Singapore"),
    (9 * 3600, "Asia/Tokyo"),
    (10 * 3600, "Australia/Sydney"),
];

/// Checks a configured time zone name; the error is the message for the configuration's
/// `timezone` line.
pub fn check(name: &str) -> Result<Checked, String> {
    let name = name.trim();
    if let Some(seconds) = fixed_offset(name) {
        return fixed(name, seconds);
    }
    match name.parse::<Tz>() {
        Ok(tz) if matches!(tz.name(), "UTC" | "Etc/UTC") => Ok(Checked { tz, warning: None }),
        Ok(tz) if is_place(tz.name()) => Ok(Checked { tz, warning: None }),
        Ok(tz) => Ok(Checked {
            tz,
            warning: Some(legacy_warning(name, tz)),
        }),
        Err(_) => Err(unknown(name)),
    }
}

/// An `Area/Location` name of the tz database (not `Etc/…`, nor a bare legacy name).
fn is_place(name: &str) -> bool {
    name.contains('/') && !name.starts_with("Etc/") && !name.starts_with("SystemV/")
}

/// "UTC+1", "UTC-05:00", "GMT+5:30", "+01:00": seconds east of UTC.
fn fixed_offset(name: &str) -> Option<i32> {
    let rest = ["UTC", "GMT", ""]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .filter(|r| r.starts_with(['+', '-']))?;
    let sign = if rest.starts_with('-') { -1 } else { 1 };
    let digits = &rest[1..];
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() == 4 => digits.split_at(2),
        None => (digits, "0"),
    };
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 14 || m >= 60 || (name.starts_with("GMT") && h == 0 && m == 0) {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.abs();
    format!("UTC{sign}{:02}:{:02}", s / 3600, s / 60 % 60)
}

/// A fixed offset: whole hours are the tz database's `Etc/GMT∓N` (whose sign is inverted).
fn fixed(name: &str, seconds: i32) -> Result<Checked, String> {
    let suggestion = suggest_for_offset(seconds);
    if seconds % 3600 != 0 {
        return Err(format!(
            "time zone {name:?} is a fixed offset of {} that the tz database has no zone for; use the IANA zone of the site's location{suggestion}",
            offset_text(seconds)
        ));
    }
    let hours = seconds / 3600;
    let etc = match hours {
        0 => "Etc/UTC".to_string(),
        h if h > 0 => format!("Etc/GMT-{h}"),
        h => format!("Etc/GMT+{}", -h),
    };
    let tz = etc
        .parse::<Tz>()
        .map_err(|_| format!("time zone {name:?}: no zone {etc}"))?;
    Ok(Checked {
        tz,
        warning: Some(format!(
            "time zone {name:?} is read as a fixed offset of {} all year, without daylight saving (the tz database's {etc}); if the site changes its clocks in summer, use its IANA zone instead{suggestion}",
            offset_text(seconds)
        )),
    })
}

fn suggest_for_offset(seconds: i32) -> String {
    OF_OFFSET
        .iter()
        .find(|(s, _)| *s == seconds)
        .map(|(_, z)| format!(", such as {z:?}"))
        .unwrap_or_else(|| ", such as \"Europe/Berlin\" (Area/City)".into())
}

/// What a zone's clocks do in a year: its offsets in January and in July.
fn offsets(tz: Tz) -> (i32, i32) {
    let year = chrono::Datelike::year(&Utc::now().date_naive());
    let at = |month| {
        let noon = NaiveDate::from_ymd_opt(year, month, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap_or_default();
        tz.offset_from_utc_datetime(&noon).fix().local_minus_utc()
    };
    (at(1), at(7))
}

fn legacy_warning(name: &str, tz: Tz) -> String {
    let (winter, summer) = offsets(tz);
    let meaning = if winter == summer {
        format!(
            "a fixed offset of {} all year, without daylight saving",
            offset_text(winter)
        )
    } else {
        format!(
            "{} in January and {} in July, by rules not tied to any one place",
            offset_text(winter),
            offset_text(summer)
        )
    };
    let suggestion = match meant(name) {
        Some("UTC") => ", such as \"UTC\"".to_string(),
        Some(z) => format!(", such as {z:?}"),
        None => suggest_for_offset(winter),
    };
    format!(
        "time zone {name:?} is a legacy name: it means {meaning}; use the IANA zone of the site's location instead{suggestion}"
    )
}

fn meant(name: &str) -> Option<&'static str> {
    MEANT
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, z)| *z)
}

/// The message for a name the tz database does not know.
fn unknown(name: &str) -> String {
    let hint = if let Some(z) = meant(name) {
        format!("{name:?} is an abbreviation, not a time zone; did you mean {z:?}?")
    } else if let Some(z) = closest(name) {
        format!("did you mean {z:?}?")
    } else {
        "use an IANA name such as \"Europe/London\" or \"America/New_York\"".into()
    };
    format!("unknown time zone {name:?}; {hint}")
}

/// The IANA name closest to a misspelt one: the same but for case, the same city, or
/// within a few edits.
fn closest(name: &str) -> Option<&'static str> {
    let lower = name.to_lowercase().replace(' ', "_");
    let names = || TZ_VARIANTS.iter().map(|t| t.name()).filter(|n| is_place(n));
    if let Some(n) = names().find(|n| n.to_lowercase() == lower) {
        return Some(n);
    }
    if !lower.contains('/')
        && let Some(n) =
            names().find(|n| n.rsplit('/').next().map(str::to_lowercase) == Some(lower.clone()))
    {
        return Some(n);
    }
    let (best, distance) = names()
        .map(|n| (n, strsim::levenshtein(&n.to_lowercase(), &lower)))
        .min_by_key(|(_, d)| *d)?;
    (distance <= 3.max(lower.len() / 4)).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_and_utc_pass_without_a_word() {
        for name in ["Europe/London", "America/New_York", "UTC", "Etc/UTC"] {
            let c = check(name).unwrap();
            assert_eq!(c.tz.name(), name);
            assert_eq!(c.warning, None, "{name}");
        }
    }

    #[test]
    fn legacy_names_say_what_they_mean() {
        let w = check("EST").unwrap().warning.unwrap();
        assert!(
            w.contains("UTC-05:00 all year, without daylight saving"),
            "{w}"
        );
        assert!(w.contains("\"America/New_York\""), "{w}");
        let w = check("GMT").unwrap().warning.unwrap();
        assert!(w.contains("UTC+00:00 all year"), "{w}");
        assert!(w.contains("\"Europe/London\""), "{w}");
        // CET is, in this tz database, a link that does change its clocks: said as it is.
        let c = check("CET").unwrap();
        let w = c.warning.unwrap();
        assert_eq!(offsets(c.tz), (3600, 7200));
        assert!(
            w.contains("UTC+01:00 in January and UTC+02:00 in July"),
            "{w}"
        );
        assert!(w.contains("\"Europe/Paris\""), "{w}");
    }

    #[test]
    fn fixed_offsets_are_etc_zones_with_a_warning() {
        for (name, etc, text) in [
            ("UTC+1", "Etc/GMT-1", "UTC+01:00"),
            ("UTC-05:00", "Etc/GMT+5", "UTC-05:00"),
            ("GMT+2", "Etc/GMT-2", "UTC+02:00"),
            ("+0300", "Etc/GMT-3", "UTC+03:00"),
        ] {
            let c = check(name).unwrap();
            assert_eq!(c.tz.name(), etc, "{name}");
            let w = c.warning.unwrap();
            assert!(
                w.contains(&format!("fixed offset of {text} all year")),
                "{w}"
            );
            assert!(w.contains("without daylight saving"), "{w}");
        }
        let w = check("UTC+1").unwrap().warning.unwrap();
        assert!(w.contains("\"Europe/Berlin\""), "{w}");
        let e = check("UTC+5:30").unwrap_err();
        assert!(
            e.contains("UTC+05:30") && e.contains("\"Asia/Kolkata\""),
            "{e}"
        );
    }

    #[test]
    fn misspelt_names_and_abbreviations_are_refused_with_a_suggestion() {
        for (name, meant) in [
            ("Europe/Londn", "Europe/London"),
            ("europe/london", "Europe/London"),
            ("London", "Europe/London"),
            ("America/NewYork", "America/New_York"),
            ("PST", "America/Los_Angeles"),
        ] {
            let e = check(name).unwrap_err();
            assert!(
                e.contains(&format!("did you mean {meant:?}?")),
                "{name}: {e}"
            );
        }
        let e = check("Mars/Olympus_Mons_Base").unwrap_err();
        assert!(e.contains("unknown time zone"), "{e}");
    }
}
