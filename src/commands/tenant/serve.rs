//! `mdflow tenant serve`: the tenant emulator on loopback, until the process is stopped.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use mdflow_connectors::tenant::emulator::{Emulator, EmulatorConfig, FaultConfig, FaultKind};

use super::{positive, TenantArgs};
use crate::commands::invalid_input;

/// The environment variable that may hold the client secret instead of `--client-secret`.
const SECRET_VARIABLE: &str = "MDFLOW_EMULATOR_CLIENT_SECRET";

/// Arguments of `mdflow tenant serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub tenant: TenantArgs,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The tenant id token requests must name (default: the synthetic tenant's own, which
    /// rows carry as `ptenant` only when the linked service names it too).
    #[arg(long)]
    pub tenant_id: Option<String>,
    /// The client id the token endpoint accepts.
    #[arg(long, default_value = "mdflow-emulator")]
    pub client_id: String,
    /// The client secret the token endpoint accepts; MDFLOW_EMULATOR_CLIENT_SECRET keeps
    /// it out of the process list.
    #[arg(long)]
    pub client_secret: Option<String>,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, default_value_t = 3599, value_parser = positive)]
    pub token_lifetime: u32,
    /// Share of Graph requests answered with an injected fault, from 0 to 1.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Seed of the fault schedule; the same seed replays the same faults.
    #[arg(long, default_value_t = 1)]
    pub fault_seed: u64,
    /// Faults to draw from, comma-separated: 429, 500, 503, 504, drop, truncate.
    #[arg(long, value_delimiter = ',')]
    pub faults: Vec<String>,
    /// Retry-After of throttled (429) and unavailable (503) answers, in seconds.
    #[arg(long, default_value_t = 1)]
    pub retry_after: u64,
    /// Latency added to every Graph request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Print the address and tenant as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Starts the emulator and serves until the process is stopped.
pub fn serve(args: ServeArgs) -> ExitCode {
    let secret = match args
        .client_secret
        .clone()
        .or_else(|| std::env::var(SECRET_VARIABLE).ok())
    {
        Some(s) if !s.is_empty() => s,
        _ => {
            return invalid_input(format!(
                "give the client secret the emulator accepts with --client-secret or \
                 {SECRET_VARIABLE}"
            ))
        }
    };
    let kinds = if args.faults.is_empty() {
        FaultKind::ALL.to_vec()
    } else {
        match args.faults.iter().map(|f| FaultKind::parse(f)).collect() {
            Ok(kinds) => kinds,
            Err(e) => return invalid_input(format!("--faults: {e}")),
        }
    };
    let tenant = match args.tenant.config() {
        Ok(tenant) => tenant,
        Err(e) => return invalid_input(e),
    };
    let mut config = EmulatorConfig::new(tenant, &args.client_id, &secret);
    config.port = args.port;
    config.tenant_id = args.tenant_id.clone();
    config.token_lifetime = Duration::from_secs(u64::from(args.token_lifetime));
    config.faults = FaultConfig {
        rate: args.fault_rate,
        seed: args.fault_seed,
        kinds,
        retry_after_secs: args.retry_after,
        latency: Duration::from_millis(args.latency_ms),
    };
    let emulator = match Emulator::start(config) {
        Ok(emulator) => emulator,
        Err(e) => return invalid_input(e),
    };
    let url = emulator.url();
    let mut out = std::io::stdout().lock();
    let printed = if args.json {
        let info = serde_json::json!({
            "url": url,
            "tenantId": emulator.tenant_id(),
            "clientId": args.client_id,
        });
        writeln!(out, "{info}")
    } else {
        writeln!(
            out,
            "tenant emulator listening on {url}\ntenant {}\nclient id {}\n\
             set graphEndpoint and authorityHost to {url} in the Office365 linked service",
            emulator.tenant_id(),
            args.client_id
        )
    };
    if printed.and_then(|_| out.flush()).is_err() {
        return ExitCode::SUCCESS;
    }
    drop(out);
    tracing::info!(url = %url, "tenant emulator ready");
    emulator.wait();
    ExitCode::SUCCESS
}
