//! Secrets: a value that cannot be printed, and the three places a factory may keep one.
//!
//! - inline: `{"type": "SecureString", "value": "..."}`, as ADF writes it;
//! - Azure Key Vault: `{"type": "AzureKeyVaultSecret", "store": {...}, "secretName": "..."}`,
//!   read from a local JSON file that `MDFLOW_SECRETS_FILE` names (mdflow never calls Key
//!   Vault), shaped `{"<Key Vault linked service>": {"<secret name>": "<value>"}}`;
//! - an environment variable: `{"type": "EnvironmentVariable", "name": "..."}`, an mdflow
//!   extension.
//!
//! A [`SecretValue`] redacts itself in `Debug` and `Display` and has no `Serialize`, so it
//! cannot reach a log line, a message, a run record or `--json` output by accident. Secrets
//! are revealed only where a connection is made ([`Secret::reveal`]), and no error here
//! quotes a value: not even the JSON of a malformed secret.

use std::fmt;
use std::path::PathBuf;

use serde::de::{Deserializer, Error as _};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::expr::{evaluate, ExprContext};
use crate::factory::model::{Dynamic, Reference, Secret};

/// The environment variable naming the local stand-in for Azure Key Vault.
pub const SECRETS_FILE_VARIABLE: &str = "MDFLOW_SECRETS_FILE";
/// What every secret shows instead of its value.
pub const REDACTED: &str = "<redacted>";

/// A secret's text. It prints as `<redacted>`; only [`SecretValue::expose`] gives the text,
/// and only code that hands it to a connection should call it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a secret's text.
    pub fn new(text: impl Into<String>) -> Self {
        SecretValue(text.into())
    }

    /// The text itself, for the request that needs it. Never format or log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Why a secret could not be revealed. Messages name where the secret was looked for and
/// how to provide it, never its value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// An `EnvironmentVariable` secret whose variable is not set.
    #[error(
        "the environment variable `{0}` named by a secret is not set; export it before the run"
    )]
    MissingVariable(String),
    /// A Key Vault reference with no local secret source.
    #[error(
        "Key Vault secret `{secret}` (vault `{vault}`): mdflow reads Key Vault secrets from a \
         local JSON file; set {SECRETS_FILE_VARIABLE} to a file shaped \
         {{\"{vault}\": {{\"{secret}\": \"...\"}}}} (docs/security.md)"
    )]
    NoSource {
        /// The Key Vault linked service.
        vault: String,
        /// The secret's name.
        secret: String,
    },
    /// The local secret source cannot be read or is not a JSON object of objects.
    #[error("the secrets file {path} ({SECRETS_FILE_VARIABLE}): {reason}")]
    Source {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (never its contents).
        reason: String,
    },
    /// The local secret source has no such secret.
    #[error(
        "the secrets file {path} has no secret `{secret}` for vault `{vault}`; add \
         \"{secret}\": \"...\" under \"{vault}\""
    )]
    NotFound {
        /// The file.
        path: PathBuf,
        /// The Key Vault linked service.
        vault: String,
        /// The secret's name.
        secret: String,
    },
    /// A `secretName` or `secretVersion` expression that cannot be evaluated.
    #[error("the Key Vault secret name cannot be evaluated: {0}")]
    Name(String),
}

impl Secret {
    /// The secret with its `secretName` and `secretVersion` expressions evaluated in `ctx`
    /// (a linked service's parameters), so that it can be revealed later without them.
    pub fn bound(&self, ctx: &ExprContext) -> Result<Secret, SecretError> {
        let Secret::AzureKeyVaultSecret {
            store,
            secret_name,
            secret_version,
        } = self
        else {
            return Ok(self.clone());
        };
        let eval = |v: &Dynamic| {
            evaluate(v, ctx)
                .map(|v| crate::factory::resolve::value_text(&v).into())
                .map_err(|e| SecretError::Name(e.to_string()))
        };
        Ok(Secret::AzureKeyVaultSecret {
            store: store.clone(),
            secret_name: eval(secret_name)?,
            secret_version: secret_version.as_ref().map(eval).transpose()?,
        })
    }

    /// Where the secret comes from, for logs: `inline`, `key vault` or `environment`.
    pub fn source_kind(&self) -> &'static str {
        match self {
            Secret::SecureString { .. } => "inline",
            Secret::AzureKeyVaultSecret { .. } => "key vault",
            Secret::EnvironmentVariable { .. } => "environment",
        }
    }

    /// The secret's value, read now. Call it where the connection is made, not earlier.
    pub fn reveal(&self) -> Result<SecretValue, SecretError> {
        let value = match self {
            Secret::SecureString { value } => value.clone(),
            Secret::EnvironmentVariable { name } => std::env::var(name)
                .map(SecretValue)
                .map_err(|_| SecretError::MissingVariable(name.clone()))?,
            Secret::AzureKeyVaultSecret {
                store,
                secret_name,
                secret_version,
            } => {
                let name = literal(secret_name)?;
                let version = secret_version.as_ref().map(literal).transpose()?;
                key_vault(&store.reference_name, &name, version.as_deref())?
            }
        };
        tracing::debug!(source = self.source_kind(), "secret resolved");
        Ok(value)
    }
}

fn literal(v: &Dynamic) -> Result<String, SecretError> {
    match v {
        Value::String(s) if !s.starts_with('@') => Ok(s.clone()),
        Value::String(_) => Err(SecretError::Name(
            "it is an expression; resolve the copy first".into(),
        )),
        other => Ok(crate::factory::resolve::value_text(other)),
    }
}

/// Looks a secret up in the file `MDFLOW_SECRETS_FILE` names. Vault and secret names match
/// ignoring case, as Key Vault's do; `name/version` is tried before `name`.
fn key_vault(vault: &str, name: &str, version: Option<&str>) -> Result<SecretValue, SecretError> {
    let Some(path) = std::env::var_os(SECRETS_FILE_VARIABLE).map(PathBuf::from) else {
        return Err(SecretError::NoSource {
            vault: vault.into(),
            secret: name.into(),
        });
    };
    let source = |reason: String| SecretError::Source {
        path: path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| source(e.to_string()))?;
    // A syntax error from serde_json gives a line and column, never the text around it.
    let json: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| source(format!("not JSON: {e}")))?;
    let find = |map: &Map<String, Value>, key: &str| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    };
    let shape = "expected {\"<vault>\": {\"<secret>\": \"<value>\"}}";
    let vaults = json.as_object().ok_or_else(|| source(shape.into()))?;
    let not_found = || SecretError::NotFound {
        path: path.clone(),
        vault: vault.into(),
        secret: name.into(),
    };
    let secrets = find(vaults, vault).ok_or_else(not_found)?;
    let secrets = secrets.as_object().ok_or_else(|| source(shape.into()))?;
    let versioned = version.and_then(|v| find(secrets, &format!("{name}/{v}")));
    match versioned.or_else(|| find(secrets, name)) {
        Some(Value::String(s)) => Ok(SecretValue(s)),
        Some(_) => Err(source(format!(
            "the value of `{name}` under `{vault}` is not a string"
        ))),
        None => Err(not_found()),
    }
}

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(s) => Ok(SecretValue(s)),
            _ => Err(D::Error::custom("a secret's value must be a string")),
        }
    }
}

/// Read by hand so that no serde message can quote the secret (`invalid type: string
/// "hunter2"` is what a derived implementation would say about a bare string).
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const SHAPES: &str = "write {\"type\": \"SecureString\", \"value\": \"...\"}, an \
             AzureKeyVaultSecret reference, or {\"type\": \"EnvironmentVariable\", \"name\": \
             \"...\"}";
        let Value::Object(map) = Value::deserialize(deserializer)? else {
            return Err(D::Error::custom(format!(
                "a secret must be an object, not bare text: {SHAPES}"
            )));
        };
        let text = |key: &str| match map.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(D::Error::custom(format!(
                "the secret's `{key}` must be a string"
            ))),
            None => Err(D::Error::custom(format!("the secret has no `{key}`"))),
        };
        match map.get("type").and_then(Value::as_str) {
            Some("SecureString") => Ok(Secret::SecureString {
                value: SecretValue(text("value")?),
            }),
            Some("EnvironmentVariable") => Ok(Secret::EnvironmentVariable {
                name: text("name")?,
            }),
            Some("AzureKeyVaultSecret") => {
                let store = map
                    .get("store")
                    .cloned()
                    .ok_or_else(|| D::Error::custom("the Key Vault secret has no `store`"))?;
                // Only names are in here, so serde's own messages are safe to pass on.
                let store: Reference = serde_json::from_value(store)
                    .map_err(|e| D::Error::custom(format!("`store`: {e}")))?;
                let secret_name = map
                    .get("secretName")
                    .cloned()
                    .ok_or_else(|| D::Error::custom("the Key Vault secret has no `secretName`"))?;
                Ok(Secret::AzureKeyVaultSecret {
                    store,
                    secret_name,
                    secret_version: map.get("secretVersion").cloned(),
                })
            }
            Some(other) => Err(D::Error::custom(format!(
                "unknown secret type `{other}`: {SHAPES}"
            ))),
            None => Err(D::Error::custom(format!(
                "the secret has no `type`: {SHAPES}"
            ))),
        }
    }
}

/// The run's parameters as records and outputs show them: values of `SecureString`
/// parameters replaced by `<redacted>`.
pub fn mask_parameters(
    declared: &std::collections::BTreeMap<String, crate::factory::ParameterSpec>,
    values: &std::collections::BTreeMap<String, Value>,
) -> Value {
    let secure = |name: &str| {
        declared.iter().any(|(n, spec)| {
            n.eq_ignore_ascii_case(name)
                && spec
                    .kind
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case("securestring"))
        })
    };
    let masked = values.iter().map(|(name, value)| {
        let shown = if secure(name) {
            Value::String(REDACTED.into())
        } else {
            value.clone()
        };
        (name.clone(), shown)
    });
    Value::Object(masked.collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_never_print_and_errors_never_quote_them() {
        let s: Secret =
            serde_json::from_value(json!({"type": "SecureString", "value": "hunter2"})).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.reveal().unwrap().expose(), "hunter2");
        assert_eq!(format!("{}", s.reveal().unwrap()), REDACTED);
        for bad in [
            json!("hunter2"),
            json!({"type": "SecureString", "value": ["hunter2"]}),
            json!({"type": "Plain", "value": "hunter2"}),
        ] {
            let e = serde_json::from_value::<Secret>(bad)
                .unwrap_err()
                .to_string();
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn environment_and_key_vault_sources() {
        let env: Secret =
            serde_json::from_value(json!({"type": "EnvironmentVariable", "name": "MDFLOW_T_NONE"}))
                .unwrap();
        let e = env.reveal().unwrap_err().to_string();
        assert!(e.contains("MDFLOW_T_NONE"), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secrets.json");
        std::fs::write(
            &file,
            r#"{"vault": {"App-Key": "s3cret", "app-key/v2": "newer"}}"#,
        )
        .unwrap();
        let found = key_vault("Vault", "app-key", None).map(|_| ());
        // Without the variable there is no source; with it the names match ignoring case.
        if std::env::var_os(SECRETS_FILE_VARIABLE).is_none() {
            assert!(matches!(found, Err(SecretError::NoSource { .. })));
        }
        std::env::set_var(SECRETS_FILE_VARIABLE, &file);
        assert_eq!(
            key_vault("Vault", "app-key", None).unwrap().expose(),
            "s3cret"
        );
        assert_eq!(
            key_vault("VAULT", "app-key", Some("v2")).unwrap().expose(),
            "newer"
        );
        assert!(matches!(
            key_vault("Vault", "other", None),
            Err(SecretError::NotFound { .. })
        ));
        std::env::remove_var(SECRETS_FILE_VARIABLE);
    }

    #[test]
    fn secure_parameters_are_masked() {
        let declared = serde_json::from_value(json!({
            "token": {"type": "SecureString"}, "day": {"type": "String"}
        }))
        .unwrap();
        let values = [
            ("token".to_owned(), json!("hunter2")),
            ("day".into(), json!("1")),
        ];
        let shown = mask_parameters(&declared, &values.into_iter().collect());
        assert_eq!(shown, json!({"token": REDACTED, "day": "1"}));
    }
}
