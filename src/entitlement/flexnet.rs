//! License files in the FlexNet (FLEXlm) text format, and the entitlement they grant
//! (docs/SEMANTICS.md, section 6).
//!
//! A file is read whole or not at all: a line that cannot be parsed is an error naming the
//! file and line, and no entitlement is loaded from that file.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use seatmeter_core::Entitled;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct LicenseError {
    pub path: String,
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    Feature,
    Increment,
    Server,
    Vendor,
    Daemon,
    UseServer,
    Package,
    Upgrade,
    FeatureSet,
    Host,
}

impl Keyword {
    fn parse(word: &str) -> Option<Keyword> {
        Some(match word.to_ascii_uppercase().as_str() {
            "FEATURE" => Keyword::Feature,
            "INCREMENT" => Keyword::Increment,
            "SERVER" => Keyword::Server,
            "VENDOR" => Keyword::Vendor,
            "DAEMON" => Keyword::Daemon,
            "USE_SERVER" => Keyword::UseServer,
            "PACKAGE" => Keyword::Package,
            "UPGRADE" => Keyword::Upgrade,
            "FEATURESET" => Keyword::FeatureSet,
            "HOST" => Keyword::Host,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Feature => "FEATURE",
            Keyword::Increment => "INCREMENT",
            Keyword::Server => "SERVER",
            Keyword::Vendor => "VENDOR",
            Keyword::Daemon => "DAEMON",
            Keyword::UseServer => "USE_SERVER",
            Keyword::Package => "PACKAGE",
            Keyword::Upgrade => "UPGRADE",
            Keyword::FeatureSet => "FEATURESET",
            Keyword::Host => "HOST",
        }
    }
}

/// The most seats one license line or grant may carry (u32::MAX). Each count is at most
/// this, so sums of them in u64 are exact for any realistic number of lines; sums still
/// saturate rather than wrap (docs/SEMANTICS.md, "Seat counts").
pub const MAX_SEATS: u64 = u32::MAX as u64;

/// Until when a line is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Never,
    /// Valid through the end of this (local) day.
    On(NaiveDate),
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expiry::Never => f.write_str("permanent"),
            Expiry::On(d) => write!(f, "{d}"),
        }
    }
}

/// A FEATURE or INCREMENT line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureLine {
    pub increment: bool,
    pub name: String,
    pub vendor: String,
    pub version: String,
    pub expiry: Expiry,
    /// None: uncounted (unlimited).
    pub count: Option<u64>,
    pub start: Option<NaiveDate>,
    pub issued: Option<NaiveDate>,
    /// `SUPERSEDE` (the line's own feature) or `SUPERSEDE="f1 f2"`.
    pub supersede: Option<Vec<String>>,
}

impl FeatureLine {
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.start.is_none_or(|s| s <= day)
            && match self.expiry {
                Expiry::Never => true,
                Expiry::On(e) => day <= e,
            }
    }
}

/// One logical line (continuations joined) of a license file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseLine {
    /// The physical line it starts on.
    pub line: usize,
    pub keyword: Keyword,
    /// The rest of the line after the keyword, continuations joined.
    pub text: String,
    pub feature: Option<FeatureLine>,
}

#[derive(Debug, Clone)]
pub struct LicenseFile {
    pub path: String,
    pub sha256: String,
    pub lines: Vec<LicenseLine>,
}

/// Reads and parses a license file.
pub fn load(path: &Path) -> Result<LicenseFile, LicenseError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| LicenseError {
        path: shown.clone(),
        line: 0,
        message: format!("cannot read the license file: {e}"),
    })?;
    let text = String::from_utf8_lossy(&bytes);
    // A byte-order mark (editors on Windows write one) is no part of the first line.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut file = parse(&shown, text)?;
    file.sha256 = seatmeter_core::hex(&Sha256::digest(&bytes));
    Ok(file)
}

/// Parses license text; `path` is only used in messages.
pub fn parse(path: &str, text: &str) -> Result<LicenseFile, LicenseError> {
    let mut lines = Vec::new();
    let mut physical = text.lines().enumerate().peekable();
    while let Some((i, raw)) = physical.next() {
        let first = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        // Join continuation lines: a `\` at the end of a line continues it on the next,
        // even inside a quoted value.
        let mut logical = String::from(trimmed);
        while logical.ends_with('\\') {
            logical.pop();
            match physical.next() {
                Some((_, next)) => {
                    let next = next.trim();
                    if !logical.ends_with(' ') && !next.is_empty() {
                        logical.push(' ');
                    }
                    logical.push_str(next);
                }
                None => break,
            }
        }
        let err = |message: String| LicenseError {
            path: path.to_string(),
            line: first,
            message,
        };
        let tokens = tokenize(&logical).map_err(err)?;
        // A lone `\` (continued onto a blank line or the end of the file) is a blank line.
        if tokens.is_empty() {
            continue;
        }
        let keyword = Keyword::parse(&tokens[0]).ok_or_else(|| {
            err(format!(
                "unknown line type {:?}; expected FEATURE, INCREMENT, SERVER, VENDOR, DAEMON, USE_SERVER, PACKAGE, UPGRADE, FEATURESET or HOST",
                tokens[0]
            ))
        })?;
        let feature = match keyword {
            Keyword::Feature | Keyword::Increment => {
                Some(feature_line(keyword == Keyword::Increment, &tokens[1..]).map_err(err)?)
            }
            _ => None,
        };
        let rest = logical[tokens[0].len()..].trim().to_string();
        lines.push(LicenseLine {
            line: first,
            keyword,
            text: rest,
            feature,
        });
    }
    Ok(LicenseFile {
        path: path.to_string(),
        sha256: String::new(),
        lines,
    })
}

/// Splits a logical line into words; `KEY="quoted value"` is one word (quotes removed).
fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => cur.push(c),
                        None => return Err("a quoted value is not closed (missing \")".into()),
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

fn feature_line(increment: bool, t: &[String]) -> Result<FeatureLine, String> {
    let what = if increment { "INCREMENT" } else { "FEATURE" };
    if t.len() < 5 {
        return Err(format!(
            "{what} needs at least: name vendor version expiry count (found {} field(s))",
            t.len()
        ));
    }
    let expiry = parse_expiry(&t[3]).map_err(|e| format!("expiry date: {e}"))?;
    let count = match t[4].to_ascii_lowercase().as_str() {
        "uncounted" => None,
        c => match c.parse::<u64>() {
            Ok(0) => None,
            // Larger counts are refused, not summed: every sum of counts stays exact.
            Ok(n) if n > MAX_SEATS => {
                return Err(format!(
                    "count {n} is more seats than seatmeter accepts on one line (at most {MAX_SEATS})"
                ));
            }
            Ok(n) => Some(n),
            Err(_) => {
                return Err(format!(
                    "count {:?} is not a whole number of seats or \"uncounted\"",
                    t[4]
                ));
            }
        },
    };
    let mut line = FeatureLine {
        increment,
        name: t[0].clone(),
        vendor: t[1].clone(),
        version: t[2].clone(),
        expiry,
        count,
        start: None,
        issued: None,
        supersede: None,
    };
    for word in &t[5..] {
        match word.split_once('=') {
            Some((key, value)) => match key.to_ascii_uppercase().as_str() {
                "START" => line.start = Some(parse_date(value).map_err(|e| format!("START: {e}"))?),
                "ISSUED" => {
                    line.issued = Some(parse_date(value).map_err(|e| format!("ISSUED: {e}"))?)
                }
                "SUPERSEDE" => {
                    line.supersede = Some(value.split_whitespace().map(String::from).collect())
                }
                _ => {}
            },
            // A bare word: a flag (USER_BASED, SUPERSEDE, …) or an old-style license key.
            None if word.eq_ignore_ascii_case("SUPERSEDE") => line.supersede = Some(Vec::new()),
            None => {}
        }
    }
    Ok(line)
}

fn parse_expiry(s: &str) -> Result<Expiry, String> {
    match s.to_ascii_lowercase().as_str() {
        "permanent" | "0" | "1-jan-0" | "1-jan-00" | "1-jan-0000" => Ok(Expiry::Never),
        _ => parse_date(s).map(Expiry::On),
    }
}

/// `d-mmm-yyyy`, the month name in any case.
fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let bad = || format!("{s:?} is not a date of the form d-mmm-yyyy (e.g. 31-dec-2027)");
    let mut parts = s.split('-');
    let (Some(d), Some(m), Some(y), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let month = MONTHS
        .iter()
        .position(|name| name.eq_ignore_ascii_case(m))
        .ok_or_else(bad)? as u32
        + 1;
    if y.len() != 4 || !y.bytes().all(|c| c.is_ascii_digit()) || d.is_empty() || d.len() > 2 {
        return Err(bad());
    }
    let day: u32 = d.parse().map_err(|_| bad())?;
    let year: i32 = y.parse().map_err(|_| bad())?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| format!("{s:?} is not a real date"))
}

/// A feature an item names: bare (`DESKTOP_EMAIL`, any vendor) or `vendor:FEATURE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FeatureRef {
    pub vendor: Option<String>,
    pub name: String,
}

impl FeatureRef {
    pub fn parse(s: &str) -> FeatureRef {
        match s.split_once(':') {
            Some((v, n)) => FeatureRef {
                vendor: Some(v.to_string()),
                name: n.to_string(),
            },
            None => FeatureRef {
                vendor: None,
                name: s.to_string(),
            },
        }
    }

    fn matches(&self, line: &FeatureLine) -> bool {
        self.name == line.name && self.vendor.as_ref().is_none_or(|v| *v == line.vendor)
    }
}

impl fmt::Display for FeatureRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.vendor {
            Some(v) => write!(f, "{v}:{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Why a FEATURE/INCREMENT line grants nothing, whatever the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// Voided by a SUPERSEDE line issued later (index of that line in the ledger).
    Superseded(usize),
    /// A FEATURE line after the first one for the same (vendor, feature).
    LaterFeature(usize),
}

/// The FEATURE and INCREMENT lines of every license file that parsed, in order (files in
/// configuration order, lines in file order), with what the rules of section 6 make of them.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub lines: Vec<(usize, FeatureLine)>,
    /// Source file index and line of each entry, for `license check`.
    pub origin: Vec<(usize, usize)>,
    pub ignored: Vec<Option<Ignored>>,
}

impl Ledger {
    pub fn new(files: &[LicenseFile]) -> Ledger {
        let mut lines = Vec::new();
        let mut origin = Vec::new();
        for (fi, f) in files.iter().enumerate() {
            for l in &f.lines {
                if let Some(fl) = &l.feature {
                    lines.push((fi, fl.clone()));
                    origin.push((fi, l.line));
                }
            }
        }
        let n = lines.len();
        let mut ignored: Vec<Option<Ignored>> = vec![None; n];
        // SUPERSEDE voids the lines of the same vendor and feature(s) issued earlier; a line
        // without ISSUED= counts as issued earliest.
        for (i, (_, sup)) in lines.iter().enumerate() {
            let Some(targets) = &sup.supersede else {
                continue;
            };
            let Some(issued) = sup.issued else { continue };
            let names: Vec<&str> = if targets.is_empty() {
                vec![sup.name.as_str()]
            } else {
                targets.iter().map(String::as_str).collect()
            };
            for (j, (_, other)) in lines.iter().enumerate() {
                if j != i
                    && other.vendor == sup.vendor
                    && names.contains(&other.name.as_str())
                    && other.issued.is_none_or(|o| o < issued)
                {
                    ignored[j] = Some(Ignored::Superseded(i));
                }
            }
        }
        // Of several FEATURE lines for one (vendor, feature), only the first (not voided)
        // counts.
        let mut first_feature: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, (_, l)) in lines.iter().enumerate() {
            if l.increment || ignored[i].is_some() {
                continue;
            }
            match first_feature.get(&(l.vendor.as_str(), l.name.as_str())) {
                Some(&first) => ignored[i] = Some(Ignored::LaterFeature(first)),
                None => {
                    first_feature.insert((&l.vendor, &l.name), i);
                }
            }
        }
        Ledger {
            lines,
            origin,
            ignored,
        }
    }

    /// What the lines grant for `features` on `day`: None when no line names any of them;
    /// unlimited when a valid uncounted line does; else the sum of the valid lines' counts
    /// (0 when none is valid).
    pub fn entitled(&self, features: &[FeatureRef], day: NaiveDate) -> Option<Entitled> {
        let mut named = false;
        let mut seats: u64 = 0;
        for (i, (_, l)) in self.lines.iter().enumerate() {
            if !features.iter().any(|f| f.matches(l)) {
                continue;
            }
            named = true;
            if self.ignored[i].is_some() || !l.valid_on(day) {
                continue;
            }
            match l.count {
                None => return Some(Entitled::Unlimited),
                Some(n) => seats = seats.saturating_add(n),
            }
        }
        named.then_some(Entitled::Seats(seats))
    }

    /// The days on which what `features` are granted may change: each line's start and the
    /// day after each expiry. Between two of them the entitlement is constant.
    pub fn change_days(&self, features: &[FeatureRef]) -> Vec<NaiveDate> {
        let mut days: Vec<NaiveDate> = Vec::new();
        for (_, l) in &self.lines {
            if features.iter().any(|f| f.matches(l)) {
                days.extend(l.start);
                if let Expiry::On(e) = l.expiry {
                    days.extend(e.succ_opt());
                }
            }
        }
        days.sort_unstable();
        days.dedup();
        days
    }
}

/// Loads every license file, keeping the good ones and the errors of the others.
pub fn load_all(paths: &[std::path::PathBuf]) -> (Vec<LicenseFile>, Vec<LicenseError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match load(p) {
            Ok(f) => files.push(f),
            Err(e) => errors.push(e),
        }
    }
    (files, errors)
}

#[cfg(test)]
#[path = "flexnet_tests.rs"]
mod tests;
