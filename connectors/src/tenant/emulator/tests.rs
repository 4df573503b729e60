//! The emulator's protocol, spoken directly over HTTP: tokens, refusals, paging, and the
//! mailbox concurrency limit that the back-end must respect.

use std::time::Duration;

use serde_json::Value;

use super::{Emulator, EmulatorConfig, FaultConfig};
use crate::tenant::synthetic::SyntheticConfig;

fn start(latency: Duration) -> Emulator {
    let mut config = EmulatorConfig::new(
        SyntheticConfig {
            users: 30,
            messages_per_user: 4,
            ..SyntheticConfig::default()
        },
        "app",
        "s3cret",
    );
    config.faults = FaultConfig {
        latency,
        ..FaultConfig::default()
    };
    Emulator::start(config).unwrap()
}

fn token(emulator: &Emulator, http: &reqwest::blocking::Client, secret: &str) -> (u16, Value) {
    let response = http
        .post(format!("{}/{}/oauth2/v2.0/token", emulator.url(), emulator.tenant_id()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "client_id=app&client_secret={secret}&grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
        ))
        .send()
        .unwrap();
    (response.status().as_u16(), response.json().unwrap())
}

#[test]
fn tokens_are_checked_and_pages_link_to_the_next() {
    let emulator = start(Duration::ZERO);
    let http = reqwest::blocking::Client::new();
    let (status, body) = token(&emulator, &http, "wrong");
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = token(&emulator, &http, "s3cret");
    assert_eq!(status, 200);
    let access = body["access_token"].as_str().unwrap().to_owned();

    let users = format!("{}/v1.0/users?$top=7&$select=id,mail", emulator.url());
    let refused = http.get(&users).send().unwrap();
    assert_eq!(refused.status().as_u16(), 401);

    let mut next = Some(users);
    let (mut pages, mut seen) = (0usize, 0usize);
    while let Some(url) = next.take() {
        let body: Value = http
            .get(&url)
            .bearer_auth(&access)
            .send()
            .unwrap()
            .json()
            .unwrap();
        for user in body["value"].as_array().unwrap() {
            let keys: Vec<&String> = user.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["@odata.type", "id", "mail"]);
            seen += 1;
        }
        pages += 1;
        next = body["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert!(
        seen > 30,
        "guests and other accounts are listed too: {seen}"
    );
    assert_eq!(pages, seen.div_ceil(7));
}

#[test]
fn a_fifth_request_in_flight_for_one_mailbox_is_throttled() {
    let emulator = start(Duration::from_millis(300));
    let http = reqwest::blocking::Client::new();
    let (_, body) = token(&emulator, &http, "s3cret");
    let access = body["access_token"].as_str().unwrap().to_owned();
    let users: Value = http
        .get(format!("{}/v1.0/users", emulator.url()))
        .bearer_auth(&access)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = users["value"][0]["id"].as_str().unwrap().to_owned();
    let url = format!("{}/v1.0/users/{id}/messages", emulator.url());
    let answers: Vec<(u16, Option<String>, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    let r = http.get(&url).bearer_auth(&access).send().unwrap();
                    let after = r
                        .headers()
                        .get("Retry-After")
                        .map(|v| v.to_str().unwrap().to_owned());
                    (r.status().as_u16(), after, r.json().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let throttled: Vec<_> = answers.iter().filter(|(s, _, _)| *s == 429).collect();
    assert_eq!(throttled.len(), 4, "{answers:?}");
    for (_, after, body) in throttled {
        assert_eq!(body["error"]["code"], "ApplicationThrottled");
        assert!(after.is_some());
    }
    assert_eq!(emulator.stats().concurrency_throttled, 4);
}
