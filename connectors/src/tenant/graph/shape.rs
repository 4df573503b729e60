//! Where MGDC rows and Graph objects differ, shared by the `graph` back-end and the tenant
//! emulator so that both sides of the wire agree on it.
//!
//! MGDC rows end in bookkeeping columns that Graph does not send (the envelope); a few
//! catalog columns have other names in Graph; attachments are a navigation property that
//! Graph returns only when expanded.

/// Top-level keys MGDC adds to rows and Graph never sends. `pObjectId` is the owner of a
/// group-scoped row.
pub(crate) const ENVELOPE_KEYS: [&str; 9] = [
    "pObjectId",
    "ODataType",
    "puser",
    "ptenant",
    "pAdditionalInfo",
    "datarow",
    "userrow",
    "pagerow",
    "rowinformation",
];

/// Catalog column names that Graph spells differently: (catalog, Graph).
pub(crate) const RENAMES: [(&str, &str); 1] = [("vseriesMasterId", "seriesMasterId")];

/// Navigation properties: requested with `$expand`, not `$select`.
pub(crate) const EXPANDED: [&str; 1] = ["attachments"];

/// Whether a top-level key is part of the MGDC envelope.
pub(crate) fn is_envelope(key: &str) -> bool {
    ENVELOPE_KEYS.contains(&key)
}

/// The Graph name of a catalog column.
pub(crate) fn graph_name(column: &str) -> &str {
    RENAMES
        .iter()
        .find(|(catalog, _)| catalog.eq_ignore_ascii_case(column))
        .map_or(column, |(_, graph)| graph)
}

/// The catalog name of a Graph property, for a table whose catalog lists `columns`.
pub(crate) fn catalog_name<'a>(property: &'a str, columns: &[&'a str]) -> &'a str {
    RENAMES
        .iter()
        .find(|(catalog, graph)| {
            graph.eq_ignore_ascii_case(property)
                && columns.iter().any(|c| c.eq_ignore_ascii_case(catalog))
        })
        .map_or(property, |(catalog, _)| catalog)
}

/// Whether a column is a navigation property.
pub(crate) fn is_expanded(column: &str) -> bool {
    EXPANDED.iter().any(|e| e.eq_ignore_ascii_case(column))
}
