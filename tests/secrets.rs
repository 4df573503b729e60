//! Secret hygiene end to end: pipelines run through the binary at trace level with known
//! secrets (an environment variable, a Key Vault reference read from the local secrets file,
//! an inline SecureString, a SecureString pipeline parameter), and no byte that mdflow
//! writes (stdout, stderr, the state folder, the lake) may contain any of them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{copy_tree, describe, root, serve, write_json, Serving};
use serde_json::{json, Value};

const ENV_SECRET: &str = "env-Secr3t-7f1c2a";
const VAULT_SECRET: &str = "vault-Secr3t-9b4d0e";
const INLINE_SECRET: &str = "inline-Secr3t-3e8a51";
const PARAM_SECRET: &str = "param-Secr3t-c60f2d";
const SECRETS: [&str; 4] = [ENV_SECRET, VAULT_SECRET, INLINE_SECRET, PARAM_SECRET];

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP: &str = "0e3a5c1d-1b2c-4d5e-8f90-123456789abc";

/// Every byte a test saw: outputs of commands and files mdflow wrote.
struct Witness {
    seen: Vec<(String, Vec<u8>)>,
    secrets_file: PathBuf,
}

impl Witness {
    fn run(&mut self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_mdflow"))
            .args(args)
            .env("RUST_LOG", "trace")
            .env("MDFLOW_TEST_APP_SECRET", ENV_SECRET)
            .env("MDFLOW_SECRETS_FILE", &self.secrets_file)
            .env("MDFLOW_NOW", "2024-05-01T09:00:00Z")
            .output()
            .expect("the mdflow binary runs");
        let name = args.join(" ");
        self.seen
            .push((format!("stdout of {name}"), out.stdout.clone()));
        self.seen
            .push((format!("stderr of {name}"), out.stderr.clone()));
        out
    }

    /// Reads every file under a folder into the witness.
    fn folder(&mut self, dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                self.folder(&path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                self.seen.push((path.display().to_string(), bytes));
            }
        }
    }

    fn assert_clean(&self) {
        let mut leaks = Vec::new();
        for (place, bytes) in &self.seen {
            for secret in SECRETS {
                let needle = secret.as_bytes();
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    leaks.push(format!("{secret} in {place}"));
                }
            }
        }
        assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
        assert!(self.seen.len() > 10, "too little was checked");
    }
}

/// `mdflow tenant serve` as the "real" tenant, accepting the environment variable's key;
/// returns the child and its URL.
fn start_emulator() -> (Serving, String) {
    let serving = serve(|command| {
        command
            .args(["--users", "20", "--messages-per-user", "5"])
            .args(["--tenant-id", TENANT, "--client-id", APP])
            .env("MDFLOW_EMULATOR_CLIENT_SECRET", ENV_SECRET)
    });
    assert!(
        !serving.first_line.contains(ENV_SECRET),
        "the emulator printed its secret"
    );
    let url = serving.url.clone();
    (serving, url)
}

/// The quickstart turned to a "real" tenant (the emulator at `url`) reached three ways,
/// with consent on; each copy's key is kept in a different kind of secret.
fn real_tenant_factory(dir: &Path, url: &str) -> PathBuf {
    let factory = dir.join("real");
    copy_tree(&root().join("flows/quickstart"), &factory);
    let _ = std::fs::remove_dir_all(factory.join("lake"));
    let _ = std::fs::remove_dir_all(factory.join(".mdflow"));
    std::fs::remove_file(factory.join("linkedService/SyntheticTenant.json")).unwrap();
    std::fs::remove_file(factory.join("dataset/O365Messages.json")).unwrap();
    write_json(
        &factory.join("mdflow.json"),
        &json!({"consent": {"approvers": ["dana@contoso.com"]}}),
    );
    write_json(
        &factory.join("linkedService/Vault.json"),
        &json!({"name": "Vault", "properties": {"type": "AzureKeyVault",
            "typeProperties": {"baseUrl": "https://contoso.vault.azure.net/"}}}),
    );
    let keys = [
        (
            "Env",
            json!({"type": "EnvironmentVariable", "name": "MDFLOW_TEST_APP_SECRET"}),
        ),
        (
            "Vault",
            json!({"type": "AzureKeyVaultSecret", "secretName": "o365-app",
                   "store": {"referenceName": "Vault", "type": "LinkedServiceReference"}}),
        ),
        (
            "Inline",
            json!({"type": "SecureString", "value": INLINE_SECRET}),
        ),
    ];
    let pipeline_file = factory.join("pipeline/CopyDepartmentMail.json");
    let mut pipeline: Value =
        serde_json::from_str(&std::fs::read_to_string(&pipeline_file).unwrap()).unwrap();
    let template = pipeline["properties"]["activities"][0].clone();
    let mut activities = Vec::new();
    for (kind, key) in keys {
        write_json(
            &factory.join(format!("linkedService/{kind}Tenant.json")),
            &json!({"name": format!("{kind}Tenant"), "properties": {"type": "Office365",
                "typeProperties": {"office365TenantId": TENANT, "servicePrincipalId": APP,
                                   "servicePrincipalKey": key, "graphEndpoint": url,
                                   "authorityHost": url, "maxRetries": 1}}}),
        );
        write_json(
            &factory.join(format!("dataset/{kind}Messages.json")),
            &json!({"name": format!("{kind}Messages"), "properties": {
                "type": "Office365Table",
                "linkedServiceName": {"referenceName": format!("{kind}Tenant"),
                                      "type": "LinkedServiceReference"},
                "typeProperties": {"tableName": "BasicDataSet_v0.Message_v1"}}}),
        );
        let mut activity = template.clone();
        activity["name"] = format!("Copy{kind}").into();
        activity["inputs"][0]["referenceName"] = format!("{kind}Messages").into();
        activities.push(activity);
    }
    pipeline["properties"]["activities"] = activities.into();
    write_json(&pipeline_file, &pipeline);
    factory
}

#[test]
fn no_secret_reaches_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let secrets_file = dir.path().join("secrets.json");
    write_json(&secrets_file, &json!({"Vault": {"o365-app": VAULT_SECRET}}));
    let mut w = Witness {
        seen: Vec::new(),
        secrets_file,
    };

    // A real tenant: consent asked for as the service principal, approved, then each copy
    // sends its key to the token endpoint, which accepts only the environment's.
    let (_emulator, url) = start_emulator();
    let factory = real_tenant_factory(dir.path(), &url);
    let f = factory.to_str().unwrap();
    let out = w.run(&["validate", f, "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let out = w.run(&["run", f, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let out = w.run(&["consent", "list", "--factory", f, "--json"]);
    let requests: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(requests.as_array().unwrap().len(), 3, "{requests}");
    for request in requests.as_array().unwrap() {
        assert_eq!(request["context"]["identity"], APP);
        let id = request["id"].as_str().unwrap();
        let out = w.run(&[
            "consent",
            "approve",
            id,
            "--as",
            "dana@contoso.com",
            "--factory",
            f,
        ]);
        assert!(out.status.success(), "{}", describe(&out));
    }
    let out = w.run(&["run", f, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    for activity in result["activities"].as_array().unwrap() {
        let error = activity["error"].as_str().unwrap_or_default();
        if activity["activityName"] == "CopyEnv" {
            assert_eq!(activity["status"], "Succeeded", "{result:#}");
        } else {
            assert!(error.contains("invalid_client"), "{result:#}");
        }
    }
    w.run(&["run", f]);
    let run_id = result["runId"].as_str().unwrap();
    w.run(&["runs", "show", run_id, "--factory", f, "--json"]);
    w.run(&["runs", "list", "--factory", f, "--json"]);
    w.run(&["consent", "log", "--factory", f]);

    // A missing secret is named, not shown: unset variable, absent Key Vault entry.
    let out = Command::new(env!("CARGO_BIN_EXE_mdflow"))
        .args(["run", f, "--json"])
        .env("RUST_LOG", "trace")
        .env_remove("MDFLOW_TEST_APP_SECRET")
        .env("MDFLOW_SECRETS_FILE", dir.path().join("none.json"))
        .env("MDFLOW_NOW", "2024-05-01T09:00:00Z")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("MDFLOW_TEST_APP_SECRET"),
        "{}",
        describe(&out)
    );
    assert!(text.contains("none.json"), "{}", describe(&out));
    w.seen
        .push(("stdout of a run without secrets".into(), out.stdout));
    w.seen
        .push(("stderr of a run without secrets".into(), out.stderr));

    // The synthetic quickstart with a SecureString pipeline parameter.
    let quick = dir.path().join("quick");
    copy_tree(&root().join("flows/quickstart"), &quick);
    let _ = std::fs::remove_dir_all(quick.join("lake"));
    let pipeline_file = quick.join("pipeline/CopyDepartmentMail.json");
    let mut pipeline: Value =
        serde_json::from_str(&std::fs::read_to_string(&pipeline_file).unwrap()).unwrap();
    pipeline["properties"]["parameters"]["apiToken"] = json!({"type": "SecureString"});
    write_json(&pipeline_file, &pipeline);
    let service = quick.join("linkedService/SyntheticTenant.json");
    let mut tenant: Value =
        serde_json::from_str(&std::fs::read_to_string(&service).unwrap()).unwrap();
    tenant["properties"]["typeProperties"]["synthetic"]["users"] = 30.into();
    write_json(&service, &tenant);
    let q = quick.to_str().unwrap();
    let token = format!("apiToken={PARAM_SECRET}");
    let out = w.run(&["run", q, "--json", "--param", &token]);
    assert!(out.status.success(), "{}", describe(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run_id = result["runId"].as_str().unwrap();
    let out = w.run(&["runs", "show", run_id, "--factory", q, "--json"]);
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["run"]["parameters"]["apiToken"], "<redacted>");
    w.run(&["runs", "show", run_id, "--factory", q]);

    // A secret written as bare text is refused without being quoted.
    let broken = root().join("tests/fixtures/broken/secret-not-an-object");
    let out = w.run(&["validate", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("pl41n-t3xt-k3y"));

    for folder in [".mdflow", "lake"] {
        w.folder(&factory.join(folder));
        w.folder(&quick.join(folder));
    }
    assert!(
        w.seen
            .iter()
            .any(|(place, _)| place.ends_with("part-00000-00.json")),
        "the quickstart's lake was not searched"
    );
    w.assert_clean();
}
