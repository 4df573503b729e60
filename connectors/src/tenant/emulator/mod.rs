//! The tenant emulator: an HTTP server on loopback that speaks the Microsoft Graph protocol
//! (the client-credentials token endpoint and the v1.0 endpoints the `graph` back-end
//! uses) over a synthetic tenant, with injectable throttling, latency and faults.
//!
//! Graph objects are the synthetic tenant's rows without the MGDC envelope; the `graph`
//! back-end adds it back, so an extraction through the emulator gives the rows the
//! synthetic tenant gives in process. See `docs/graph.md`.

mod faults;
mod routes;
mod server;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use self::faults::{FaultConfig, FaultKind};
use self::server::Shared;
use crate::tenant::synthetic::{SyntheticConfig, SyntheticTenant};

/// Mailbox concurrency Graph allows: more requests in flight for one mailbox are answered
/// 429 `ApplicationThrottled`.
pub const MAILBOX_CONCURRENCY: u32 = 4;

/// How the emulator is set up.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The tenant it serves.
    pub tenant: SyntheticConfig,
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The tenant id token requests must name; `None` uses the synthetic tenant's own.
    pub tenant_id: Option<String>,
    /// The client id the token endpoint accepts.
    pub client_id: String,
    /// The client secret the token endpoint accepts. Never logged.
    pub client_secret: String,
    /// How long an access token lives.
    pub token_lifetime: Duration,
    /// Injected faults and latency.
    pub faults: FaultConfig,
}

impl EmulatorConfig {
    /// An emulator of `tenant` with the given credentials, a random port, hour-long tokens
    /// and no faults.
    pub fn new(tenant: SyntheticConfig, client_id: &str, client_secret: &str) -> Self {
        EmulatorConfig {
            tenant,
            port: 0,
            tenant_id: None,
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            token_lifetime: Duration::from_secs(3599),
            faults: FaultConfig::default(),
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The tenant configuration is not usable.
    #[error("{0}")]
    Tenant(String),
    /// A setting is out of range.
    #[error("{0}")]
    Setting(String),
    /// The port could not be bound, or the server's runtime could not start.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen {
        /// The port asked for.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
}

/// Counts of what the emulator has answered, for tests and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmulatorStats {
    /// Graph requests received (token requests excluded).
    pub requests: u64,
    /// Requests answered with an injected fault.
    pub faults: u64,
    /// Requests refused with `ApplicationThrottled` because a mailbox had more than four
    /// requests in flight.
    pub concurrency_throttled: u64,
    /// Access tokens issued.
    pub tokens_issued: u64,
    /// Requests refused for a missing, unknown or expired token.
    pub unauthorized: u64,
}

/// A running emulator; it stops when dropped.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Emulator {
    /// Builds the tenant, binds the port and starts serving on a thread of its own.
    pub fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let rate = config.faults.rate;
        if !(0.0..=1.0).contains(&rate) {
            return Err(EmulatorError::Setting(format!(
                "the fault rate {rate} is not between 0 and 1"
            )));
        }
        if config.token_lifetime.is_zero() {
            return Err(EmulatorError::Setting(
                "the token lifetime must be at least one second".into(),
            ));
        }
        let tenant = SyntheticTenant::new(config.tenant.clone()).map_err(EmulatorError::Tenant)?;
        let listen = |source| EmulatorError::Listen {
            port: config.port,
            source,
        };
        let listener = std::net::TcpListener::bind(("127.0.0.1", config.port)).map_err(listen)?;
        listener.set_nonblocking(true).map_err(listen)?;
        let addr = listener.local_addr().map_err(listen)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mdflow-emulator")
            .enable_all()
            .build()
            .map_err(listen)?;
        let shared = Arc::new(Shared::new(tenant, &config, format!("http://{addr}")));
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(listen)?
        };
        let app = server::router(shared.clone());
        let thread = std::thread::Builder::new()
            .name("mdflow-emulator".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let served = axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = stopped.await;
                        })
                        .await;
                    if let Err(e) = served {
                        tracing::error!("the tenant emulator stopped: {e}");
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(listen)?;
        Ok(Emulator {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`: both the authority host and the Graph endpoint.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The id of the tenant it serves; token requests must name it.
    pub fn tenant_id(&self) -> &str {
        &self.shared.tenant_id
    }

    /// What it has answered so far.
    pub fn stats(&self) -> EmulatorStats {
        self.shared.stats()
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
