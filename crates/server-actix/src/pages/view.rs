//! What the pages show, computed from what the store read: URLs, field rows with their
//! links, and the changes between versions of a record. Pure functions, no HTTP and no I/O,
//! so the rules that make a value a link are unit-tested here.

use std::collections::BTreeSet;

use register_core::datatype::Datatype;
use register_core::metadata::FieldDef;
use register_core::{Entry, ItemHash, ItemView, Metadata};

/// Characters of a value shown in a table cell; the rest is on the record's page.
pub const CELL_CHARS: usize = 80;
/// Characters of a value shown on a record's or item's page; the rest is in its JSON (a page
/// stays small whatever an item holds).
pub const VALUE_CHARS: usize = 2000;

/// A path segment or query value, percent-encoded: everything but RFC 3986's unreserved
/// characters, so any key, field value or CURIE reference is one segment.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The log a page shows: a register's user log or one of its indexes.
#[derive(Debug, Clone)]
pub struct Log {
    /// The register.
    pub name: String,
    /// The index, if the page is an index's.
    pub index: Option<String>,
}

impl Log {
    /// `/registers/{name}` or `/registers/{name}/indexes/{index}`, encoded.
    pub fn base(&self) -> String {
        match &self.index {
            None => format!("/registers/{}", encode(&self.name)),
            Some(index) => format!(
                "/registers/{}/indexes/{}",
                encode(&self.name),
                encode(index)
            ),
        }
    }

    /// The page of a record.
    pub fn record(&self, key: &str) -> String {
        format!("{}/records/{}", self.base(), encode(key))
    }

    /// The page of an entry.
    pub fn entry(&self, number: &u64) -> String {
        format!("{}/entries/{number}", self.base())
    }

    /// The page of an item (`sha-256:<hex>`, as the store gives it: nothing to encode).
    pub fn item(&self, hash: &str) -> String {
        format!("{}/items/{hash}", self.base())
    }
}

/// One value as a page shows it: text (escaped by the template), and a link when the value
/// names a record this node holds, or is an `http`/`https` URL of a `url` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The text, cut to the page's limit.
    pub text: String,
    /// Where it links, if anywhere.
    pub href: Option<String>,
    /// The link leaves this node (shown with `rel="nofollow noopener noreferrer"`).
    pub external: bool,
    /// Characters left out of `text`.
    pub cut: usize,
}

impl Shown {
    /// Plain text, cut to `max` characters.
    pub fn text(value: &str, max: usize) -> Shown {
        let (text, cut) = match value.char_indices().nth(max) {
            Some((at, _)) => (value[..at].to_string(), value[at..].chars().count()),
            None => (value.to_string(), 0),
        };
        Shown {
            text,
            href: None,
            external: false,
            cut,
        }
    }

    fn linked(value: &str, max: usize, href: String, external: bool) -> Shown {
        Shown {
            href: Some(href),
            external,
            ..Shown::text(value, max)
        }
    }
}

/// `prefix:reference` with a register-name prefix (`[a-z][a-z0-9-]*`).
fn curie(value: &str) -> Option<(&str, &str)> {
    let (prefix, reference) = value.split_once(':')?;
    let mut chars = prefix.bytes();
    let first = chars.next()?;
    (first.is_ascii_lowercase()
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !reference.is_empty())
    .then_some((prefix, reference))
}

/// A value of `field` as shown: a link to the record it names when the field links to a
/// register (`register`) or the value is a CURIE and `known` says this node has that
/// register; an external link only for `http:`/`https:` values of a `url` field (never
/// `javascript:` or any other scheme); otherwise text.
pub fn show(
    field: Option<&FieldDef>,
    value: &str,
    known: &dyn Fn(&str) -> bool,
    max: usize,
) -> Shown {
    let datatype = field.map(|f| f.datatype);
    let target = match (field.and_then(|f| f.register.as_deref()), curie(value)) {
        (_, Some((prefix, reference))) if datatype == Some(Datatype::Curie) => {
            Some((prefix, reference))
        }
        (Some(register), Some((prefix, reference))) if prefix == register => {
            Some((prefix, reference))
        }
        (Some(register), None) => Some((register, value)),
        _ => None,
    };
    if let Some((register, key)) = target.filter(|(register, _)| known(register)) {
        let href = format!("/registers/{}/records/{}", encode(register), encode(key));
        return Shown::linked(value, max, href, false);
    }
    let lower = value.get(..8).unwrap_or(value).to_ascii_lowercase();
    if datatype == Some(Datatype::Url)
        && (lower.starts_with("http://") || lower.starts_with("https://"))
    {
        return Shown::linked(value, max, value.to_string(), true);
    }
    Shown::text(value, max)
}

/// The registers that values of these items could link to (fields' `register`s and CURIE
/// prefixes), for the caller to look up.
pub fn link_targets<'a>(metadata: &Metadata, items: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out = BTreeSet::new();
    for json in items {
        let Ok(view) = ItemView::parse(json) else {
            continue;
        };
        for (name, value) in view.fields() {
            let def = metadata.fields.get(name);
            if let Some(register) = def.and_then(|d| d.register.as_deref()) {
                out.insert(register.to_string());
            }
            for text in value.strings() {
                if let Some((prefix, _)) = curie(text) {
                    out.insert(prefix.to_string());
                }
            }
        }
    }
    out.into_iter().collect()
}

/// One field of an item, labelled from its definition.
#[derive(Debug, Clone)]
pub struct FieldRow {
    /// The field's name.
    pub name: String,
    /// The field definition's `text`, if any.
    pub description: String,
    /// Each value (one, or each of a list).
    pub values: Vec<Shown>,
    /// The value is a list.
    pub many: bool,
}

/// The register's fields in declared order (then any other field of the item), for the
/// columns of a table and the rows of a record.
pub fn field_order(metadata: &Metadata) -> Vec<String> {
    metadata
        .register_definition()
        .map(|d| d.fields.clone())
        .unwrap_or_default()
}

/// A field definition's `text`.
pub fn description(def: &FieldDef) -> String {
    match def.item.get("text") {
        Some(value) => value.strings().collect::<Vec<_>>().join(" "),
        None => String::new(),
    }
}

/// The fields of an item (canonical JSON) in the register's order, labelled and linked.
pub fn field_rows(
    metadata: &Metadata,
    json: &str,
    known: &dyn Fn(&str) -> bool,
    max: usize,
) -> Vec<FieldRow> {
    let Ok(view) = ItemView::parse(json) else {
        return Vec::new();
    };
    let mut names = field_order(metadata);
    for (name, _) in view.fields() {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let value = view.get(&name)?;
            let def = metadata.fields.get(&name);
            Some(FieldRow {
                description: def.map(description).unwrap_or_default(),
                values: value.strings().map(|v| show(def, v, known, max)).collect(),
                many: matches!(value, register_core::item::ValueView::List(_)),
                name,
            })
        })
        .collect()
}

/// The values of `fields` in an item, one cell each (list values joined by `; `), for a
/// table row.
pub fn cells(
    metadata: &Metadata,
    fields: &[String],
    json: &str,
    known: &dyn Fn(&str) -> bool,
) -> Vec<Vec<Shown>> {
    let view = ItemView::parse(json).ok();
    fields
        .iter()
        .map(|name| {
            let def = metadata.fields.get(name);
            view.as_ref()
                .and_then(|v| v.get(name))
                .map(|value| {
                    value
                        .strings()
                        .map(|v| show(def, v, known, CELL_CHARS))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

/// What changed in one field between two versions (an empty side: the field was absent).
#[derive(Debug, Clone)]
pub struct Change {
    /// The field.
    pub field: String,
    /// Its values before.
    pub before: Vec<Shown>,
    /// Its values after.
    pub after: Vec<Shown>,
}

/// One version of a record: its entry and what it changed.
#[derive(Debug, Clone)]
pub struct Version {
    /// 1 for the first entry of the key.
    pub number: usize,
    /// The entry.
    pub entry: Entry,
    /// The entry removed the record (it has no items).
    pub removed: bool,
    /// Field changes, when the previous and this version each have one item.
    pub changes: Vec<Change>,
    /// Items this version added (hashes), when versions have several items.
    pub added: Vec<String>,
    /// Items this version dropped (hashes).
    pub dropped: Vec<String>,
}

/// The fields of an item as value lists, for comparing versions.
fn values_of(json: &str) -> Vec<(String, Vec<String>)> {
    ItemView::parse(json)
        .map(|view| {
            view.fields()
                .map(|(name, value)| {
                    (
                        name.to_string(),
                        value.strings().map(str::to_string).collect(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Field by field, what turned `before` (canonical JSON; `None` for a first version) into
/// `after`, in the register's field order.
pub fn field_changes(
    metadata: &Metadata,
    before: Option<&str>,
    after: &str,
    known: &dyn Fn(&str) -> bool,
) -> Vec<Change> {
    let old = before.map(values_of).unwrap_or_default();
    let new = values_of(after);
    let mut names = field_order(metadata);
    for (name, _) in old.iter().chain(&new) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let find = |list: &[(String, Vec<String>)], name: &str| {
        list.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    names
        .into_iter()
        .filter_map(|name| {
            let (b, a) = (find(&old, &name), find(&new, &name));
            if a == b {
                return None;
            }
            let def = metadata.fields.get(&name);
            let shown = |values: Vec<String>| -> Vec<Shown> {
                values
                    .iter()
                    .map(|v| show(def, v, known, VALUE_CHARS))
                    .collect()
            };
            Some(Change {
                before: shown(b),
                after: shown(a),
                field: name,
            })
        })
        .collect()
}

/// The versions of a record, oldest first: `entries` is its history and `item` finds an
/// item's canonical JSON. `previous` is the version before the first of `entries` (when the
/// history shown is cut), and `first` the number of the first shown.
pub fn versions(
    metadata: &Metadata,
    previous: Option<&Entry>,
    entries: &[Entry],
    first: usize,
    item: &dyn Fn(&ItemHash) -> Option<String>,
    known: &dyn Fn(&str) -> bool,
) -> Vec<Version> {
    let mut out = Vec::with_capacity(entries.len());
    let mut before: Option<&Entry> = previous;
    for (i, entry) in entries.iter().enumerate() {
        let old: &[ItemHash] = before.map(|e| &e.item_hashes[..]).unwrap_or(&[]);
        let new = &entry.item_hashes[..];
        let mut version = Version {
            number: first + i,
            entry: entry.clone(),
            removed: new.is_empty(),
            changes: Vec::new(),
            added: Vec::new(),
            dropped: Vec::new(),
        };
        match (old, new) {
            (_, []) => {}
            ([], [one]) | ([_], [one]) => {
                let after = item(one).unwrap_or_default();
                let prior = old.first().and_then(item);
                version.changes = field_changes(metadata, prior.as_deref(), &after, known);
            }
            _ => {
                version.added = new
                    .iter()
                    .filter(|h| !old.contains(h))
                    .map(ItemHash::to_string)
                    .collect();
                version.dropped = old
                    .iter()
                    .filter(|h| !new.contains(h))
                    .map(ItemHash::to_string)
                    .collect();
            }
        }
        out.push(version);
        before = Some(entry);
    }
    out
}

/// A link in the page's paging navigation.
#[derive(Debug, Clone, Default)]
pub struct Pager {
    /// The previous page, if any.
    pub previous: Option<String>,
    /// The next page, if any.
    pub next: Option<String>,
}

/// A short form of an item hash for tables: `sha-256:` and the first 12 hex digits.
pub fn short_hash(hash: &str) -> String {
    hash.get(..20).unwrap_or(hash).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use register_core::Item;

    fn def(name: &str, datatype: &str, register: Option<&str>) -> FieldDef {
        let json = match register {
            Some(r) => format!(
                r#"{{"cardinality":"1","datatype":"{datatype}","field":"{name}","register":"{r}","text":"About {name}"}}"#
            ),
            None => format!(
                r#"{{"cardinality":"1","datatype":"{datatype}","field":"{name}","text":"About {name}"}}"#
            ),
        };
        FieldDef {
            name: name.into(),
            datatype: Datatype::from_name(datatype).expect("datatype"),
            cardinality: register_core::metadata::Cardinality::One,
            register: register.map(str::to_string),
            item: Item::parse(&json).expect("item"),
        }
    }

    fn known(name: &str) -> bool {
        matches!(name, "country" | "place")
    }

    #[test]
    fn encode_leaves_only_unreserved_characters() {
        assert_eq!(encode("GB"), "GB");
        assert_eq!(encode("a b/c?d#e"), "a%20b%2Fc%3Fd%23e");
        assert_eq!(encode("<script>\"'"), "%3Cscript%3E%22%27");
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn values_link_to_records_this_node_has() {
        let country = def("country", "string", Some("country"));
        let linked = show(Some(&country), "GB", &known, 100);
        assert_eq!(
            linked.href.as_deref(),
            Some("/registers/country/records/GB")
        );
        assert!(!linked.external);
        // A register this node does not have: text.
        let other = def("school", "string", Some("school"));
        assert_eq!(show(Some(&other), "42", &known, 100).href, None);
        // CURIEs of a curie field; the reference is encoded.
        let curie = def("related", "curie", None);
        assert_eq!(
            show(Some(&curie), "place:a b", &known, 100).href.as_deref(),
            Some("/registers/place/records/a%20b")
        );
        assert_eq!(show(Some(&curie), "school:1", &known, 100).href, None);
        // A string field that happens to look like a CURIE stays text.
        let name = def("name", "string", None);
        assert_eq!(show(Some(&name), "country:GB", &known, 100).href, None);
    }

    #[test]
    fn only_http_urls_of_url_fields_become_external_links() {
        let url = def("website", "url", None);
        let good = show(Some(&url), "https://example.org/a?b=<c>", &known, 100);
        assert_eq!(good.href.as_deref(), Some("https://example.org/a?b=<c>"));
        assert!(good.external);
        assert_eq!(
            show(Some(&url), "HTTP://example.org", &known, 100)
                .href
                .as_deref(),
            Some("HTTP://example.org")
        );
        for hostile in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,x",
            "vbscript:x",
        ] {
            let shown = show(Some(&url), hostile, &known, 100);
            assert_eq!(shown.href, None, "{hostile}");
            assert_eq!(shown.text, hostile);
        }
        let text = def("note", "text", None);
        assert_eq!(
            show(Some(&text), "https://example.org", &known, 100).href,
            None
        );
    }

    #[test]
    fn long_values_are_cut_on_character_boundaries() {
        let shown = Shown::text("ééééé", 3);
        assert_eq!(shown.text, "ééé");
        assert_eq!(shown.cut, 2);
        assert_eq!(Shown::text("abc", 3).cut, 0);
    }

    #[test]
    fn changes_name_each_field_that_differs() {
        let metadata = Metadata::default();
        let changes = field_changes(
            &metadata,
            Some(r#"{"a":"1","b":"2","c":"3"}"#),
            r#"{"a":"1","b":"two","d":"4"}"#,
            &known,
        );
        let summary: Vec<(String, Vec<String>, Vec<String>)> = changes
            .iter()
            .map(|c| {
                (
                    c.field.clone(),
                    c.before.iter().map(|s| s.text.clone()).collect(),
                    c.after.iter().map(|s| s.text.clone()).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("b".into(), vec!["2".into()], vec!["two".into()]),
                ("c".into(), vec!["3".into()], vec![]),
                ("d".into(), vec![], vec!["4".into()]),
            ]
        );
        // A first version lists every field as added.
        assert_eq!(
            field_changes(&metadata, None, r#"{"a":"1"}"#, &known).len(),
            1
        );
    }
}
