//! The Office regions a tenant's mailboxes can live in and the Azure regions Graph Data
//! Connect delivers each to (reference/office365.md). A copy extracts only the mailboxes in
//! its integration runtime's region, and the sink must be in a matching Azure region.

/// Office region, its Microsoft 365 Multi-Geo code, and its Azure regions.
const REGIONS: &[(&str, &str, &[&str])] = &[
    ("Asia-Pacific", "APC", &["East Asia", "Southeast Asia"]),
    (
        "Australia",
        "AUS",
        &["Australia East", "Australia Southeast"],
    ),
    ("Europe", "EUR", &["North Europe", "West Europe"]),
    (
        "North America",
        "NAM",
        &[
            "Central US",
            "East US",
            "East US 2",
            "North Central US",
            "South Central US",
            "West Central US",
            "West US",
            "West US 2",
        ],
    ),
    ("Brazil", "BRA", &["Brazil South"]),
    ("United Kingdom", "GBR", &["UK South", "UK West"]),
    ("Canada", "CAN", &["Canada Central", "Canada East"]),
    ("Japan", "JPN", &["Japan West", "Japan East"]),
    ("India", "IND", &["South India", "Central India"]),
    ("Korea", "KOR", &["Korea Central", "Korea South"]),
    ("Switzerland", "CHE", &["Switzerland North"]),
    ("Germany", "DEU", &["Germany West Central"]),
    ("Norway", "NOR", &["Norway East"]),
    ("France", "FRA", &["France Central"]),
    ("UAE", "ARE", &["UAE North"]),
];

/// `West Europe`, `westeurope` and `west-europe` are one name.
fn normal(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The Office region a name or Multi-Geo code stands for, as the table spells it.
pub(super) fn office_region(name: &str) -> Option<&'static str> {
    let n = normal(name);
    REGIONS
        .iter()
        .find(|(office, code, _)| normal(office) == n || normal(code) == n)
        .map(|(office, _, _)| *office)
}

/// The Office region whose mailboxes an Azure region serves, and the Azure region's name
/// as the table spells it.
pub(super) fn azure_region(name: &str) -> Option<(&'static str, &'static str)> {
    let n = normal(name);
    REGIONS
        .iter()
        .find_map(|(office, _, azure)| azure.iter().find(|a| normal(a) == n).map(|a| (*office, *a)))
}

/// The Azure regions of an Office region, for fixes.
pub(super) fn azure_regions_of(office: &str) -> String {
    REGIONS
        .iter()
        .find(|(o, _, _)| *o == office)
        .map(|(_, _, azure)| azure.join(", "))
        .unwrap_or_default()
}

/// Every Office region's name, for fixes.
pub(super) fn office_regions() -> String {
    REGIONS
        .iter()
        .map(|(o, _, _)| *o)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_loosely() {
        assert_eq!(office_region("north america"), Some("North America"));
        assert_eq!(office_region("EUR"), Some("Europe"));
        assert_eq!(azure_region("westeurope"), Some(("Europe", "West Europe")));
        assert_eq!(
            azure_region("East US 2"),
            Some(("North America", "East US 2"))
        );
        assert_eq!(azure_region("Sweden Central"), None);
    }
}
