//! The response bodies of registers.md §8, written directly (their key order and number
//! formatting are part of the contract, and this is the hot path of every read).

use register_core::item::write_json_string;
use register_core::{Entry, ItemView, Metadata};
use store_diesel::queries::Record;

use super::errors::ApiError;

/// `[entry, …]`: entries as arrays, also for one entry (ADR-007); numbers as strings.
pub fn entries_json(entries: &[Entry]) -> String {
    let mut out = String::with_capacity(64 + entries.len() * 160);
    out.push('[');
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        entry.write_leaf(&mut out);
    }
    out.push(']');
    out
}

fn write_record(out: &mut String, record: &Record) {
    let e = &record.entry;
    write_json_string(&e.key, out);
    out.push_str(&format!(
        ":{{\"index-entry-number\":\"{}\",\"entry-number\":\"{}\",\"entry-timestamp\":\"{}\",\"key\":",
        e.index_entry_number, e.entry_number, e.timestamp
    ));
    write_json_string(&e.key, out);
    out.push_str(",\"item\":[");
    for (i, (_, json)) in record.items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Items are stored canonical: valid JSON as they are.
        out.push_str(json);
    }
    out.push_str("]}");
}

/// `{"<key>": {…, "item": [ … ]}, …}` in the given order (newest first for pages).
pub fn records_json(records: &[Record]) -> String {
    let mut out = String::with_capacity(64 + records.len() * 256);
    out.push('{');
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_record(&mut out, record);
    }
    out.push('}');
    out
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

fn finish(writer: csv::Writer<Vec<u8>>) -> Result<String, ApiError> {
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| ApiError::Internal(e.to_string()))
}

fn hashes(entry: &Entry) -> String {
    entry
        .item_hashes
        .iter()
        .map(|h| h.to_string())
        .collect::<Vec<_>>()
        .join(";")
}

/// Entries as CSV: `index-entry-number,entry-number,entry-timestamp,key,item-hash`.
pub fn entries_csv(entries: &[Entry]) -> Result<String, ApiError> {
    let mut w = csv_writer();
    let csv_error = |e: csv::Error| ApiError::Internal(e.to_string());
    w.write_record([
        "index-entry-number",
        "entry-number",
        "entry-timestamp",
        "key",
        "item-hash",
    ])
    .map_err(csv_error)?;
    for e in entries {
        w.write_record([
            e.index_entry_number.to_string(),
            e.entry_number.to_string(),
            e.timestamp.to_string(),
            e.key.clone(),
            hashes(e),
        ])
        .map_err(csv_error)?;
    }
    finish(w)
}

/// Records as CSV: the entry columns, then the register's fields in declared order; one row
/// per item; list values joined with `;`.
pub fn records_csv(records: &[Record], metadata: &Metadata) -> Result<String, ApiError> {
    let fields: Vec<String> = metadata
        .register_definition()
        .map(|d| d.fields.clone())
        .unwrap_or_default();
    let mut w = csv_writer();
    let csv_error = |e: csv::Error| ApiError::Internal(e.to_string());
    let mut header = vec![
        "index-entry-number".to_string(),
        "entry-number".to_string(),
        "entry-timestamp".to_string(),
        "key".to_string(),
    ];
    header.extend(fields.iter().cloned());
    w.write_record(&header).map_err(csv_error)?;
    for record in records {
        let e = &record.entry;
        for (_, json) in &record.items {
            let view = ItemView::parse(json).map_err(|err| ApiError::Internal(err.to_string()))?;
            let mut row = vec![
                e.index_entry_number.to_string(),
                e.entry_number.to_string(),
                e.timestamp.to_string(),
                e.key.clone(),
            ];
            for field in &fields {
                row.push(
                    view.get(field)
                        .map(|v| v.strings().collect::<Vec<_>>().join(";"))
                        .unwrap_or_default(),
                );
            }
            w.write_record(&row).map_err(csv_error)?;
        }
    }
    finish(w)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use register_core::{canonicalise, Item, ItemHash, Timestamp};

    use super::*;

    fn entry(n: u64, key: &str, items: &[&str]) -> Entry {
        Entry {
            entry_number: n,
            index_entry_number: n,
            timestamp: Timestamp::parse("2024-05-01T00:00:00Z").expect("timestamp"),
            key: key.to_string(),
            item_hashes: items
                .iter()
                .map(|json| Item::parse(json).expect("item").hash())
                .collect(),
        }
    }

    /// The hand-written JSON is exactly what the wire types serialise to, for keys and
    /// values that need escaping too.
    #[test]
    fn entries_and_records_are_the_wire_types_bytes() {
        let items = [
            r#"{"name":"Ünïcode \"quoted\"","country":"GB"}"#,
            r#"{"country":"FR"}"#,
        ];
        let entries = vec![
            entry(1, "GB", &items[..1]),
            entry(2, "a\"b\\c\u{1}", &items),
        ];
        let wire: Vec<api_types::Entry> = entries
            .iter()
            .map(|e| api_types::Entry {
                index_entry_number: e.index_entry_number.to_string(),
                entry_number: e.entry_number.to_string(),
                entry_timestamp: e.timestamp.to_string(),
                key: e.key.clone(),
                item_hash: e.item_hashes.iter().map(ItemHash::to_string).collect(),
            })
            .collect();
        assert_eq!(
            entries_json(&entries),
            serde_json::to_string(&wire).unwrap()
        );

        let records: Vec<Record> = entries
            .iter()
            .map(|e| Record {
                entry: e.clone(),
                items: items[..e.item_hashes.len()]
                    .iter()
                    .map(|json| {
                        let canonical = canonicalise(json).expect("canonical");
                        (Item::parse(&canonical).expect("item").hash(), canonical)
                    })
                    .collect(),
            })
            .collect();
        let parsed: BTreeMap<String, api_types::Record> =
            serde_json::from_str(&records_json(&records)).expect("records are JSON");
        for record in &records {
            let wire = &parsed[&record.entry.key];
            assert_eq!(wire.key, record.entry.key);
            assert_eq!(wire.entry_number, record.entry.entry_number.to_string());
            assert_eq!(wire.item.len(), record.items.len());
            let one = format!(
                "{{{}:{}}}",
                serde_json::to_string(&record.entry.key).unwrap(),
                serde_json::to_string(wire).unwrap()
            );
            assert_eq!(records_json(std::slice::from_ref(record)), one);
        }
    }
}
