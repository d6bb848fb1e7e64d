//! When things run in `seatmeter serve`: each collector on its own interval (one run at a
//! time, stopped between batches on a timeout, retried with exponential backoff and jitter),
//! and the rollup after each local midnight plus a delay, once at start to catch up.
//!
//! The loops are generic over how a job runs and over the wall clock, so that tests drive
//! them with fake jobs and `tokio::time::pause()`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use seatmeter_core::Nanos;
use seatmeter_core::time::NANOS_PER_SEC;
use tokio::sync::watch;

use seatmeter_core::Calendar;

/// The wall clock, as UTC nanoseconds.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Nanos;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Nanos {
        seatmeter_core::time::now_nanos()
    }
}

/// A wall clock that moves with tokio's clock: starts at `start` and advances as tokio's
/// (possibly paused) time does. For tests.
pub struct TokioClock {
    start: Nanos,
    origin: tokio::time::Instant,
}

impl TokioClock {
    pub fn new(start: Nanos) -> TokioClock {
        TokioClock {
            start,
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Nanos {
        self.start + self.origin.elapsed().as_nanos() as Nanos
    }
}

/// Sleeps until the wall clock reaches `t`, waking at least every minute to notice a change
/// of the system clock. Returns false if shut down first.
pub async fn sleep_until_wall(
    clock: &dyn Clock,
    t: Nanos,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    loop {
        let now = clock.now();
        if now >= t {
            return true;
        }
        let wait = Duration::from_nanos((t - now) as u64).min(Duration::from_secs(60));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return false,
        }
        if *shutdown.borrow() {
            return false;
        }
    }
}

/// When the next daily rollup runs after `now`: local midnight plus `delay` (today's, if
/// that is still ahead).
pub fn next_rollup_at(cal: &Calendar, now: Nanos, delay: Duration) -> Nanos {
    let delay = delay.as_nanos() as Nanos;
    let today = cal.day_of(now);
    let this = cal.day_start(today) + delay;
    if this > now {
        this
    } else {
        cal.day_start(today + 1) + delay
    }
}

/// How long to wait after the `failures`-th failure in a row: 10 s doubled each time, at
/// most `max`, with ±20 % jitter (from `seed`, so that collectors failing together do not
/// retry together).
pub fn backoff(failures: u32, max: Duration, seed: u64) -> Duration {
    let base = Duration::from_secs(10).saturating_mul(1u32 << failures.saturating_sub(1).min(20));
    let d = base.min(max);
    let mut rng = seatmeter_core::rng::Rng::new(seed ^ (failures as u64).wrapping_mul(0x9e37_79b9));
    let factor = 0.8 + 0.4 * (rng.below(1_000_001) as f64 / 1_000_000.0);
    d.mul_f64(factor)
}

/// The outcome of one job run.
pub type JobResult = Result<(), String>;

/// A collection: runs until done, or until `stop` is set (then between two batches).
pub trait CollectJob: Send + 'static {
    fn run(&mut self, stop: Arc<AtomicBool>) -> impl Future<Output = JobResult> + Send;
}

/// What the loops report, for metrics and logs.
pub trait Observer: Send + Sync + 'static {
    fn collection(&self, collector: &str, started: Nanos, duration: Duration, result: &JobResult);
    fn rollup(&self, started: Nanos, duration: Duration, result: &JobResult);
}

#[derive(Debug, Clone)]
pub struct CollectorPolicy {
    pub name: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub max_backoff: Duration,
}

/// Runs one collector until shutdown: now, then every `interval` after each start (or after
/// a backoff, while it fails). One run at a time; a run over `timeout` is told to stop and
/// counts as failed.
pub async fn collector_loop<J: CollectJob>(
    mut job: J,
    policy: CollectorPolicy,
    clock: Arc<dyn Clock>,
    observer: Arc<dyn Observer>,
    first_run: Arc<tokio::sync::Semaphore>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut first = true;
    let seed = policy.name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let mut failures = 0u32;
    let mut next = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        let started = tokio::time::Instant::now();
        let started_wall = clock.now();
        let stop = Arc::new(AtomicBool::new(false));
        let mut run = std::pin::pin!(job.run(stop.clone()));
        let mut shutting_down = false;
        let result = tokio::select! {
            r = &mut run => r,
            _ = tokio::time::sleep(policy.timeout) => {
                stop.store(true, Ordering::Relaxed);
                let _ = run.await;
                Err(format!("timed out after {}; stopped after the batch in flight", humantime::format_duration(policy.timeout)))
            }
            _ = shutdown.changed() => {
                // Finish (or abandon) the batch in flight; its cursor moves only if stored.
                stop.store(true, Ordering::Relaxed);
                shutting_down = true;
                run.await
            }
        };
        observer.collection(&policy.name, started_wall, started.elapsed(), &result);
        if std::mem::take(&mut first) {
            first_run.add_permits(1);
        }
        if shutting_down {
            return;
        }
        next = match result {
            Ok(()) => {
                failures = 0;
                (started + policy.interval).max(tokio::time::Instant::now())
            }
            Err(_) => {
                failures += 1;
                tokio::time::Instant::now() + backoff(failures, policy.max_backoff, seed)
            }
        };
    }
}

/// A rollup of the days whose data changed.
pub trait RollupJob: Send + 'static {
    fn run(&mut self, stop: Arc<AtomicBool>) -> impl Future<Output = JobResult> + Send;
}

/// Rolls up once `ready` completes (the first collections, so that the catch-up covers
/// what they found), then after every local midnight plus `delay`. A failed rollup is
/// retried with backoff.
#[allow(clippy::too_many_arguments)]
pub async fn rollup_loop<J: RollupJob>(
    mut job: J,
    ready: impl Future<Output = ()> + Send,
    cal: Calendar,
    delay: Duration,
    max_backoff: Duration,
    clock: Arc<dyn Clock>,
    observer: Arc<dyn Observer>,
    mut shutdown: watch::Receiver<bool>,
) {
    tokio::select! {
        _ = ready => {}
        _ = shutdown.changed() => return,
    }
    let mut failures = 0u32;
    let mut at: Option<Nanos> = None; // None: now
    loop {
        if let Some(t) = at
            && !sleep_until_wall(clock.as_ref(), t, &mut shutdown).await
        {
            return;
        }
        let started = tokio::time::Instant::now();
        let started_wall = clock.now();
        let stop = Arc::new(AtomicBool::new(false));
        let mut run = std::pin::pin!(job.run(stop.clone()));
        let (result, shutting_down) = tokio::select! {
            r = &mut run => (r, false),
            _ = shutdown.changed() => {
                stop.store(true, Ordering::Relaxed);
                (run.await, true)
            }
        };
        observer.rollup(started_wall, started.elapsed(), &result);
        if shutting_down {
            return;
        }
        at = Some(match result {
            Ok(()) => {
                failures = 0;
                next_rollup_at(&cal, clock.now(), delay)
            }
            Err(_) => {
                failures += 1;
                clock.now() + backoff(failures, max_backoff, 7).as_nanos() as Nanos
            }
        });
    }
}

/// Seconds since the Unix epoch, for metrics.
pub fn seconds(t: Nanos) -> f64 {
    t as f64 / NANOS_PER_SEC as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    use seatmeter_core::time::parse_rfc3339;

    fn t(s: &str) -> Nanos {
        parse_rfc3339(s).unwrap()
    }

    fn cal(tz: &str) -> Calendar {
        Calendar::new(tz.parse().unwrap())
    }

    #[test]
    fn the_daily_rollup_follows_local_midnight_across_clock_changes() {
        let c = cal("Europe/London");
        let fifteen = Duration::from_secs(900);
        // Before the delay has passed: today's.
        assert_eq!(
            c.format(next_rollup_at(&c, t("2026-10-24T23:05:00Z"), fifteen)),
            "2026-10-25T00:15:00+01:00"
        );
        // After: tomorrow's, 25 hours later on the day clocks go back.
        assert_eq!(
            c.format(next_rollup_at(&c, t("2026-10-24T23:15:00Z"), fifteen)),
            "2026-10-26T00:15:00+00:00"
        );
        // 23 hours on the day they go forward.
        let a = next_rollup_at(&c, t("2026-03-28T12:00:00Z"), fifteen);
        let b = next_rollup_at(&c, a, fifteen);
        assert_eq!(
            (c.format(a).as_str(), c.format(b).as_str()),
            ("2026-03-29T00:15:00+00:00", "2026-03-30T00:15:00+01:00")
        );
        assert_eq!(b - a, 23 * 3600 * NANOS_PER_SEC);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let max = Duration::from_secs(1800);
        for (failures, base) in [
            (1u32, 10u64),
            (2, 20),
            (3, 40),
            (6, 320),
            (8, 1280),
            (9, 1800),
            (30, 1800),
        ] {
            let d = backoff(failures, max, 42).as_secs_f64();
            assert!(
                d >= base as f64 * 0.8 - 1e-9 && d <= base as f64 * 1.2 + 1e-9,
                "{failures}: {d} vs {base}"
            );
        }
        assert_ne!(
            backoff(3, max, 1),
            backoff(3, max, 2),
            "jitter differs between collectors"
        );
        assert_eq!(backoff(3, max, 1), backoff(3, max, 1));
    }

    /// Records when (in virtual seconds) it runs; fails its first `fail` runs; each run takes
    /// `takes` (virtual), in steps so that it can notice `stop`.
    struct FakeCollector {
        log: Arc<Mutex<Vec<(f64, bool)>>>,
        fail: usize,
        takes: Duration,
        origin: tokio::time::Instant,
    }

    impl CollectJob for FakeCollector {
        fn run(&mut self, stop: Arc<AtomicBool>) -> impl Future<Output = JobResult> + Send {
            let log = self.log.clone();
            let n = log.lock().unwrap().len();
            let fail = n < self.fail;
            let takes = self.takes;
            let origin = self.origin;
            async move {
                let start = origin.elapsed().as_secs_f64();
                let mut left = takes;
                while !left.is_zero() && !stop.load(Ordering::Relaxed) {
                    let step = left.min(Duration::from_secs(1));
                    tokio::time::sleep(step).await;
                    left -= step;
                }
                log.lock().unwrap().push((start, !fail));
                if fail {
                    Err("source down".into())
                } else {
                    Ok(())
                }
            }
        }
    }

    #[derive(Default)]
    struct Seen(Mutex<Vec<String>>);

    impl Observer for Seen {
        fn collection(&self, c: &str, _: Nanos, d: Duration, r: &JobResult) {
            self.0.lock().unwrap().push(format!(
                "{c} {:?} {}",
                d.as_secs(),
                r.as_ref().err().cloned().unwrap_or_default()
            ));
        }
        fn rollup(&self, started: Nanos, _: Duration, r: &JobResult) {
            self.0.lock().unwrap().push(format!(
                "rollup {} {}",
                seatmeter_core::time::format_utc(started),
                r.is_ok()
            ));
        }
    }

    fn policy(interval: u64, timeout: u64) -> CollectorPolicy {
        CollectorPolicy {
            name: "events".into(),
            interval: Duration::from_secs(interval),
            timeout: Duration::from_secs(timeout),
            max_backoff: Duration::from_secs(60),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn collectors_run_on_their_interval_and_back_off_while_failing() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let job = FakeCollector {
            log: log.clone(),
            fail: 3,
            takes: Duration::from_secs(2),
            origin: tokio::time::Instant::now(),
        };
        let (tx, rx) = watch::channel(false);
        let seen = Arc::new(Seen::default());
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::new(0));
        let task = tokio::spawn(collector_loop(
            job,
            policy(300, 600),
            clock,
            seen.clone(),
            Arc::new(tokio::sync::Semaphore::new(0)),
            rx,
        ));
        tokio::time::sleep(Duration::from_secs(1000)).await;
        tx.send(true).unwrap();
        task.await.unwrap();
        let runs = log.lock().unwrap().clone();
        let starts: Vec<f64> = runs.iter().map(|r| r.0).collect();
        // Three failures: retries after ~10, ~20, ~40 s (±20 %) from each failure's end.
        let gaps: Vec<f64> = starts.windows(2).map(|w| w[1] - w[0] - 2.0).collect();
        for (gap, base) in gaps.iter().zip([10.0, 20.0, 40.0]) {
            assert!(
                *gap >= base * 0.8 - 0.01 && *gap <= base * 1.2 + 0.01,
                "{gaps:?}"
            );
        }
        // Then successes every 300 s from each start.
        assert!(runs[3].1 && runs[4].1);
        assert!((starts[4] - starts[3] - 300.0).abs() < 0.01, "{starts:?}");
        assert!(starts.len() >= 5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_collection_over_its_timeout_is_stopped_and_retried() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let job = FakeCollector {
            log: log.clone(),
            fail: 0,
            takes: Duration::from_secs(500),
            origin: tokio::time::Instant::now(),
        };
        let (tx, rx) = watch::channel(false);
        let seen = Arc::new(Seen::default());
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::new(0));
        let task = tokio::spawn(collector_loop(
            job,
            policy(300, 30),
            clock,
            seen.clone(),
            Arc::new(tokio::sync::Semaphore::new(0)),
            rx,
        ));
        tokio::time::sleep(Duration::from_secs(45)).await;
        let first = seen.0.lock().unwrap()[0].clone();
        // Stopped at the first batch boundary from 30 s on (the fake's batches take 1 s; the
        // one ending at 30 s may finish before or after the timeout fires).
        let msg = "timed out after 30s; stopped after the batch in flight";
        assert!(
            first == format!("events 30 {msg}") || first == format!("events 31 {msg}"),
            "{first}"
        );
        tx.send(true).unwrap();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_lets_the_run_in_flight_finish_its_batch() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let job = FakeCollector {
            log: log.clone(),
            fail: 0,
            takes: Duration::from_secs(100),
            origin: tokio::time::Instant::now(),
        };
        let (tx, rx) = watch::channel(false);
        let seen = Arc::new(Seen::default());
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::new(0));
        let task = tokio::spawn(collector_loop(
            job,
            policy(300, 600),
            clock,
            seen,
            Arc::new(tokio::sync::Semaphore::new(0)),
            rx,
        ));
        tokio::time::sleep(Duration::from_secs(5)).await;
        let before = tokio::time::Instant::now();
        tx.send(true).unwrap();
        task.await.unwrap();
        assert!(
            before.elapsed() <= Duration::from_secs(1),
            "stopped at the next batch boundary"
        );
        assert_eq!(log.lock().unwrap().len(), 1);
    }

    struct FakeRollup(Arc<Mutex<Vec<Nanos>>>, Arc<dyn Clock>);

    impl RollupJob for FakeRollup {
        fn run(&mut self, _stop: Arc<AtomicBool>) -> impl Future<Output = JobResult> + Send {
            self.0.lock().unwrap().push(self.1.now());
            async { Ok(()) }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_rollup_catches_up_at_start_then_runs_after_each_local_midnight() {
        let c = cal("Europe/London");
        let clock: Arc<dyn Clock> = Arc::new(TokioClock::new(t("2026-10-24T20:00:00Z")));
        let runs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(rollup_loop(
            FakeRollup(runs.clone(), clock.clone()),
            async {},
            c.clone(),
            Duration::from_secs(900),
            Duration::from_secs(600),
            clock,
            Arc::new(Seen::default()),
            rx,
        ));
        tokio::time::sleep(Duration::from_secs(3 * 86_400)).await;
        tx.send(true).unwrap();
        task.await.unwrap();
        let runs: Vec<String> = runs.lock().unwrap().iter().map(|&t| c.format(t)).collect();
        assert_eq!(
            runs[..4],
            [
                "2026-10-24T21:00:00+01:00", // at start: catch up
                "2026-10-25T00:15:00+01:00",
                "2026-10-26T00:15:00+00:00", // 25 hours later: clocks went back
                "2026-10-27T00:15:00+00:00",
            ]
        );
    }
}
