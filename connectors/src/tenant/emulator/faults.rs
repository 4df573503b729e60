//! Injected faults. Whether a request fails, and how, follows from the fault seed, the
//! request's method and URL and how many times that URL was asked for before: the same
//! seed replays the same schedule whatever order concurrent requests arrive in.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// One kind of failure the emulator can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 429 Too Many Requests with `Retry-After`.
    Throttle,
    /// 500 Internal Server Error.
    InternalError,
    /// 503 Service Unavailable with `Retry-After`.
    Unavailable,
    /// 504 Gateway Timeout.
    GatewayTimeout,
    /// The connection is closed before the answer is complete.
    Drop,
    /// A 200 answer whose body stops halfway.
    Truncate,
}

impl FaultKind {
    /// Every kind, in the order `--faults` lists them.
    pub const ALL: [FaultKind; 6] = [
        FaultKind::Throttle,
        FaultKind::InternalError,
        FaultKind::Unavailable,
        FaultKind::GatewayTimeout,
        FaultKind::Drop,
        FaultKind::Truncate,
    ];

    /// The kind's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Throttle => "429",
            FaultKind::InternalError => "500",
            FaultKind::Unavailable => "503",
            FaultKind::GatewayTimeout => "504",
            FaultKind::Drop => "drop",
            FaultKind::Truncate => "truncate",
        }
    }

    /// Parses a name given by [`FaultKind::name`].
    pub fn parse(text: &str) -> Result<FaultKind, String> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown fault `{text}`; expected one of 429, 500, 503, 504, drop, truncate"
                )
            })
    }
}

/// What the emulator injects into Graph requests (never into token requests).
#[derive(Debug, Clone)]
pub struct FaultConfig {
    /// The share of Graph requests that fail, from 0 to 1.
    pub rate: f64,
    /// The seed of the schedule.
    pub seed: u64,
    /// The kinds drawn from, evenly.
    pub kinds: Vec<FaultKind>,
    /// The `Retry-After` seconds of throttled and unavailable answers. Graph asks for
    /// seconds to minutes; tests keep it at 0 or 1.
    pub retry_after_secs: u64,
    /// How long after it comes in every Graph request is answered, at the soonest: the
    /// emulator builds the answer within that time, as a remote service would.
    pub latency: Duration,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            rate: 0.0,
            seed: 1,
            kinds: FaultKind::ALL.to_vec(),
            retry_after_secs: 1,
            latency: Duration::ZERO,
        }
    }
}

/// Decides, request by request, which fault to inject.
#[derive(Debug)]
pub(crate) struct Schedule {
    config: FaultConfig,
    /// How many times each request (by hash) was seen.
    seen: Mutex<HashMap<u64, u32>>,
}

impl Schedule {
    pub(crate) fn new(config: FaultConfig) -> Schedule {
        Schedule {
            config,
            seen: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// The fault for this request, if any.
    pub(crate) fn draw(&self, method: &str, url: &str) -> Option<FaultKind> {
        if self.config.rate <= 0.0 || self.config.kinds.is_empty() {
            return None;
        }
        let key = fnv(method.as_bytes()) ^ mix(fnv(url.as_bytes()));
        let attempt = {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            let n = seen.entry(key).or_insert(0);
            *n += 1;
            *n
        };
        let h = mix(mix(self.config.seed ^ key) ^ u64::from(attempt));
        let draw = (h >> 11) as f64 / (1u64 << 53) as f64;
        if draw >= self.config.rate {
            return None;
        }
        let kinds = &self.config.kinds;
        Some(kinds[(mix(h) % kinds.len() as u64) as usize])
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_its_schedule() {
        let config = FaultConfig {
            rate: 0.5,
            seed: 7,
            ..FaultConfig::default()
        };
        let run = || {
            let s = Schedule::new(config.clone());
            (0..200)
                .map(|i| s.draw("GET", &format!("/v1.0/users/{}", i % 20)))
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let faults = first.iter().filter(|f| f.is_some()).count();
        assert!((60..140).contains(&faults), "{faults} faults of 200");
    }
}
