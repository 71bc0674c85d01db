//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use register_core::{Digest, Item, ItemHash, LogKind, Mode, Register, Value};

/// Bytes of a file under `tests/data`.
pub fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A register loaded from a file under `tests/data`.
pub fn loaded(name: &str, mode: Mode) -> Register {
    let mut register = Register::new();
    register
        .load(&data(name)[..], mode)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    register
}

/// An item from `(field, value)` pairs; a value containing `;` becomes a list.
pub fn item(fields: &[(&str, &str)]) -> Item {
    let map: BTreeMap<String, Value> = fields
        .iter()
        .map(|(k, v)| {
            let value = if v.contains(';') {
                Value::List(v.split(';').map(str::to_string).collect())
            } else {
                Value::String((*v).to_string())
            };
            ((*k).to_string(), value)
        })
        .collect();
    Item::from_fields(map).expect("valid field names")
}

/// Builds RSF text line by line.
#[derive(Default)]
pub struct Rsf {
    pub text: String,
}

impl Rsf {
    pub fn new() -> Rsf {
        Rsf::default()
    }

    pub fn line(mut self, line: &str) -> Rsf {
        self.text.push_str(line);
        self.text.push('\n');
        self
    }

    /// `add-item` then `append-entry` for one item.
    pub fn entry(self, log: LogKind, key: &str, item: &Item) -> Rsf {
        let hash = item.hash();
        self.line(&format!("add-item\t{}", item.canonical_json()))
            .line(&format!(
                "append-entry\t{log}\t{key}\t2020-01-01T00:00:00Z\t{hash}"
            ))
    }

    pub fn user(self, key: &str, fields: &[(&str, &str)]) -> Rsf {
        self.entry(LogKind::User, key, &item(fields))
    }

    pub fn system(self, key: &str, fields: &[(&str, &str)]) -> Rsf {
        self.entry(LogKind::System, key, &item(fields))
    }

    /// Metadata of a register `name` whose fields are `(field, datatype, cardinality)`.
    pub fn metadata(self, name: &str, fields: &[(&str, &str, &str)]) -> Rsf {
        let mut rsf = self.system("name", &[("name", name)]);
        for (field, datatype, cardinality) in fields {
            rsf = rsf.system(
                &format!("field:{field}"),
                &[
                    ("cardinality", cardinality),
                    ("datatype", datatype),
                    ("field", field),
                ],
            );
        }
        let names: Vec<&str> = fields.iter().map(|f| f.0).collect();
        let list = names.join(";");
        // A one-field register still needs a list: add the separator trick by hand.
        let fields_item = if names.len() == 1 {
            let mut map = BTreeMap::new();
            map.insert(
                "fields".to_string(),
                Value::List(vec![names[0].to_string()]),
            );
            map.insert("register".to_string(), Value::String(name.to_string()));
            Item::from_fields(map).expect("item")
        } else {
            item(&[("fields", &list), ("register", name)])
        };
        rsf.entry(LogKind::System, &format!("register:{name}"), &fields_item)
    }

    pub fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }
}

/// What a failed load must leave untouched.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    user: u64,
    system: u64,
    items: u64,
    root: Digest,
    system_root: Digest,
}

pub fn snapshot(register: &Register) -> Snapshot {
    Snapshot {
        user: register.size(LogKind::User),
        system: register.size(LogKind::System),
        items: register.item_count(),
        root: register.root(LogKind::User),
        system_root: register.root(LogKind::System),
    }
}

/// Loads `rsf` into `register`, expecting exactly `message`, and checks nothing changed.
pub fn expect_error(register: &mut Register, rsf: &[u8], mode: Mode, message: &str) {
    let before = snapshot(register);
    match register.load(rsf, mode) {
        Ok(summary) => panic!("expected `{message}`, loaded {summary:?}"),
        Err(e) => assert_eq!(e.to_string(), message),
    }
    assert_eq!(
        snapshot(register),
        before,
        "a failed load changed the register"
    );
}

pub fn hash_of(fields: &[(&str, &str)]) -> ItemHash {
    item(fields).hash()
}
