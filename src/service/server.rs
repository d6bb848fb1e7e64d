//! The service's HTTP server: its own accept loop over hyper, so that every connection has
//! a deadline for its request headers (a client that sends them slowly, or nothing, is
//! closed), the number of open connections is bounded (more are closed at once), and
//! shutdown lets the requests in flight finish. With TLS configured, each connection is
//! a TLS stream first (its handshake within the same header deadline), and a client that
//! speaks plain HTTP to it gets no answer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::{Semaphore, watch};

/// What the server allows a connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a client has to send a request's headers, from the connection's opening
    /// (and, between requests on one connection, from the end of the last answer).
    pub header_timeout: Duration,
    /// How many connections may be open at once.
    pub connections: usize,
}

/// Serves `router` on `listener` until `shutdown` turns true, then waits up to `grace` for
/// the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let open = Arc::new(Semaphore::new(limits.connections));
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = async { shutdown.wait_for(|&s| s).await.map(|_| ()) } => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(%peer, limit = limits.connections, "too many open connections: closed");
            drop(stream);
            continue;
        };
        let service = TowerToHyperService::new(router.clone());
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout);
        let Some(tls) = &tls else {
            let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                drop(permit);
            });
            continue;
        };
        let (tls, watcher) = (tls.clone(), graceful.watcher());
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(limits.header_timeout, tls.accept(stream)).await
            {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let conn = watcher.watch(builder.serve_connection(TokioIo::new(stream), service));
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight at shutdown were cut");
    }
}
