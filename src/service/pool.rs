//! Store connections for the HTTP side, apart from the collectors' and the rollup's: a
//! request never waits behind a long write, at most `size` requests read at once, and a
//! connection that failed is dropped, so the next request connects again (after an
//! outage of the database, the service answers again by itself).

use std::sync::{Arc, Mutex};

use seatmeter_store::{Store, StoreConfig, StoreError};
use tokio::sync::Semaphore;

/// Whether an error means the connection may be broken (and is dropped).
pub trait Broken {
    fn broken(&self) -> bool;
}

pub struct ReadPool {
    config: StoreConfig,
    idle: Mutex<Vec<Box<dyn Store>>>,
    permits: Arc<Semaphore>,
}

impl ReadPool {
    pub fn new(config: StoreConfig, size: usize) -> ReadPool {
        ReadPool {
            config,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size.max(1))),
        }
    }

    /// Runs `f` with a connection, on a blocking thread; waits while `size` others do.
    pub async fn with<T, E>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut dyn Store) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Broken + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Other("the service is stopping".into()))?;
        let pool = self.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut store = match pool.take() {
                Ok(s) => s,
                Err(e) => return Err(E::from(e)),
            };
            let result = f(store.as_mut());
            // A connection that failed may be broken: the next request opens a new one.
            if result.as_ref().map_or_else(|e| !e.broken(), |_| true) {
                pool.idle.lock().expect("pool lock").push(store);
            }
            result
        })
        .await;
        match joined {
            Ok(r) => r,
            Err(e) => Err(E::from(StoreError::Other(format!("a request failed: {e}")))),
        }
    }

    fn take(&self) -> Result<Box<dyn Store>, StoreError> {
        if let Some(s) = self.idle.lock().expect("pool lock").pop() {
            return Ok(s);
        }
        seatmeter_store::open(&self.config)
    }
}
