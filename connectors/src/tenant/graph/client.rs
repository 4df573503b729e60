//! Graph requests with the throttling discipline: at most four requests in flight per
//! mailbox and a global cap, `Retry-After` honoured, back-off with jitter for server
//! errors, timeouts, dropped connections and cut-off answers, and a bounded number of
//! retries after which the request fails with its last error.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::header::HeaderMap;
use reqwest::Url;
use serde_json::Value;

use super::auth::TokenSource;
use super::retry::RetryPolicy;
use crate::tenant::TenantError;

/// Requests in flight that Graph allows for one mailbox.
pub const PER_MAILBOX: usize = 4;

/// What a successful request gave.
pub(crate) enum Fetched {
    /// The answer's body: one complete JSON document in UTF-8. It is checked, not decoded:
    /// pages pass their objects on as Graph wrote them.
    Found(String),
    /// 404, with Graph's message.
    NotFound(String),
}

/// One attempt's result.
enum Attempt {
    Done(Fetched),
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    Fail(String),
}

/// Sends Graph requests for a back-end.
pub(crate) struct GraphClient {
    pub(crate) http: Client,
    pub(crate) tokens: TokenSource,
    pub(crate) policy: RetryPolicy,
    limiter: Limiter,
}

impl GraphClient {
    pub(crate) fn new(
        http: Client,
        tokens: TokenSource,
        policy: RetryPolicy,
        global_cap: usize,
    ) -> Self {
        GraphClient {
            http,
            tokens,
            policy,
            limiter: Limiter::new(global_cap.max(1)),
        }
    }

    /// GETs a URL, retrying what can be retried. `mailbox` names the mailbox the request
    /// reads, for its concurrency limit and for messages.
    pub(crate) fn get(&self, url: &Url, mailbox: Option<&str>) -> Result<Fetched, TenantError> {
        let mut n = 0;
        loop {
            match self.attempt(url, mailbox)? {
                Attempt::Done(fetched) => return Ok(fetched),
                Attempt::Fail(message) => {
                    return Err(TenantError::Service(format!(
                        "GET {}: {message}",
                        url.path()
                    )))
                }
                Attempt::Retry { reason, after } => {
                    n += 1;
                    if n > self.policy.max_retries {
                        return Err(TenantError::Service(format!(
                            "GET {} failed after {} retries; last error: {reason}",
                            url.path(),
                            self.policy.max_retries
                        )));
                    }
                    self.policy.wait(n, after, mailbox, &reason);
                }
            }
        }
    }

    fn attempt(&self, url: &Url, mailbox: Option<&str>) -> Result<Attempt, TenantError> {
        let token = self.tokens.token(&self.http, &self.policy)?;
        let permit = self.limiter.acquire(mailbox);
        let sent = self
            .http
            .get(url.clone())
            .bearer_auth(&token)
            .header("Accept", "application/json")
            .send();
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                return Ok(Attempt::Retry {
                    reason: describe(&e),
                    after: None,
                })
            }
        };
        let status = response.status();
        let after = retry_after(response.headers());
        let body = response.bytes();
        drop(permit);
        let body = match body {
            Ok(body) => body,
            Err(e) => {
                return Ok(Attempt::Retry {
                    reason: format!("the answer was cut off ({})", describe(&e)),
                    after: None,
                })
            }
        };
        if status.is_success() {
            return Ok(match complete_json(body) {
                Ok(text) => Attempt::Done(Fetched::Found(text)),
                Err(reason) => Attempt::Retry {
                    reason: format!("the answer is not complete JSON ({reason})"),
                    after: None,
                },
            });
        }
        let message = graph_message(status, &body);
        Ok(match status.as_u16() {
            401 => {
                // An expired or revoked token: ask for a new one and try again.
                self.tokens.invalidate(&token);
                Attempt::Retry {
                    reason: message,
                    after: Some(Duration::ZERO),
                }
            }
            404 => Attempt::Done(Fetched::NotFound(message)),
            408 | 429 | 500 | 502 | 503 | 504 => Attempt::Retry {
                reason: message,
                after,
            },
            _ => Attempt::Fail(message),
        })
    }
}

/// The body as text, when it is one JSON document (checked without building it). The
/// text takes over the body's buffer when nothing else shares it (a body gathered from
/// several chunks owns its buffer alone): a page of whole messages is about a megabyte,
/// and copying it into fresh memory showed in profiles of extraction.
fn complete_json(body: bytes::Bytes) -> Result<String, String> {
    serde_json::from_slice::<serde::de::IgnoredAny>(&body).map_err(|e| e.to_string())?;
    String::from_utf8(Vec::from(body)).map_err(|e| e.to_string())
}

/// `403 Forbidden: Authorization_RequestDenied: Insufficient privileges...`
fn graph_message(status: reqwest::StatusCode, body: &[u8]) -> String {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = &json["error"];
    match (error["code"].as_str(), error["message"].as_str()) {
        (Some(code), Some(message)) => format!("{status}: {code}: {message}"),
        (Some(code), None) => format!("{status}: {code}"),
        _ => status.to_string(),
    }
}

/// `Retry-After` in seconds (Graph does not send dates).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get("Retry-After")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// A transport error in a few words, with its cause.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "the request timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the connection dropped while reading the answer"
    } else {
        "the connection failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {cause}")
    }
}

/// Requests in flight: a global cap and [`PER_MAILBOX`] per mailbox.
struct Limiter {
    cap: usize,
    state: Mutex<(usize, HashMap<String, usize>)>,
    freed: Condvar,
}

/// A slot among the requests in flight; freed when dropped.
struct Permit<'a> {
    limiter: &'a Limiter,
    mailbox: Option<String>,
}

impl Limiter {
    fn new(cap: usize) -> Limiter {
        Limiter {
            cap,
            state: Mutex::new((0, HashMap::new())),
            freed: Condvar::new(),
        }
    }

    fn acquire(&self, mailbox: Option<&str>) -> Permit<'_> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let (total, by_mailbox) = &mut *state;
            let busy = mailbox.map_or(0, |m| by_mailbox.get(m).copied().unwrap_or(0));
            if *total < self.cap && busy < PER_MAILBOX {
                *total += 1;
                if let Some(m) = mailbox {
                    *by_mailbox.entry(m.to_owned()).or_insert(0) += 1;
                }
                return Permit {
                    limiter: self,
                    mailbox: mailbox.map(str::to_owned),
                };
            }
            state = self.freed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut state = self.limiter.state.lock().unwrap_or_else(|e| e.into_inner());
        let (total, by_mailbox) = &mut *state;
        *total -= 1;
        if let Some(m) = &self.mailbox {
            if let Some(n) = by_mailbox.get_mut(m) {
                *n -= 1;
                if *n == 0 {
                    by_mailbox.remove(m);
                }
            }
        }
        drop(state);
        self.limiter.freed.notify_all();
    }
}
