//! The HTTP side of the emulator: one handler that checks the token, counts requests in
//! flight per mailbox, injects faults and latency, and hands the request to the Graph
//! routes on a blocking thread (generating rows is CPU work).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;

use super::faults::{FaultKind, Schedule};
use super::routes::{self, Reply};
use super::{EmulatorConfig, EmulatorStats, MAILBOX_CONCURRENCY};
use crate::tenant::odata::Query;
use crate::tenant::synthetic::SyntheticTenant;
use crate::tenant::TenantBackend;

/// What every request handler shares.
pub(crate) struct Shared {
    pub(crate) tenant: SyntheticTenant,
    /// The tenant id token requests must name.
    pub(crate) tenant_id: String,
    /// `http://127.0.0.1:<port>`, the base of next links.
    pub(crate) base: String,
    client_id: String,
    client_secret: String,
    token_lifetime: Duration,
    tokens: Mutex<HashMap<String, Instant>>,
    schedule: Schedule,
    in_flight: Mutex<HashMap<String, u32>>,
    pub(crate) cache: routes::RowCache,
    requests: AtomicU64,
    faults: AtomicU64,
    concurrency_throttled: AtomicU64,
    tokens_issued: AtomicU64,
    unauthorized: AtomicU64,
}

impl Shared {
    pub(crate) fn new(tenant: SyntheticTenant, config: &EmulatorConfig, base: String) -> Shared {
        Shared {
            tenant_id: config
                .tenant_id
                .clone()
                .unwrap_or_else(|| tenant.tenant_id().to_owned()),
            tenant,
            base,
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            token_lifetime: config.token_lifetime,
            tokens: Mutex::new(HashMap::new()),
            schedule: Schedule::new(config.faults.clone()),
            in_flight: Mutex::new(HashMap::new()),
            cache: routes::RowCache::default(),
            requests: AtomicU64::new(0),
            faults: AtomicU64::new(0),
            concurrency_throttled: AtomicU64::new(0),
            tokens_issued: AtomicU64::new(0),
            unauthorized: AtomicU64::new(0),
        }
    }

    pub(crate) fn stats(&self) -> EmulatorStats {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        EmulatorStats {
            requests: n(&self.requests),
            faults: n(&self.faults),
            concurrency_throttled: n(&self.concurrency_throttled),
            tokens_issued: n(&self.tokens_issued),
            unauthorized: n(&self.unauthorized),
        }
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let raw_query = uri.query().unwrap_or_default().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();

    if let [tenant, "oauth2", "v2.0", "token"] = segments[..] {
        if method != Method::POST {
            return json(
                StatusCode::METHOD_NOT_ALLOWED,
                aad_error("invalid_request", "use POST"),
            );
        }
        return token(&shared, tenant, &body);
    }
    if segments.first() != Some(&"v1.0") {
        return json(
            StatusCode::NOT_FOUND,
            graph_error(
                "BadRequest",
                &format!("Resource not found for the segment '{path}'"),
            ),
        );
    }
    shared.requests.fetch_add(1, Ordering::Relaxed);
    if !authorized(&shared, &headers) {
        shared.unauthorized.fetch_add(1, Ordering::Relaxed);
        return json(
            StatusCode::UNAUTHORIZED,
            graph_error(
                "InvalidAuthenticationToken",
                "Access token is empty, unknown or has expired.",
            ),
        );
    }
    if method != Method::GET {
        return json(
            StatusCode::METHOD_NOT_ALLOWED,
            graph_error("BadRequest", "the emulator serves GET requests only"),
        );
    }

    // Graph refuses a fifth concurrent request for one mailbox, whatever the fault rate.
    let mailbox = match segments[..] {
        ["v1.0", "users", id, _, ..] => Some(id.to_ascii_lowercase()),
        _ => None,
    };
    let _slot = match &mailbox {
        Some(m) => match InFlight::enter(&shared, m) {
            Some(slot) => Some(slot),
            None => {
                shared.concurrency_throttled.fetch_add(1, Ordering::Relaxed);
                return throttled(&shared, "ApplicationThrottled");
            }
        },
        None => None,
    };

    let fault = shared.schedule.draw(method.as_str(), &uri.to_string());
    // A remote service's latency includes its own work on the answer: the answer leaves
    // `latency` after the request came in, however long building it took within that time.
    let answer_at = AnswerAt::after(shared.schedule.config().latency);
    if let Some(kind) = fault {
        answer_at.wait().await;
        shared.faults.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(fault = kind.name(), %uri, "injecting a fault");
        match kind {
            FaultKind::Throttle => return throttled(&shared, "TooManyRequests"),
            FaultKind::InternalError => {
                return json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    graph_error("InternalServerError", "An internal server error occurred."),
                )
            }
            FaultKind::Unavailable => {
                let mut response = json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    graph_error(
                        "ServiceUnavailable",
                        "The service is temporarily unavailable.",
                    ),
                );
                set_retry_after(&shared, &mut response);
                return response;
            }
            FaultKind::GatewayTimeout => {
                return json(
                    StatusCode::GATEWAY_TIMEOUT,
                    graph_error(
                        "GatewayTimeout",
                        "The gateway did not receive a timely response.",
                    ),
                )
            }
            FaultKind::Drop => return broken(Vec::new()),
            FaultKind::Truncate => {}
        }
    }

    let worker = shared.clone();
    let reply = tokio::task::spawn_blocking(move || {
        let query = Query::parse(&raw_query);
        match query {
            Ok(query) => routes::route(&worker, &path, &segments_of(&path), &query),
            Err(e) => Reply::error(StatusCode::BAD_REQUEST, "BadRequest", &e),
        }
    })
    .await
    .unwrap_or_else(|e| {
        Reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            &format!("the emulator failed: {e}"),
        )
    });
    answer_at.wait().await;
    if fault == Some(FaultKind::Truncate) && reply.status == StatusCode::OK {
        let mut body = reply.body.into_bytes();
        body.truncate(body.len() / 2);
        return broken(body);
    }
    json(reply.status, reply.body)
}

/// When an answer may leave: `latency` after its request came in (none without latency).
struct AnswerAt(Option<tokio::time::Instant>);

impl AnswerAt {
    fn after(latency: Duration) -> AnswerAt {
        AnswerAt((!latency.is_zero()).then(|| tokio::time::Instant::now() + latency))
    }

    async fn wait(&self) {
        if let Some(at) = self.0 {
            tokio::time::sleep_until(at).await;
        }
    }
}

fn segments_of(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .map(|s| crate::tenant::odata::decode(s).unwrap_or_else(|_| s.to_owned()))
        .collect()
}

/// A slot among a mailbox's requests in flight; released when dropped.
struct InFlight<'a> {
    shared: &'a Shared,
    mailbox: String,
}

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared, mailbox: &str) -> Option<InFlight<'a>> {
        let mut map = shared.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(mailbox.to_owned()).or_insert(0);
        if *n >= MAILBOX_CONCURRENCY {
            return None;
        }
        *n += 1;
        Some(InFlight {
            shared,
            mailbox: mailbox.to_owned(),
        })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut map = self
            .shared
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.mailbox) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.mailbox);
            }
        }
    }
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let tokens = shared.tokens.lock().unwrap_or_else(|e| e.into_inner());
    tokens
        .get(token)
        .is_some_and(|&expires| Instant::now() < expires)
}

/// The client-credentials grant.
fn token(shared: &Shared, tenant: &str, body: &[u8]) -> Response {
    let form = Query::parse(&String::from_utf8_lossy(body)).unwrap_or_default();
    let field = |name: &str| {
        form.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if !tenant.eq_ignore_ascii_case(&shared.tenant_id) {
        return json(
            StatusCode::BAD_REQUEST,
            aad_error(
                "invalid_request",
                &format!(
                    "AADSTS90002: Tenant '{tenant}' not found. The emulator serves tenant '{}'.",
                    shared.tenant_id
                ),
            ),
        );
    }
    if field("grant_type") != Some("client_credentials") {
        return json(
            StatusCode::BAD_REQUEST,
            aad_error(
                "unsupported_grant_type",
                "AADSTS70003: only the client_credentials grant is supported.",
            ),
        );
    }
    if !field("scope").is_some_and(|s| s.ends_with("/.default")) {
        return json(
            StatusCode::BAD_REQUEST,
            aad_error(
                "invalid_scope",
                "AADSTS1002012: the scope must be a resource's /.default scope.",
            ),
        );
    }
    if field("client_id") != Some(shared.client_id.as_str()) {
        return json(
            StatusCode::BAD_REQUEST,
            aad_error(
                "unauthorized_client",
                "AADSTS700016: Application with the given identifier was not found in the tenant.",
            ),
        );
    }
    if field("client_secret") != Some(shared.client_secret.as_str()) {
        return json(
            StatusCode::UNAUTHORIZED,
            aad_error(
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided.",
            ),
        );
    }
    let n = shared.tokens_issued.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let access = format!(
        "emu.{n}.{:016x}",
        nanos ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    );
    let lifetime = shared.token_lifetime;
    shared
        .tokens
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(access.clone(), Instant::now() + lifetime);
    let body = serde_json::json!({
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
        "ext_expires_in": lifetime.as_secs(),
        "access_token": access,
    });
    json(StatusCode::OK, body.to_string())
}

fn throttled(shared: &Shared, code: &str) -> Response {
    let message = if code == "ApplicationThrottled" {
        "Application is over its MailboxConcurrency limit."
    } else {
        "Too many requests; retry after the time the Retry-After header gives."
    };
    let mut response = json(StatusCode::TOO_MANY_REQUESTS, graph_error(code, message));
    set_retry_after(shared, &mut response);
    response
}

fn set_retry_after(shared: &Shared, response: &mut Response) {
    let secs = shared.schedule.config().retry_after_secs;
    response.headers_mut().insert(
        header::RETRY_AFTER,
        secs.to_string().parse().expect("digits"),
    );
}

/// A 200 whose body ends in an error, so the connection is cut before the answer is
/// complete: after `partial` bytes, or before any.
fn broken(partial: Vec<u8>) -> Response {
    let broken = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "fault injected");
    let mut chunks: Vec<Result<Bytes, std::io::Error>> = Vec::new();
    if !partial.is_empty() {
        chunks.push(Ok(Bytes::from(partial)));
    }
    chunks.push(Err(broken));
    let mut response = Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/json".parse().expect("valid"),
    );
    response
}

fn json(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/json; odata.metadata=minimal"
            .parse()
            .expect("valid"),
    );
    response
}

pub(crate) fn graph_error(code: &str, message: &str) -> String {
    serde_json::json!({"error": {"code": code, "message": message}}).to_string()
}

fn aad_error(code: &str, description: &str) -> String {
    serde_json::json!({"error": code, "error_description": description}).to_string()
}
