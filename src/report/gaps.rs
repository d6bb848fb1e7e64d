//! What makes a report incomplete (docs/SEMANTICS.md, "Complete reports"): files that could
//! not be read, days not rolled up, collectors behind.

use seatmeter_core::{Calendar, Day, Nanos};

use super::audience::{collector_label, file_name};
use super::{ReportError, Reporter, Request, day_range};

impl Reporter<'_> {
    /// What makes the numbers of `req` incomplete (docs/SEMANTICS.md, "Complete reports"):
    /// license or entitlement files that could not be read, days of the report with data
    /// not rolled up, collectors that never collected or not since before the report
    /// ends. Empty when the report is complete.
    pub fn gaps(&mut self, req: &Request) -> Result<&[String], ReportError> {
        if self.gaps_of.as_ref() == Some(req) {
            return Ok(&self.outcome.gaps);
        }
        let mut gaps = Vec::new();
        let audience = self.audience(req);
        let tenant_view = audience.tenant().is_some();
        // A tenant judged by its grants is not judged by the site's license files.
        if !(tenant_view && self.tenant_grants()) {
            for e in &self.outcome.license_errors {
                let file = match tenant_view {
                    true => format!(
                        "{}:{}: {}",
                        file_name(std::path::Path::new(&e.path)),
                        e.line,
                        e.message
                    ),
                    false => e.to_string(),
                };
                gaps.push(format!(
                    "license file not used: {file}; the entitlement of its features is not known, so their over-use is not judged"
                ));
            }
        }
        if let Some(e) = &self.outcome.entitlement_error {
            let mut e = e.clone();
            if tenant_view {
                for p in &self.config.entitlement_files {
                    e = e.replace(&p.display().to_string(), &file_name(p));
                }
            }
            gaps.push(format!(
                "entitlement file not used: {e}; system rows compare with the license files alone, and tenant and group rows have no entitlement"
            ));
        }
        gaps.extend(self.data_gaps(req)?);
        self.outcome.gaps = gaps;
        self.gaps_of = Some(req.clone());
        Ok(&self.outcome.gaps)
    }

    /// The gaps of `req` that concern its data, not its entitlement: days with data not
    /// rolled up, a rollup that did not finish, collectors behind. What the agent report
    /// and the right-sizing engines (which compare with no entitlement) check.
    pub fn data_gaps(&mut self, req: &Request) -> Result<Vec<String>, ReportError> {
        let mut gaps = Vec::new();
        let tenant_view = self.audience(req).tenant().is_some();
        let (d_lo, d_hi) = day_range(req, self.config.week_start);
        if self.rolled.is_none() {
            if self.store.event_span()?.is_some() {
                gaps.push(
                    "nothing is rolled up yet: run `seatmeter rollup`; this report shows no usage"
                        .into(),
                );
            }
        } else {
            let (pending, _) = self.store.dirty_days()?;
            let n = seatmeter_core::time::NANOS_PER_DAY;
            let days: std::collections::BTreeSet<Day> = pending
                .iter()
                .flat_map(|&u| self.cal.day_of(u * n)..=self.cal.day_of((u + 1) * n - 1))
                .filter(|d| (d_lo..=d_hi).contains(d))
                .collect();
            if let (Some(a), Some(b)) = (days.first(), days.last()) {
                gaps.push(format!(
                    "data for {} day(s) of the report ({} to {}) arrived after the last rollup and is not in this report; run `seatmeter rollup`",
                    days.len(),
                    Calendar::date_text(*a),
                    Calendar::date_text(*b)
                ));
            } else if !self.finished {
                gaps.push("the last rollup did not finish: run `seatmeter rollup`".into());
            }
        }
        gaps.extend(self.collector_gaps(d_hi, tenant_view)?);
        Ok(gaps)
    }

    /// Collectors that have not collected what the report covers: never, or not since
    /// before the report ends (or, for a report that reaches the present, not recently).
    fn collector_gaps(&mut self, d_hi: Day, tenant_view: bool) -> Result<Vec<String>, ReportError> {
        let status = self.store.status()?;
        let end = self.cal.day_start(d_hi + 1);
        let now = seatmeter_core::time::now_nanos();
        let mut out = Vec::new();
        for (i, c) in self.config.collectors.iter().enumerate() {
            let named = match tenant_view {
                true => collector_label(i, c.kind()),
                false => format!("collector {} ({})", c.name(), c.kind()),
            };
            let last = status
                .collectors
                .iter()
                .find(|s| s.name == c.name())
                .and_then(|s| s.last_success);
            // For a report reaching the present, data of the last intervals may still come.
            let allowance = (c.interval() * 2 + self.config.service.timeout.0).as_nanos() as Nanos;
            let needed = end.min(now - allowance);
            match last {
                None => out.push(format!(
                    "{named} has never collected: its data is not in this report; run `seatmeter collect --once`"
                )),
                Some(t) if t < needed => out.push(format!(
                    "{named} last collected at {}, before the report's data ends ({}): what it has collected since is not in this report; run `seatmeter collect --once` and `seatmeter rollup`",
                    self.cal.format(t),
                    self.cal.format(needed)
                )),
                Some(_) => {}
            }
        }
        Ok(out)
    }
}
