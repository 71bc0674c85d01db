//! What the page tests browse: `country` and `colour` (the shared fixtures) and `place`, a
//! register made here whose values link to `country` and to itself (a `register` field and
//! CURIEs), with a history, an index (`by-country`), and a record of hostile values.
#![allow(dead_code)]

use register_core::{canonicalise, Item, Mode};
use server_actix::testing::data;
use store_diesel::store::Store;

/// The hostile record's key and values: markup, quotes, a `javascript:` URL (a valid `url`
/// and a valid CURIE, so only the page's rules keep it from being a link) and long text.
pub const EVIL: &str = "EVIL";
pub const EVIL_NAME: &str = "\"><script>alert(\"name\")</script><b onmouseover=alert(1)>x</b>";
pub const EVIL_URL: &str = "javascript:alert(document.domain)";
pub const EVIL_NOTE_HEAD: &str = "<img src=x onerror=alert(2)> 'single' \"double\" & <i>amp</i> ";
/// Characters of the hostile note (past the page's limit of 2,000).
pub const EVIL_NOTE_CHARS: usize = 30_000;

fn hash(json: &str) -> (String, String) {
    let canonical = canonicalise(json).expect("canonical JSON");
    let hash = Item::parse(&canonical).expect("an item").hash().to_string();
    (canonical, hash)
}

/// RSF of `place`: system entries, then `(key, item JSON)` user entries.
fn place_rsf() -> String {
    let field =
        |name: &str, datatype: &str, cardinality: &str, register: Option<&str>, text: &str| {
            let mut item = serde_json::json!({
                "field": name, "datatype": datatype, "cardinality": cardinality, "text": text,
            });
            if let Some(register) = register {
                item["register"] = register.into();
            }
            (format!("field:{name}"), item.to_string())
        };
    let system = vec![
        ("name".to_string(), r#"{"name":"place"}"#.to_string()),
        (
            "register-name".to_string(),
            r#"{"register-name":"Place"}"#.to_string(),
        ),
        (
            "custodian".to_string(),
            r#"{"custodian":"A. Custodian"}"#.to_string(),
        ),
        field("place", "string", "1", Some("place"), "The place's code."),
        field("name", "string", "1", None, "The place's name."),
        field(
            "country",
            "string",
            "1",
            Some("country"),
            "The country the place is in.",
        ),
        field("website", "url", "1", None, "The place's website."),
        field("note", "text", "1", None, "Anything else."),
        field("related", "curie", "n", None, "Related records, as CURIEs."),
        (
            "register:place".to_string(),
            serde_json::json!({
                "register": "place",
                "fields": ["place", "name", "country", "website", "note", "related"],
                "registry": "test-office",
                "text": "Places, to browse links between registers",
            })
            .to_string(),
        ),
        (
            "index:by-country".to_string(),
            r#"{"field":"country","index":"by-country"}"#.to_string(),
        ),
    ];
    let long_note = format!(
        "{EVIL_NOTE_HEAD}{}",
        "very long text ".repeat(EVIL_NOTE_CHARS / 15)
    );
    let user = [
        (
            "P1",
            serde_json::json!({"place": "P1", "name": "London", "country": "GB",
            "website": "https://example.org/london", "related": ["country:FR", "place:P2"]}),
        ),
        (
            "P2",
            serde_json::json!({"place": "P2", "name": "Paris", "country": "FR"}),
        ),
        (
            "P1",
            serde_json::json!({"place": "P1", "name": "Greater London", "country": "GB",
            "website": "https://example.org/london", "related": ["country:FR", "place:P2"]}),
        ),
        (
            "P3",
            serde_json::json!({"place": "P3", "name": "Lyon", "country": "FR",
            "note": "Second city of the filter test"}),
        ),
        (
            EVIL,
            serde_json::json!({"place": EVIL, "name": EVIL_NAME, "country": "GB",
            "website": EVIL_URL, "note": long_note, "related": [EVIL_URL, "country:<GB>"]}),
        ),
    ];
    let mut rsf = String::new();
    let mut entries = String::new();
    for (key, json) in &system {
        let (canonical, hash) = hash(json);
        rsf.push_str(&format!("add-item\t{canonical}\n"));
        entries.push_str(&format!(
            "append-entry\tsystem\t{key}\t2024-01-01T00:00:00Z\t{hash}\n"
        ));
    }
    for (n, (key, item)) in user.iter().enumerate() {
        let (canonical, hash) = hash(&item.to_string());
        rsf.push_str(&format!("add-item\t{canonical}\n"));
        entries.push_str(&format!(
            "append-entry\tuser\t{key}\t2024-02-{:02}T10:00:00Z\t{hash}\n",
            n + 1
        ));
    }
    rsf + &entries
}

/// Loads `country`, `colour` and `place` into `store`.
pub fn load(store: &Store) {
    for (name, file) in [("country", "country-data.rsf"), ("colour", "colour.rsf")] {
        store
            .load_rsf(name, &data(file)[..], Mode::Strict)
            .unwrap_or_else(|e| panic!("loading {file}: {e}"));
    }
    store
        .load_rsf("place", place_rsf().as_bytes(), Mode::Strict)
        .unwrap_or_else(|e| panic!("loading place: {e}"));
}

/// A browser's `Accept`.
pub const BROWSER: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// One URL of each page type (with the item of `GB` found at run time by the tests).
pub const PAGES: &[(&str, &str)] = &[
    ("home", "/"),
    ("register", "/registers/country/register"),
    ("register-place", "/registers/place/register"),
    ("index", "/registers/place/indexes/by-country/register"),
    ("records", "/registers/country/records"),
    ("records-filtered", "/registers/place/records?field=country&value=FR"),
    ("facet", "/registers/place/records/country/FR"),
    ("index-records", "/registers/place/indexes/by-country/records"),
    ("record", "/registers/country/records/GB"),
    ("record-linked", "/registers/place/records/P1"),
    ("record-hostile", "/registers/place/records/EVIL"),
    ("index-record", "/registers/place/indexes/by-country/records/GB"),
    ("history", "/registers/place/records/P1/entries"),
    ("history-hostile", "/registers/place/records/EVIL/entries"),
    ("index-history", "/registers/place/indexes/by-country/records/GB/entries"),
    ("entries", "/registers/country/entries"),
    ("index-entries", "/registers/place/indexes/by-country/entries"),
    ("entry", "/registers/country/entries/6"),
    ("index-entry", "/registers/place/indexes/by-country/entries/1"),
    ("item", "/registers/country/items/sha-256:6b18693874513ba13da54d61aafa7cad0c8f5573f3431d6f1c04b07ddb27d6bb"),
    ("not-found", "/registers/country/records/NOPE"),
];
