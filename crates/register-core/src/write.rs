//! Records written as JSON (the write API): each item object of a request becomes its
//! canonical form and hash, its key is the register's primary field, and the record becomes
//! the RSF lines an ordinary load would read, so a write is validated exactly like a load.

use serde_json::value::RawValue;

use crate::entry::check_user_key;
use crate::error::Error;
use crate::hash::ItemHash;
use crate::item::{ItemView, ValueView};
use crate::metadata::Metadata;
use crate::time::Timestamp;

/// The most records one request may carry: a batch is applied in one transaction.
pub const MAX_RECORDS: usize = 10_000;

/// An item of a write request, canonical, with its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenItem {
    /// The canonical JSON.
    pub json: String,
    /// SHA-256 of the canonical JSON.
    pub hash: ItemHash,
}

/// One change a write request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordChange {
    /// The record of the item's primary field becomes this item.
    Put(WrittenItem),
    /// The record `key` is removed (an entry with no items).
    Remove(String),
}

/// Parses a write request's body: one JSON object, or a non-empty array of at most
/// [`MAX_RECORDS`] objects, each an item in any key order and spacing. Errors name the
/// record (`records[2]: field 'x' must be a string or a list of strings`).
pub fn parse_items(body: &str) -> Result<Vec<WrittenItem>, Error> {
    let canonical = |json: &str| -> Result<WrittenItem, Error> {
        let view = ItemView::parse(json)?;
        let mut out = String::with_capacity(json.len());
        view.write_canonical(&mut out);
        let hash = ItemHash::of_canonical(out.as_bytes());
        Ok(WrittenItem { json: out, hash })
    };
    if !body.trim_start().starts_with('[') {
        return canonical(body)
            .map(|item| vec![item])
            .map_err(|e| e.at_record(0));
    }
    let raw: Vec<&RawValue> = serde_json::from_str(body)
        .map_err(|e| Error::InvalidBatch(format!("the body is not a JSON array of items: {e}")))?;
    if raw.is_empty() {
        return Err(Error::InvalidBatch(
            "the array is empty: send at least one item".into(),
        ));
    }
    if raw.len() > MAX_RECORDS {
        return Err(Error::InvalidBatch(format!(
            "{} records in one request; at most {MAX_RECORDS} are accepted",
            raw.len()
        )));
    }
    raw.iter()
        .enumerate()
        .map(|(index, value)| canonical(value.get()).map_err(|e| e.at_record(index)))
        .collect()
}

/// The record key of an item: the value of the register's primary field (the field named
/// like the register), which must be a non-blank string that is a valid key.
pub fn record_key(metadata: &Metadata, item: &WrittenItem) -> Result<String, Error> {
    let register = match (metadata.name.as_deref(), metadata.register_definition()) {
        (_, Some(register)) => register,
        (None, None) => return Err(Error::MissingName),
        (Some(name), None) => return Err(Error::MissingRegisterDefinition(name.to_string())),
    };
    let view = ItemView::parse(&item.json)?;
    match view.get(&register.id) {
        Some(ValueView::String(key)) if !key.trim().is_empty() => {
            check_user_key(key)?;
            Ok(key.to_string())
        }
        // The key is one string: a list there is the wrong shape, not a missing field.
        Some(ValueView::List(_)) => Err(Error::WrongCardinality {
            field: register.id.clone(),
            cardinality: '1',
        }),
        _ => Err(Error::MissingPrimaryField(register.id.clone())),
    }
}

/// The RSF `add-item` line of an item.
pub fn add_item_line(item: &WrittenItem) -> String {
    format!("add-item\t{}", item.json)
}

/// The RSF `append-entry` line of a user entry for `key` with `items` (none: a removal).
pub fn append_entry_line(key: &str, timestamp: Timestamp, items: &[ItemHash]) -> String {
    let hashes: Vec<String> = items.iter().map(ToString::to_string).collect();
    format!(
        "append-entry\tuser\t{key}\t{timestamp}\t{}",
        hashes.join(";")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Mode, Register};

    const COLOUR: &str = "add-item\t{\"name\":\"colour\"}\n\
append-entry\tsystem\tname\t2019-01-01T00:00:00Z\tsha-256:7cbc96a7ee8071a89b3ba4da1cc3574d2d9f6e96e1a631670611aa83cc2f9ea2\n";

    /// The RSF of a strict `colour` register with fields `colour` and `hex`.
    fn colour_rsf() -> String {
        let mut rsf = String::from(COLOUR);
        for (key, json) in [
            (
                "field:colour",
                r#"{"cardinality":"1","datatype":"string","field":"colour"}"#,
            ),
            (
                "field:hex",
                r#"{"cardinality":"1","datatype":"string","field":"hex"}"#,
            ),
            (
                "register:colour",
                r#"{"fields":["colour","hex"],"register":"colour"}"#,
            ),
        ] {
            let hash = ItemHash::of_canonical(json.as_bytes());
            rsf.push_str(&format!(
                "add-item\t{json}\nappend-entry\tsystem\t{key}\t2019-01-01T00:00:00Z\t{hash}\n"
            ));
        }
        rsf
    }

    fn colour_metadata() -> Metadata {
        let mut register = Register::new();
        register
            .load(colour_rsf().as_bytes(), Mode::Strict)
            .unwrap();
        register.metadata().clone()
    }

    #[test]
    fn one_object_or_an_array_become_canonical_items() {
        let one = parse_items(r#" { "hex": "f00", "colour" : "red" } "#).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].json, r#"{"colour":"red","hex":"f00"}"#);
        assert_eq!(one[0].hash, ItemHash::of_canonical(one[0].json.as_bytes()));
        let many = parse_items(r#"[{"colour":"red"}, {"colour":"blue"}]"#).unwrap();
        assert_eq!(many.len(), 2);
        assert_eq!(many[1].json, r#"{"colour":"blue"}"#);
    }

    #[test]
    fn errors_name_the_record_and_the_field() {
        let e = parse_items(r#"[{"colour":"red"}, {"colour":1}]"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "records[1]: field 'colour' must be a string or a list of strings"
        );
        let e = parse_items(r#"{"colour":"red","colour":"blue"}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "records[0]: field 'colour' appears more than once"
        );
        assert!(parse_items("[]").unwrap_err().to_string().contains("empty"));
        assert!(parse_items("[{]")
            .unwrap_err()
            .to_string()
            .starts_with("the body is not a JSON array of items"));
        assert_eq!(
            parse_items("[1]").unwrap_err().to_string(),
            "records[0]: item must be a JSON object"
        );
        let many = format!("[{}]", vec!["{}"; MAX_RECORDS + 1].join(","));
        assert!(parse_items(&many)
            .unwrap_err()
            .to_string()
            .contains("at most"));
    }

    #[test]
    fn the_key_is_the_primary_field() {
        let metadata = colour_metadata();
        let item = &parse_items(r#"{"colour":"red","hex":"f00"}"#).unwrap()[0];
        assert_eq!(record_key(&metadata, item).unwrap(), "red");
        let blank = &parse_items(r#"{"colour":" ","hex":"f00"}"#).unwrap()[0];
        assert_eq!(
            record_key(&metadata, blank).unwrap_err().to_string(),
            "primary field 'colour' is missing or blank"
        );
        let list = &parse_items(r#"{"colour":["red"]}"#).unwrap()[0];
        assert_eq!(
            record_key(&metadata, list).unwrap_err().to_string(),
            "field 'colour' has cardinality 1 and needs a string"
        );
        let bad_key = &parse_items(r#"{"colour":"a b"}"#).unwrap()[0];
        assert!(record_key(&metadata, bad_key).is_err());
        assert!(record_key(&Metadata::default(), item).is_err());
    }

    #[test]
    fn lines_are_what_a_strict_load_reads() {
        let metadata = colour_metadata();
        let item = &parse_items(r#"{"hex":"f00","colour":"red"}"#).unwrap()[0];
        let at = Timestamp::parse("2024-05-06T07:08:09Z").unwrap();
        let key = record_key(&metadata, item).unwrap();
        let rsf = format!(
            "{}{}\n{}\n{}\n",
            colour_rsf(),
            add_item_line(item),
            append_entry_line(&key, at, &[item.hash]),
            append_entry_line(&key, at, &[]),
        );
        let mut register = Register::new();
        let summary = register.load(rsf.as_bytes(), Mode::Strict).unwrap();
        assert_eq!(summary.user_entries, 2);
        assert_eq!(
            register.entries(crate::LogKind::User)[0].item_hashes,
            vec![item.hash]
        );
        assert!(register.entries(crate::LogKind::User)[1]
            .item_hashes
            .is_empty());
    }
}
