//! Runs collectors against the store: each batch a collector delivers is stored with the
//! cursor that follows it, in one transaction.

use std::time::{Duration, Instant};

use seatmeter_collectors::{Batch, CollectError, Collector, Reject, Sink, Summary};

use crate::store::{IngestStats, Store};

/// How many rejected lines a run keeps to show (all are stored).
const SHOWN_REJECTS: usize = 5;

/// What one collector run did.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub name: String,
    pub kind: String,
    pub summary: Summary,
    pub stored: IngestStats,
    /// The first lines kept aside in this run.
    pub rejects: Vec<Reject>,
    pub error: Option<String>,
    pub duration: Duration,
}

struct StoreSink<'a> {
    store: &'a mut dyn Store,
    name: &'a str,
    kind: &'a str,
    stored: IngestStats,
    rejects: Vec<Reject>,
    stop: &'a dyn Fn() -> bool,
}

impl Sink for StoreSink<'_> {
    fn deliver(&mut self, batch: Batch, cursor: &str) -> Result<(), CollectError> {
        let stats = self
            .store
            .ingest(self.name, self.kind, &batch, cursor)
            .map_err(|e| CollectError::Deliver(e.to_string()))?;
        self.stored += stats;
        let room = SHOWN_REJECTS.saturating_sub(self.rejects.len());
        self.rejects.extend(batch.rejects.into_iter().take(room));
        Ok(())
    }

    fn should_stop(&self) -> bool {
        (self.stop)()
    }
}

/// Runs one collection of one collector, and records its outcome in the store.
pub fn run_once(
    store: &mut dyn Store,
    collector: &mut dyn Collector,
    kind: &str,
    stop: &dyn Fn() -> bool,
) -> RunReport {
    let started = Instant::now();
    let name = collector.name().to_string();
    let mut report = RunReport {
        name: name.clone(),
        kind: kind.to_string(),
        ..RunReport::default()
    };
    let cursor = match store.cursor(&name) {
        Ok(c) => c,
        Err(e) => {
            report.error = Some(format!("reading the cursor failed: {e}"));
            return report;
        }
    };
    let mut sink = StoreSink {
        store,
        name: &name,
        kind,
        stored: IngestStats::default(),
        rejects: Vec::new(),
        stop,
    };
    let result = collector.collect(cursor.as_deref(), &mut sink);
    report.stored = sink.stored;
    report.rejects = std::mem::take(&mut sink.rejects);
    match result {
        Ok(summary) => report.summary = summary,
        Err(e) => report.error = Some(e.to_string()),
    }
    report.duration = started.elapsed();
    let at = crate::now_nanos();
    if let Err(e) = store.record_run(&name, kind, at, report.error.as_deref()) {
        report
            .error
            .get_or_insert(format!("recording the run failed: {e}"));
    }
    report
}
