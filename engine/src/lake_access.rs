//! Opening the lake a resolved linked service names: a local folder, or an Azure storage
//! account reached with a service principal, an account key, a shared access signature or
//! a connection string. Secrets are revealed here, where the connection is made.

use mdflow_connectors::lake::{
    AzureAccount, AzureCredential, LakeStore, LocalFolderLake, ObjectLake,
};

use crate::factory::resolve::{LakeStore as LakeKind, StorageSecrets};
use crate::factory::Secret;

/// Why a lake cannot be opened: an ADF-like error code and a message with the fix.
#[derive(Debug, Clone)]
pub struct LakeAccessError {
    /// `UserErrorCredentialNotFound`, `UserErrorInvalidStorageConnection`, ...
    pub code: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

fn fail(code: &'static str, message: impl Into<String>) -> LakeAccessError {
    LakeAccessError {
        code,
        message: message.into(),
    }
}

fn reveal(secret: &Secret, what: &str) -> Result<String, LakeAccessError> {
    secret
        .reveal()
        .map(|v| v.expose().to_owned())
        .map_err(|e| fail("UserErrorCredentialNotFound", format!("{what}: {e}")))
}

/// The token authority of a national cloud.
fn authority(cloud: Option<&str>) -> Option<String> {
    match cloud?.to_ascii_lowercase().as_str() {
        "azurechina" => Some("https://login.chinacloudapi.cn".into()),
        "azureusgovernment" => Some("https://login.microsoftonline.us".into()),
        _ => None,
    }
}

/// One `key=value` field of a storage connection string.
fn field(connection: &str, key: &str) -> Option<String> {
    connection.split(';').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().to_owned())
    })
}

/// Opens the lake `kind` describes.
pub fn open_lake(kind: &LakeKind) -> Result<Box<dyn LakeStore>, LakeAccessError> {
    let (endpoint, auth, secrets) = match kind {
        LakeKind::LocalFolder(root) => return Ok(Box::new(LocalFolderLake::new(root))),
        LakeKind::AzureBlob {
            endpoint,
            auth,
            secrets,
        } => (endpoint.clone(), auth, secrets),
        LakeKind::AdlsGen2 { url, auth, secrets } => (url.clone(), auth, secrets),
    };
    let (endpoint, credential) = credential(endpoint, auth.as_ref(), secrets)?;
    let lake = ObjectLake::azure(AzureAccount {
        endpoint,
        credential,
    })
    .map_err(|e| fail("UserErrorInvalidStorageConnection", e.to_string()))?;
    Ok(Box::new(lake))
}

/// The endpoint and credential, in ADF's order of precedence: a service principal, then an
/// account key, then a shared access signature, then the connection string's own key.
fn credential(
    mut endpoint: String,
    auth: Option<&crate::factory::ServicePrincipal>,
    secrets: &StorageSecrets,
) -> Result<(String, AzureCredential), LakeAccessError> {
    let connection = match &secrets.connection_string {
        Some(s) => Some(reveal(s, "connectionString")?),
        None => None,
    };
    if let Some(c) = &connection {
        if endpoint.is_empty() {
            endpoint = crate::factory::resolve::blob_endpoint(c);
        }
    }
    if let Some(sp) = auth {
        return Ok((
            endpoint,
            AzureCredential::ServicePrincipal {
                tenant: sp.tenant.clone(),
                client_id: sp.client_id.clone(),
                secret: reveal(&sp.secret, "servicePrincipalKey")?,
                authority_host: authority(secrets.azure_cloud_type.as_deref()),
            },
        ));
    }
    if let Some(key) = &secrets.account_key {
        return Ok((
            endpoint,
            AzureCredential::AccountKey(reveal(key, "accountKey")?),
        ));
    }
    if let Some(uri) = &secrets.sas_uri {
        let uri = reveal(uri, "sasUri")?;
        let (base, query) = uri.split_once('?').unwrap_or((uri.as_str(), ""));
        let token = match &secrets.sas_token {
            Some(t) => reveal(t, "sasToken")?,
            None => query.to_owned(),
        };
        if token.is_empty() {
            return Err(fail(
                "UserErrorInvalidStorageConnection",
                "sasUri has no signature; append the SAS token (?sv=...&sig=...) or set sasToken",
            ));
        }
        return Ok((base.to_owned(), AzureCredential::Sas(token)));
    }
    if let Some(c) = &connection {
        if let Some(key) = field(c, "AccountKey") {
            return Ok((endpoint, AzureCredential::AccountKey(key)));
        }
        if let Some(sas) = field(c, "SharedAccessSignature") {
            return Ok((endpoint, AzureCredential::Sas(sas)));
        }
        if field(c, "UseDevelopmentStorage").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok((endpoint, AzureCredential::AccountKey(AZURITE_KEY.into())));
        }
    }
    Err(fail(
        "UserErrorInvalidStorageConnection",
        format!(
            "the storage account {endpoint} has no credential; set accountKey, sasUri, a \
             connectionString with AccountKey, or servicePrincipalId/servicePrincipalKey/tenant"
        ),
    ))
}

/// The storage emulator's published development key (`UseDevelopmentStorage=true`).
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SecretValue;

    fn inline(text: &str) -> Secret {
        Secret::SecureString {
            value: SecretValue::new(text),
        }
    }

    #[test]
    fn connection_strings_give_endpoint_and_key() {
        let secrets = StorageSecrets {
            connection_string: Some(inline(
                "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;\
                 BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
            )),
            ..StorageSecrets::default()
        };
        let (endpoint, credential) = credential(String::new(), None, &secrets).unwrap();
        assert_eq!(endpoint, "http://127.0.0.1:10000/devstoreaccount1");
        assert!(matches!(credential, AzureCredential::AccountKey(k) if k == "a2V5"));
    }

    #[test]
    fn sas_uris_split_into_endpoint_and_token() {
        let secrets = StorageSecrets {
            sas_uri: Some(inline(
                "https://lake.blob.core.windows.net/?sv=2022&sig=abc",
            )),
            ..StorageSecrets::default()
        };
        let (endpoint, credential) = credential(String::new(), None, &secrets).unwrap();
        assert_eq!(endpoint, "https://lake.blob.core.windows.net/");
        assert!(matches!(credential, AzureCredential::Sas(t) if t == "sv=2022&sig=abc"));
        let none = credential_error(StorageSecrets::default());
        assert!(none.contains("no credential"), "{none}");
    }

    fn credential_error(secrets: StorageSecrets) -> String {
        credential("https://x.blob.core.windows.net".into(), None, &secrets)
            .unwrap_err()
            .message
    }
}
