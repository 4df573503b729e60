//! OAuth2 client credentials: one access token per back-end, cached and renewed shortly
//! before it expires. Concurrent workers wait for one renewal instead of each asking.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::Value;

use super::retry::RetryPolicy;
use super::ClientSecret;
use crate::tenant::TenantError;

/// Renew this long before expiry, or at nine tenths of a short lifetime.
const RENEW_MARGIN: Duration = Duration::from_secs(300);

/// A cached token and when to stop using it.
struct Cached {
    token: String,
    renew_at: Instant,
}

/// Hands out access tokens for the Graph scope.
pub(crate) struct TokenSource {
    url: String,
    client_id: String,
    secret: ClientSecret,
    scope: String,
    cached: Mutex<Option<Cached>>,
}

impl TokenSource {
    pub(crate) fn new(url: String, client_id: String, secret: ClientSecret, scope: String) -> Self {
        TokenSource {
            url,
            client_id,
            secret,
            scope,
            cached: Mutex::new(None),
        }
    }

    /// A token that is valid for a while yet, asking for a new one when needed.
    pub(crate) fn token(&self, http: &Client, policy: &RetryPolicy) -> Result<String, TenantError> {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cached.as_ref().filter(|c| Instant::now() < c.renew_at) {
            return Ok(c.token.clone());
        }
        let (token, lifetime) = self.request(http, policy)?;
        let margin = RENEW_MARGIN.min(lifetime / 10);
        *cached = Some(Cached {
            token: token.clone(),
            renew_at: Instant::now() + lifetime.saturating_sub(margin),
        });
        Ok(token)
    }

    /// Forgets a token Graph refused, so the next request asks for a new one.
    pub(crate) fn invalidate(&self, token: &str) {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if cached.as_ref().is_some_and(|c| c.token == token) {
            *cached = None;
        }
    }

    fn request(
        &self,
        http: &Client,
        policy: &RetryPolicy,
    ) -> Result<(String, Duration), TenantError> {
        let form = [
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.secret.expose()),
            ("grant_type", "client_credentials"),
            ("scope", self.scope.as_str()),
        ];
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::tenant::odata::encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut attempt = 0;
        loop {
            let sent = http
                .post(&self.url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send();
            let (reason, after) = match sent {
                Err(e) => (super::client::describe(&e), None),
                Ok(response) => {
                    let status = response.status();
                    let after = super::client::retry_after(response.headers());
                    let text = response.text().unwrap_or_default();
                    let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    if status.is_success() {
                        let token = json["access_token"].as_str().ok_or_else(|| {
                            TenantError::Authentication(format!(
                                "the token endpoint {} answered without an access_token",
                                self.url
                            ))
                        })?;
                        let lifetime = json["expires_in"]
                            .as_u64()
                            .or_else(|| json["expires_in"].as_str().and_then(|s| s.parse().ok()))
                            .unwrap_or(3599);
                        return Ok((token.to_owned(), Duration::from_secs(lifetime.max(1))));
                    }
                    let described = format!(
                        "{status}: {} {}",
                        json["error"].as_str().unwrap_or("error"),
                        json["error_description"].as_str().unwrap_or_default()
                    );
                    if !(status.is_server_error() || status.as_u16() == 429) {
                        return Err(TenantError::Authentication(format!(
                            "the token endpoint {} refused client {}: {}",
                            self.url,
                            self.client_id,
                            described.trim()
                        )));
                    }
                    (described, after)
                }
            };
            attempt += 1;
            if attempt > policy.max_retries {
                return Err(TenantError::Authentication(format!(
                    "the token endpoint {} failed after {} retries; last error: {reason}",
                    self.url, policy.max_retries
                )));
            }
            policy.wait(attempt, after, None, &reason);
        }
    }
}
