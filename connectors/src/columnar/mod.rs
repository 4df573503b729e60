//! Columnar JSON: schema-first decoding of JSON Lines into Polars frames, encoding frames
//! back to JSON Lines, and conformance checks of rows against a catalog table.

pub mod check;
pub mod decode;
pub mod encode;
pub(crate) mod scan;

pub use decode::{DecodeError, RowDecoder};
pub use encode::{encode_frame, EncodeError, Layout};

pub use check::{check_row, Problem};

#[cfg(test)]
mod sample_round_trip;
