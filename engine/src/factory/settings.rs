//! mdflow's own settings for a factory: `mdflow.json` at the factory's root folder, beside
//! `linkedService/` and `pipeline/`. ADF ignores files at the root, so the settings travel
//! with the factory in Git without changing what ADF deploys.
//!
//! ```json
//! {
//!   "consent": {"enabled": true, "approvers": ["dana@contoso.com"]},
//!   "regions": {"office": "Europe", "integrationRuntime": "West Europe",
//!               "storage": {"AdlsLake": "West Europe"}}
//! }
//! ```
//!
//! Every part is optional; without the file consent is on and no approver is configured.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::diagnostic::Diagnostic;

/// The settings file's name, at the factory's root.
pub const SETTINGS_FILE: &str = "mdflow.json";

/// Everything `mdflow.json` holds, with defaults for what it leaves out.
#[derive(Debug, Clone, Default)]
pub struct FactorySettings {
    /// The file the settings came from; `None` when the factory has none.
    pub file: Option<PathBuf>,
    /// Data access requests (Privileged Access Management).
    pub consent: ConsentSettings,
    /// Where the tenant's mailboxes, the integration runtime and the lake accounts are.
    pub regions: RegionSettings,
}

/// `consent` in `mdflow.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentSettings {
    /// Whether Office 365 copies wait for an approved data access request. Only a factory
    /// whose Office 365 linked services are all synthetic may turn it off.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The approver group: identities (e-mail addresses or object ids) that may approve
    /// or deny requests. Matched ignoring case.
    #[serde(default)]
    pub approvers: Vec<String>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn yes() -> bool {
    true
}

impl Default for ConsentSettings {
    fn default() -> Self {
        ConsentSettings {
            enabled: true,
            approvers: Vec::new(),
            extra: Map::new(),
        }
    }
}

impl ConsentSettings {
    /// Whether an identity belongs to the approver group.
    pub fn is_approver(&self, identity: &str) -> bool {
        self.approvers
            .iter()
            .any(|a| a.trim().eq_ignore_ascii_case(identity.trim()))
    }
}

/// `regions` in `mdflow.json`: Azure region names (`West Europe`, `westeurope`) and the
/// tenant's Office region (`Europe`, `North America`, ...).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionSettings {
    /// The Office region the tenant's mailboxes are in.
    #[serde(default)]
    pub office: Option<String>,
    /// The Azure region of the integration runtime that runs the copies.
    #[serde(default)]
    pub integration_runtime: Option<String>,
    /// The Azure region of each lake account, by linked service name.
    #[serde(default)]
    pub storage: BTreeMap<String, String>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Deserialize)]
struct SettingsFile {
    #[serde(default)]
    consent: ConsentSettings,
    #[serde(default)]
    regions: RegionSettings,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// Reads `mdflow.json` from a factory's root folder. A missing file gives the defaults; a
/// malformed one is an error, unknown properties are warnings.
pub fn load(root: &Path, diags: &mut Vec<Diagnostic>) -> FactorySettings {
    let file = root.join(SETTINGS_FILE);
    if !file.is_file() {
        return FactorySettings::default();
    }
    let fix = "see docs/security.md for the properties of mdflow.json";
    let parsed = std::fs::read_to_string(&file)
        .map_err(|e| (String::new(), format!("cannot read the file: {e}")))
        .and_then(|text| {
            serde_json::from_str::<SettingsFile>(text.trim_start_matches('\u{feff}')).map_err(|e| {
                (
                    format!("line {}, column {}", e.line(), e.column()),
                    format!("mdflow settings are not valid: {e}"),
                )
            })
        });
    let parsed = match parsed {
        Ok(p) => p,
        Err((pointer, message)) => {
            diags.push(Diagnostic::error(&file, pointer, message, fix));
            return FactorySettings {
                file: Some(file),
                ..FactorySettings::default()
            };
        }
    };
    let unknown = [
        ("", &parsed.extra),
        ("/consent", &parsed.consent.extra),
        ("/regions", &parsed.regions.extra),
    ];
    for (at, extra) in unknown {
        for key in extra.keys() {
            diags.push(Diagnostic::warning(
                &file,
                format!("{at}/{}", super::escape(key)),
                format!("unknown property `{key}` of mdflow settings; mdflow ignores it"),
                fix,
            ));
        }
    }
    FactorySettings {
        file: Some(file),
        consent: parsed.consent,
        regions: parsed.regions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_file_and_warnings_for_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let mut diags = Vec::new();
        let none = load(dir.path(), &mut diags);
        assert!(none.consent.enabled && none.file.is_none() && diags.is_empty());

        std::fs::write(
            dir.path().join(SETTINGS_FILE),
            r#"{"consent": {"enabled": false, "approvers": ["Dana@contoso.com"], "x": 1},
                "regions": {"office": "Europe", "storage": {"Lake": "westeurope"}}}"#,
        )
        .unwrap();
        let read = load(dir.path(), &mut diags);
        assert!(!read.consent.enabled);
        assert!(read.consent.is_approver("dana@CONTOSO.com "));
        assert_eq!(read.regions.storage["Lake"], "westeurope");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].pointer, "/consent/x");
    }
}
