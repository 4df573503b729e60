//! Typed linked services and datasets, mirroring the JSON ADF writes. Each struct keeps
//! the properties it does not know in `extra`, so that loading can warn about them.
//!
//! Values that ADF lets an expression stand for are kept as [`serde_json::Value`] and
//! evaluated later with [`crate::expr::evaluate`].

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A value that is a literal or an expression (`"@..."`, `{"value": ..., "type":
/// "Expression"}`).
pub type Dynamic = Value;

/// A reference to another resource by name, such as a dataset's `linkedServiceName`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    /// The referenced resource's name.
    pub reference_name: String,
    /// `LinkedServiceReference`, `DatasetReference`, `PipelineReference`, ...
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Values for the referenced resource's parameters (literals or expressions).
    #[serde(default)]
    pub parameters: Map<String, Value>,
}

/// A parameter declared by a pipeline, dataset or linked service.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParameterSpec {
    /// `string`, `int`, `float`, `bool`, `array`, `object` or `securestring`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The value used when a run does not give one.
    #[serde(default)]
    pub default_value: Option<Value>,
}

/// A secret in a linked service. Its value never appears in Debug output or messages;
/// reading and revealing it are in [`crate::secrets`].
#[derive(Clone)]
// Loaded once per factory: the size gap costs nothing, boxing would clutter every match.
#[allow(clippy::large_enum_variant)]
pub enum Secret {
    /// The secret written inline (ADF encrypts it when publishing; Git holds it only when
    /// someone pasted it).
    SecureString {
        /// The secret text.
        value: crate::secrets::SecretValue,
    },
    /// mdflow extension: the secret is the value of an environment variable at run time.
    EnvironmentVariable {
        /// The variable's name.
        name: String,
    },
    /// A secret held in Azure Key Vault, read through a Key Vault linked service.
    AzureKeyVaultSecret {
        /// The Key Vault linked service.
        store: Reference,
        /// The secret's name in the vault.
        secret_name: Dynamic,
        /// A specific version; the latest when absent.
        secret_version: Option<Dynamic>,
    },
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::SecureString { .. } => f.write_str("SecureString(<redacted>)"),
            Secret::EnvironmentVariable { name } => write!(f, "EnvironmentVariable({name})"),
            Secret::AzureKeyVaultSecret { secret_name, .. } => {
                write!(f, "AzureKeyVaultSecret({secret_name})")
            }
        }
    }
}

/// A linked service: how to reach a tenant or a store.
#[derive(Debug, Clone)]
pub struct LinkedService {
    /// What it connects to.
    pub kind: LinkedServiceKind,
    /// Parameters that `linkedService().x` expressions read.
    pub parameters: BTreeMap<String, ParameterSpec>,
    /// The integration runtime (`connectVia`); mdflow runs everything locally.
    pub connect_via: Option<Reference>,
}

/// The linked service types mdflow understands.
#[derive(Debug, Clone)]
// Loaded once per factory: the size gap costs nothing, boxing would clutter every match.
#[allow(clippy::large_enum_variant)]
pub enum LinkedServiceKind {
    /// `Office365`: a Microsoft 365 tenant, or mdflow's synthetic tenant.
    Office365(Office365LinkedService),
    /// `AzureBlobStorage`: Blob Storage (or a `file://` folder, an mdflow extension).
    AzureBlobStorage(AzureBlobStorageLinkedService),
    /// `AzureBlobFS`: Data Lake Storage Gen2 (or a `file://` folder).
    AzureBlobFs(AzureBlobFsLinkedService),
    /// `AzureDataLakeStore`: Data Lake Storage Gen1, retired by Microsoft.
    AzureDataLakeStore(AzureDataLakeStoreLinkedService),
    /// Any other type, named; usable only where mdflow does not need to connect.
    Other(String),
}

/// `typeProperties` of an `Office365` linked service.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Office365LinkedService {
    /// The Microsoft 365 tenant the data belongs to.
    #[serde(default)]
    pub office365_tenant_id: Option<Dynamic>,
    /// The tenant of the app registration (differs for an ISV's app).
    #[serde(default)]
    pub service_principal_tenant_id: Option<Dynamic>,
    /// The app registration's client id.
    #[serde(default)]
    pub service_principal_id: Option<Dynamic>,
    /// The client secret.
    #[serde(default)]
    pub service_principal_key: Option<Secret>,
    /// `ServicePrincipalKey` or `ServicePrincipalCert`.
    #[serde(default)]
    pub service_principal_credential_type: Option<Dynamic>,
    /// Credentials encrypted by a self-hosted integration runtime; unusable locally.
    #[serde(default)]
    pub encrypted_credential: Option<Dynamic>,
    /// mdflow extension: use the built-in synthetic tenant instead of a real one.
    #[serde(default)]
    pub synthetic: Option<SyntheticConfig>,
    /// mdflow extension: Microsoft Graph's scheme and host (national clouds, or the tenant
    /// emulator); default `https://graph.microsoft.com`.
    #[serde(default)]
    pub graph_endpoint: Option<Dynamic>,
    /// mdflow extension: the identity provider's scheme and host; default
    /// `https://login.microsoftonline.com`.
    #[serde(default)]
    pub authority_host: Option<Dynamic>,
    /// mdflow extension: Graph requests in flight over all mailboxes (default 16).
    #[serde(default)]
    pub max_concurrent_requests: Option<u32>,
    /// mdflow extension: retries of a Graph request before the copy fails (default 6).
    #[serde(default)]
    pub max_retries: Option<u32>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// mdflow extension on an Office365 linked service: `"synthetic": {...}` selects the
/// deterministic in-process tenant. Every field is optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyntheticConfig {
    /// How many mailboxes the tenant has.
    #[serde(default)]
    pub users: Option<u32>,
    /// Messages generated per mailbox.
    #[serde(default)]
    pub messages_per_user: Option<u32>,
    /// Seed of the generator; the same seed gives the same tenant.
    #[serde(default)]
    pub seed: Option<u64>,
    /// First day of generated activity (`YYYY-MM-DD`).
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Last day of generated activity (`YYYY-MM-DD`).
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `typeProperties` of an `AzureBlobStorage` linked service.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureBlobStorageLinkedService {
    /// A storage connection string (may hold an account key; never printed).
    #[serde(default)]
    pub connection_string: Option<Dynamic>,
    /// A shared access signature URI.
    #[serde(default)]
    pub sas_uri: Option<Dynamic>,
    /// A shared access signature token.
    #[serde(default)]
    pub sas_token: Option<Dynamic>,
    /// `https://<account>.blob.core.windows.net/`, or `file://folder` (mdflow extension).
    #[serde(default)]
    pub service_endpoint: Option<Dynamic>,
    /// The account key.
    #[serde(default)]
    pub account_key: Option<Dynamic>,
    /// Service principal client id.
    #[serde(default)]
    pub service_principal_id: Option<Dynamic>,
    /// Service principal secret.
    #[serde(default)]
    pub service_principal_key: Option<Secret>,
    /// Tenant of the service principal.
    #[serde(default)]
    pub tenant: Option<Dynamic>,
    /// `AzurePublic`, `AzureChina`, ...
    #[serde(default)]
    pub azure_cloud_type: Option<Dynamic>,
    /// `StorageV2`, `BlobStorage`, ...
    #[serde(default)]
    pub account_kind: Option<Dynamic>,
    /// `AccountKey`, `SasUri`, `ServicePrincipal`, `Msi`, ...
    #[serde(default)]
    pub authentication_type: Option<Dynamic>,
    /// Credential encrypted by an integration runtime; unusable locally.
    #[serde(default)]
    pub encrypted_credential: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `typeProperties` of an `AzureBlobFS` (Data Lake Storage Gen2) linked service.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureBlobFsLinkedService {
    /// `https://<account>.dfs.core.windows.net`, or `file://folder` (mdflow extension).
    #[serde(default)]
    pub url: Option<Dynamic>,
    /// The account key.
    #[serde(default)]
    pub account_key: Option<Dynamic>,
    /// A shared access signature URI.
    #[serde(default)]
    pub sas_uri: Option<Dynamic>,
    /// Service principal client id.
    #[serde(default)]
    pub service_principal_id: Option<Dynamic>,
    /// Service principal secret.
    #[serde(default)]
    pub service_principal_key: Option<Secret>,
    /// Tenant of the service principal.
    #[serde(default)]
    pub tenant: Option<Dynamic>,
    /// `AzurePublic`, `AzureChina`, ...
    #[serde(default)]
    pub azure_cloud_type: Option<Dynamic>,
    /// `ServicePrincipalKey` or `ServicePrincipalCert`.
    #[serde(default)]
    pub service_principal_credential_type: Option<Dynamic>,
    /// Credential encrypted by an integration runtime; unusable locally.
    #[serde(default)]
    pub encrypted_credential: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `typeProperties` of an `AzureDataLakeStore` (Gen1) linked service.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureDataLakeStoreLinkedService {
    /// `https://<account>.azuredatalakestore.net/webhdfs/v1`.
    #[serde(default)]
    pub data_lake_store_uri: Option<Dynamic>,
    /// Service principal client id.
    #[serde(default)]
    pub service_principal_id: Option<Dynamic>,
    /// Service principal secret.
    #[serde(default)]
    pub service_principal_key: Option<Secret>,
    /// Tenant of the service principal.
    #[serde(default)]
    pub tenant: Option<Dynamic>,
    /// Subscription of the account.
    #[serde(default)]
    pub subscription_id: Option<Dynamic>,
    /// Resource group of the account.
    #[serde(default)]
    pub resource_group_name: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A dataset: a named shape of data in a linked service.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// What kind of data, and where.
    pub kind: DatasetKind,
    /// The linked service it reads or writes through.
    pub linked_service: Option<Reference>,
    /// Parameters that `dataset().x` expressions read.
    pub parameters: BTreeMap<String, ParameterSpec>,
}

/// The dataset types mdflow understands.
#[derive(Debug, Clone)]
pub enum DatasetKind {
    /// `Office365Table`: one MGDC table.
    Office365Table(Office365Table),
    /// `Json`: JSON files at a location.
    Json(JsonDataset),
    /// The legacy `AzureBlob` dataset (folderPath `container/path`, format object).
    AzureBlob(LegacyFileDataset),
    /// The legacy `AzureBlobFSFile` dataset (Data Lake Storage Gen2).
    AzureBlobFsFile(LegacyFileDataset),
    /// Any other type, named.
    Other(String),
}

/// `typeProperties` of an `Office365Table` dataset.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Office365Table {
    /// The MGDC table, such as `BasicDataSet_v0.Message_v1`.
    #[serde(default)]
    pub table_name: Option<Dynamic>,
    /// Legacy: date filter column (the copy source is the preferred place).
    #[serde(default)]
    pub date_filter_column: Option<Dynamic>,
    /// Legacy: start of the date window.
    #[serde(default)]
    pub start_time: Option<Dynamic>,
    /// Legacy: end of the date window.
    #[serde(default)]
    pub end_time: Option<Dynamic>,
    /// Legacy: Graph users query that scopes the extraction.
    #[serde(default)]
    pub user_scope_filter_uri: Option<Dynamic>,
    /// Legacy: a row predicate; mdflow does not evaluate it.
    #[serde(default)]
    pub predicate: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `typeProperties` of a `Json` dataset.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonDataset {
    /// Where the files are.
    #[serde(default)]
    pub location: Option<Location>,
    /// Text encoding, UTF-8 by default.
    #[serde(default)]
    pub encoding_name: Option<Dynamic>,
    /// Compression codec (`{"type": "GZip"}`, BZip2, Deflate; ZipDeflate for reading).
    #[serde(default)]
    pub compression: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `location` of a file dataset.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// `AzureBlobStorageLocation` or `AzureBlobFSLocation` (others are not lake storage).
    #[serde(rename = "type")]
    pub kind: String,
    /// Blob container (`AzureBlobStorageLocation`).
    #[serde(default)]
    pub container: Option<Dynamic>,
    /// File system (`AzureBlobFSLocation`).
    #[serde(default)]
    pub file_system: Option<Dynamic>,
    /// Folder inside the container or file system.
    #[serde(default)]
    pub folder_path: Option<Dynamic>,
    /// File name; the sink chooses names when absent.
    #[serde(default)]
    pub file_name: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `typeProperties` of the legacy `AzureBlob` and `AzureBlobFSFile` datasets.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyFileDataset {
    /// `container/folder/...` (the first segment is the container or file system).
    #[serde(default)]
    pub folder_path: Option<Dynamic>,
    /// File name.
    #[serde(default)]
    pub file_name: Option<Dynamic>,
    /// The file format; `JsonFormat` for Office 365 sinks.
    #[serde(default)]
    pub format: Option<LegacyFormat>,
    /// Compression codec.
    #[serde(default)]
    pub compression: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `format` object of legacy file datasets.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyFormat {
    /// `JsonFormat`, `TextFormat`, `ParquetFormat`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// `setOfObjects` (one object per line) or `arrayOfObjects`.
    #[serde(default)]
    pub file_pattern: Option<Dynamic>,
    /// Text encoding.
    #[serde(default)]
    pub encoding_name: Option<Dynamic>,
    /// Properties mdflow does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Access to the unknown properties a typed struct collected.
pub(crate) trait Extra {
    fn extra(&self) -> &Map<String, Value>;
}

macro_rules! impl_extra {
    ($($t:ty),*) => {$(
        impl Extra for $t {
            fn extra(&self) -> &Map<String, Value> {
                &self.extra
            }
        }
    )*};
}

impl_extra!(
    Office365LinkedService,
    SyntheticConfig,
    AzureBlobStorageLinkedService,
    AzureBlobFsLinkedService,
    AzureDataLakeStoreLinkedService,
    Office365Table,
    JsonDataset,
    Location,
    LegacyFileDataset,
    LegacyFormat
);
pub(crate) use impl_extra;
