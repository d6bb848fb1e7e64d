//! Runs collectors against the store: each batch a collector delivers is stored with the
//! cursor that follows it, in one transaction.

use std::fmt;
use std::time::{Duration, Instant};

use seatmeter_collectors::{Batch, CollectError, CollectorConfig, Reject, Sink, Summary, Window};
use seatmeter_store::{CursorCheck, IngestStats, Store, StoreConfig, StoreError};

/// How often a run reads on after another collection moved its cursor, before it gives up
/// (and says so) until its next interval.
const MAX_RESTARTS: usize = 5;

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

/// The line `collect` prints for a run, then the lines kept aside and the notes.
impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stored;
        write!(
            f,
            "{} ({}): {} source(s), {} line(s) read: {} event(s) stored",
            self.name, self.kind, self.summary.sources, self.summary.lines, s.events
        )?;
        if s.duplicates > 0 {
            write!(f, ", {} duplicate(s) not stored again", s.duplicates)?;
        }
        if s.snapshots + s.duplicate_snapshots > 0 {
            write!(f, ", {} snapshot(s) stored", s.snapshots)?;
        }
        if s.rejects > 0 {
            write!(f, ", {} kept aside (see `seatmeter rejects`)", s.rejects)?;
        }
        write!(f, " in {:.2} s", self.duration.as_secs_f64())?;
        for rej in &self.rejects {
            write!(f, "\n  kept aside: {rej}")?;
        }
        for note in &self.summary.notes {
            write!(f, "\n  note: {note}")?;
        }
        Ok(())
    }
}

struct StoreSink<'a> {
    store: &'a mut dyn Store,
    name: &'a str,
    kind: &'a str,
    stored: IngestStats,
    rejects: Vec<Reject>,
    stop: &'a dyn Fn() -> bool,
    window: Window,
    /// The cursor the next batch is read after, as this run last stored or read it.
    was: Option<String>,
    /// Another collection moved the cursor meanwhile: this run's reading is stale.
    moved: bool,
}

impl Sink for StoreSink<'_> {
    fn deliver(&mut self, batch: Batch, cursor: &str) -> Result<(), CollectError> {
        let check = CursorCheck::Was(self.was.as_deref());
        let stats = match self
            .store
            .ingest_checked(self.name, self.kind, &batch, check, cursor)
        {
            Ok(stats) => stats,
            Err(e) => {
                self.moved = matches!(e, StoreError::CursorMoved { .. });
                return Err(CollectError::Deliver(e.to_string()));
            }
        };
        self.was = Some(cursor.to_string());
        self.stored += stats;
        let room = SHOWN_REJECTS.saturating_sub(self.rejects.len());
        self.rejects.extend(batch.rejects.into_iter().take(room));
        Ok(())
    }

    fn should_stop(&self) -> bool {
        (self.stop)()
    }

    fn window(&self) -> Window {
        self.window
    }
}

/// Runs one collection of one collector, and records its outcome in the store. Instants
/// more than `margin` after the wall clock (or before 2000) are kept aside.
pub fn run_once(
    store: &mut dyn Store,
    config: &CollectorConfig,
    margin: Duration,
    stop: &dyn Fn() -> bool,
) -> RunReport {
    let started = Instant::now();
    let window = Window::at(seatmeter_core::time::now_nanos(), margin);
    let mut collector = config.build();
    let kind = config.kind();
    let name = collector.name().to_string();
    let mut report = RunReport {
        name: name.clone(),
        kind: kind.to_string(),
        ..RunReport::default()
    };
    let mut sink = StoreSink {
        store,
        name: &name,
        kind,
        stored: IngestStats::default(),
        rejects: Vec::new(),
        stop,
        window,
        was: None,
        moved: false,
    };
    // When another collection of the same collector stored first (two at once, or one
    // killed while its commit still ran in a PostgreSQL server), read on from where it
    // left the cursor: nothing of this run's stale reading was stored.
    let mut result = Ok(Summary::default());
    for _ in 0..MAX_RESTARTS {
        sink.was = match sink.store.cursor(&name) {
            Ok(c) => c,
            Err(e) => {
                result = Err(format!("reading the cursor failed: {e}"));
                break;
            }
        };
        sink.moved = false;
        result = collector
            .collect(sink.was.clone().as_deref(), &mut sink)
            .map_err(|e| e.to_string());
        if !sink.moved {
            break;
        }
        collector = config.build();
    }
    report.stored = sink.stored;
    report.rejects = std::mem::take(&mut sink.rejects);
    match result {
        Ok(summary) => report.summary = summary,
        Err(e) => report.error = Some(e),
    }
    report.duration = started.elapsed();
    let at = seatmeter_core::time::now_nanos();
    if let Err(e) = store.record_run(&name, kind, at, report.error.as_deref()) {
        report
            .error
            .get_or_insert(format!("recording the run failed: {e}"));
    }
    report
}

/// Runs each of `collectors` once, at the same time, each with its own connection to the
/// store (the first with `store`), and reports in their order.
pub fn run_all(
    store_config: &StoreConfig,
    store: &mut dyn Store,
    collectors: &[&CollectorConfig],
    margin: Duration,
) -> Result<Vec<RunReport>, StoreError> {
    let run = |store: &mut dyn Store, c: &CollectorConfig| run_once(store, c, margin, &|| false);
    std::thread::scope(|scope| {
        let others: Vec<_> = collectors
            .iter()
            .skip(1)
            .map(|&c| {
                scope.spawn(move || -> Result<RunReport, StoreError> {
                    let mut store = seatmeter_store::open(store_config)?;
                    Ok(run(store.as_mut(), c))
                })
            })
            .collect();
        let mut reports = Vec::new();
        if let Some(&first) = collectors.first() {
            reports.push(run(store, first));
        }
        for h in others {
            reports.push(
                h.join()
                    .map_err(|_| StoreError::Other("a collector panicked".into()))??,
            );
        }
        Ok(reports)
    })
}
