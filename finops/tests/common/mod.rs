//! Shared fixtures: four items, three tiers, and a parsed `[finops]` section.
#![allow(dead_code)]

use seatmeter_core::calendar::parse_date;
use seatmeter_finops::{Day, Finops, FinopsConfig, ItemInfo};

/// `YYYY-MM-DD` as a day.
pub fn day(s: &str) -> Day {
    parse_date(s).unwrap()
}

/// The last day of data in every test.
pub fn as_of() -> Day {
    day("2026-10-31")
}

/// 0 Voice (named, 30.00), 1 E-Mail (named, 15.00), 2 Web Media (concurrent, 20.00),
/// 3 Chat (concurrent, 10.00), 4 Fax (named, no price, in no tier).
pub fn items() -> Vec<ItemInfo> {
    let item = |name: &str, concurrent, price| ItemInfo {
        name: name.to_string(),
        concurrent,
        price,
    };
    vec![
        item("Voice", false, Some(3000)),
        item("E-Mail", false, Some(1500)),
        item("Web Media", true, Some(2000)),
        item("Chat", true, Some(1000)),
        item("Fax", false, None),
    ]
}

/// The item names, as `check` takes them.
pub fn item_names() -> Vec<String> {
    items().into_iter().map(|i| i.name).collect()
}

/// Parses `text` as the `[finops]` section of a seatmeter.toml.
pub fn parse(text: &str) -> Result<FinopsConfig, toml::de::Error> {
    #[derive(serde::Deserialize)]
    struct Root {
        #[serde(default)]
        finops: FinopsConfig,
    }
    toml::from_str::<Root>(text).map(|r| r.finops)
}

/// Parses and checks `text` against [`item_names`].
pub fn checked(text: &str) -> Finops {
    parse(text).unwrap().check(&item_names()).unwrap()
}

/// Tiers CX1 = Voice (30.00) < CX2 = Voice, E-Mail (40.00) < CX3 = all four (65.00).
pub const TIERS: &str = r#"
[[finops.tier]]
name = "CX1"
items = ["Voice"]
price = 3000

[[finops.tier]]
name = "CX2"
items = ["Voice", "E-Mail"]
price = 4000

[[finops.tier]]
name = "CX3"
items = ["Voice", "E-Mail", "Web Media", "Chat"]
price = 6500
"#;
