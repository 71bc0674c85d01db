//! The reads behind the pages of one record (its fields, its history) and of one item, on
//! the blocking pool like the rest of [`super::load`].

use std::collections::BTreeMap;

use register_core::{ItemHash, Metadata};
use store_diesel::queries::{Record, RegisterSummary};
use store_diesel::store::Store;

use super::load::{chrome, crumbs, known, render, source, Outcome};
use super::templates::{HistoryPage, ItemBlock, ItemPage, RecordPage};
use super::view::{self, field_rows, link_targets, short_hash, Log, Shown, VALUE_CHARS};
use crate::errors::ApiError;

/// Versions a history page shows (the newest).
const MAX_VERSIONS: usize = 50;

/// The fields of each item of a record.
fn item_blocks(
    log: &Log,
    metadata: &Metadata,
    items: &[(ItemHash, String)],
    known: &dyn Fn(&str) -> bool,
) -> Vec<ItemBlock> {
    items
        .iter()
        .map(|(hash, json)| ItemBlock {
            hash: hash.to_string(),
            href: log.item(&hash.to_string()),
            fields: field_rows(metadata, json, known, VALUE_CHARS),
        })
        .collect()
}

/// A record's page.
pub fn record(
    store: &Store,
    domain: &str,
    log: &Log,
    summary: &RegisterSummary,
    key: &str,
) -> Result<Outcome, ApiError> {
    let source = source(log);
    let Record { entry, items } = store
        .log_record(&source, key)?
        .ok_or_else(|| ApiError::NotFound(format!("record '{key}' not found in {source}")))?;
    let metadata = store.metadata(&log.name)?;
    let known = known(
        store,
        &log.name,
        link_targets(&metadata, items.iter().map(|(_, j)| j.as_str())),
    );
    let page = log.record(key);
    render(RecordPage {
        chrome: chrome(
            domain,
            key.to_string(),
            crumbs(
                log,
                &[
                    ("Records", Some(format!("{}/records", log.base()))),
                    (key, None),
                ],
            ),
            vec![
                ("JSON", format!("{page}.json")),
                ("CSV", format!("{page}.csv")),
            ],
        ),
        items: item_blocks(log, &metadata, &items, &|r| known.contains(r)),
        hashes: entry
            .item_hashes
            .iter()
            .map(ItemHash::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        entry,
        size: summary.total_entries,
        key: key.to_string(),
        log: log.clone(),
    })
}

/// A record's history: its versions, newest first, each with what it changed.
pub fn history(store: &Store, domain: &str, log: &Log, key: &str) -> Result<Outcome, ApiError> {
    let source = source(log);
    let entries = store.log_history(&source, key)?;
    if entries.is_empty() {
        return Err(ApiError::NotFound(format!(
            "record '{key}' not found in {source}"
        )));
    }
    let metadata = store.metadata(&log.name)?;
    let from = entries.len().saturating_sub(MAX_VERSIONS);
    let previous = from.checked_sub(1).map(|i| &entries[i]);
    let shown = &entries[from..];
    // Only one-item versions are compared field by field; their items are read.
    let mut items: BTreeMap<ItemHash, String> = BTreeMap::new();
    for entry in previous.into_iter().chain(shown) {
        if let [hash] = &entry.item_hashes[..] {
            if !items.contains_key(hash) {
                if let Some(json) = store.log_item(&source, hash)? {
                    items.insert(*hash, json);
                }
            }
        }
    }
    let known = known(
        store,
        &log.name,
        link_targets(&metadata, items.values().map(String::as_str)),
    );
    let mut versions = view::versions(
        &metadata,
        previous,
        shown,
        from + 1,
        &|h| items.get(h).cloned(),
        &|r| known.contains(r),
    );
    versions.reverse();
    let record = log.record(key);
    render(HistoryPage {
        chrome: chrome(
            domain,
            format!("History of {key}"),
            crumbs(
                log,
                &[
                    ("Records", Some(format!("{}/records", log.base()))),
                    (key, Some(record.clone())),
                    ("History", None),
                ],
            ),
            vec![
                ("JSON", format!("{record}/entries.json")),
                ("CSV", format!("{record}/entries.csv")),
            ],
        ),
        versions,
        older: from,
        key: key.to_string(),
        log: log.clone(),
    })
}

/// One item.
pub fn item(store: &Store, domain: &str, log: &Log, hash: &ItemHash) -> Result<Outcome, ApiError> {
    let source = source(log);
    let json = store
        .log_item(&source, hash)?
        .ok_or_else(|| ApiError::NotFound(format!("item {hash} not found in {source}")))?;
    let metadata = store.metadata(&log.name)?;
    let known = known(
        store,
        &log.name,
        link_targets(&metadata, std::iter::once(json.as_str())),
    );
    let text = hash.to_string();
    let blocks = item_blocks(log, &metadata, &[(*hash, json.clone())], &|r| {
        known.contains(r)
    });
    let short = short_hash(&text);
    render(ItemPage {
        chrome: chrome(
            domain,
            format!("Item {short}…"),
            crumbs(log, &[("Item", None)]),
            vec![("JSON", format!("{}.json", log.item(&text)))],
        ),
        item: blocks
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::Internal("no item block".into()))?,
        json: Shown::text(&json, 4 * VALUE_CHARS),
    })
}
