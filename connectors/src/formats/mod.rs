//! File formats of the lake: compression codecs, text encodings and the JSON layouts ADF
//! reads and writes (`setOfObjects`, `arrayOfObjects`, a single object, concatenated
//! objects).

pub mod compression;
pub mod json;
pub mod text;

pub use compression::{Compression, Encoder};
pub use json::{read_documents, JsonPattern};
pub use text::TextEncoding;

/// A format property whose value mdflow does not know.
#[derive(Debug, thiserror::Error)]
#[error("{property} `{value}` is not supported; use one of: {allowed}")]
pub struct UnknownSetting {
    /// The property: `compression type`, `encodingName`, `filePattern`.
    pub property: &'static str,
    /// The value as given.
    pub value: String,
    /// The values mdflow accepts.
    pub allowed: &'static str,
}
