//! The store reads behind each page, run on the blocking pool (diesel never runs on an actix
//! worker): each reads what its page shows and renders it.

use std::collections::BTreeSet;

use askama::Template;
use register_core::{Entry, Metadata};
use store_diesel::queries::{RegisterSummary, Source};
use store_diesel::store::Store;

use super::templates::{
    CheckpointView, Chrome, EntriesPage, EntryPage, EntryRow, FieldDefRow, Home, RecordRow,
    RecordsPage, RegisterPage, RegisterRow,
};
use super::view::{self, cells, encode, field_order, link_targets, short_hash, Log, Pager};
use crate::errors::ApiError;
use crate::paging;

/// Rows of a page of records or entries by default, and the most a page shows (pages stay
/// under 40 KB).
pub const PAGE_ROWS: u64 = 25;
/// See [`PAGE_ROWS`].
pub const MAX_PAGE_ROWS: u64 = 50;

/// What a page handler answers.
#[derive(Debug)]
pub enum Outcome {
    /// The page.
    Html(String),
    /// 303 to another page (a search by key that found its record).
    Redirect(String),
}

/// A page's HTML.
pub fn render(page: impl Template) -> Result<Outcome, ApiError> {
    page.render()
        .map(Outcome::Html)
        .map_err(|e| ApiError::Internal(format!("rendering a page: {e}")))
}

/// Where a page is, for its breadcrumbs: the log's pages, then `tail`.
pub(super) fn crumbs(log: &Log, tail: &[(&str, Option<String>)]) -> Vec<(String, Option<String>)> {
    let mut out = vec![
        ("Registers".to_string(), Some("/".to_string())),
        (
            log.name.clone(),
            Some(format!("/registers/{}/register", encode(&log.name))),
        ),
    ];
    if let Some(index) = &log.index {
        out.push((
            format!("index {index}"),
            Some(format!("{}/register", log.base())),
        ));
    }
    out.extend(tail.iter().map(|(t, h)| (t.to_string(), h.clone())));
    // The page itself is not a link.
    if let Some(last) = out.last_mut() {
        last.1 = None;
    }
    out
}

pub(super) fn chrome(
    domain: &str,
    title: String,
    crumbs: Vec<(String, Option<String>)>,
    formats: Vec<(&'static str, String)>,
) -> Chrome {
    Chrome {
        title,
        domain: domain.to_string(),
        crumbs,
        formats,
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`.
fn when(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// A string field of the register definition (`text`, `registry`, …).
fn definition(metadata: &Metadata, field: &str) -> String {
    metadata
        .register_definition()
        .and_then(|d| d.item.get(field))
        .map(|v| v.strings().collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

/// The registers among `names` that this node holds (`own` always).
pub(super) fn known(store: &Store, own: &str, names: Vec<String>) -> BTreeSet<String> {
    names
        .into_iter()
        .filter(|name| name == own || store.register(name).is_ok())
        .collect()
}

/// `/`.
pub fn home(store: &Store, domain: &str) -> Result<Outcome, ApiError> {
    let mut registers = Vec::new();
    for summary in store.registers()? {
        let metadata = store.metadata(&summary.name)?;
        registers.push(RegisterRow {
            href: format!("/registers/{}/register", encode(&summary.name)),
            title: metadata
                .register_name
                .clone()
                .unwrap_or_else(|| summary.name.clone()),
            description: definition(&metadata, "text"),
            records: summary.total_records,
            entries: summary.total_entries,
            updated: when(summary.updated_at),
            mirror: summary.mirror_of.is_some(),
            name: summary.name,
        });
    }
    render(Home {
        chrome: chrome(
            domain,
            "Registers".into(),
            vec![("Registers".into(), None)],
            vec![("JSON", "/registers.json".into())],
        ),
        registers,
    })
}

/// A checkpoint note as shown: the log's own signatures (named like its origin) and the
/// others (cosigners); `None` when it does not parse.
fn checkpoint_view(note: String) -> Option<CheckpointView> {
    let parsed = tlog_core::note::parse(&note).ok()?;
    let checkpoint = tlog_core::Checkpoint::parse_body(&parsed.text).ok()?;
    let (signers, cosigners): (Vec<_>, Vec<_>) = parsed
        .signatures
        .iter()
        .map(|s| s.name.clone())
        .partition(|name| *name == checkpoint.origin);
    Some(CheckpointView {
        origin: checkpoint.origin,
        size: checkpoint.size,
        root: checkpoint.root.to_string(),
        signers,
        cosigners,
        note,
    })
}

/// A register's or an index's page.
pub fn register(
    store: &Store,
    domain: &str,
    log: &Log,
    summary: &RegisterSummary,
) -> Result<Outcome, ApiError> {
    let metadata = store.metadata(&log.name)?;
    let source = source(log);
    let checkpoint = store.checkpoint(&source, None)?.and_then(checkpoint_view);
    let base = log.base();
    let links: Vec<String> = metadata
        .fields
        .values()
        .filter_map(|f| f.register.clone())
        .collect();
    let known = known(store, &log.name, links);
    let fields = field_order(&metadata)
        .iter()
        .filter_map(|name| metadata.fields.get(name))
        .map(|f| FieldDefRow {
            name: f.name.clone(),
            datatype: f.datatype.name().to_string(),
            cardinality: match f.cardinality {
                register_core::metadata::Cardinality::One => "1".into(),
                register_core::metadata::Cardinality::Many => "n".into(),
            },
            register: f.register.clone().map(|r| {
                let href = known
                    .contains(&r)
                    .then(|| format!("/registers/{}/register", encode(&r)));
                (r, href)
            }),
            description: view::description(f),
        })
        .collect();
    let title = metadata
        .register_name
        .clone()
        .unwrap_or_else(|| log.name.clone());
    let mut facts: Vec<(&'static str, String)> = Vec::new();
    if log.index.is_none() {
        for (label, value) in [
            ("Register", log.name.clone()),
            ("Custodian", metadata.custodian.clone().unwrap_or_default()),
            ("Registry", definition(&metadata, "registry")),
            ("Phase", definition(&metadata, "phase")),
            ("Copyright", definition(&metadata, "copyright")),
        ] {
            if !value.is_empty() {
                facts.push((label, value));
            }
        }
    }
    facts.extend([
        ("Records", summary.total_records.to_string()),
        ("Entries", summary.total_entries.to_string()),
        ("Items", summary.total_items.to_string()),
        ("Last updated", when(summary.updated_at)),
        ("Root hash", summary.root.to_string()),
    ]);
    let index_field = log
        .index
        .as_ref()
        .and_then(|i| metadata.indexes.get(i))
        .map(|d| d.field.clone());
    let (title, description) = match &log.index {
        None => (title, definition(&metadata, "text")),
        Some(index) => (
            format!("Index {index} of {title}"),
            "An index is a log derived from the register: one record per value of a field, \
             holding the items of every record with that value."
                .to_string(),
        ),
    };
    render(RegisterPage {
        chrome: chrome(
            domain,
            title,
            crumbs(log, &[]),
            vec![("JSON", format!("{base}/register.json"))],
        ),
        description,
        facts,
        index_field,
        fields,
        indexes: metadata
            .indexes
            .keys()
            .map(|i| (i.clone(), format!("{base}/indexes/{}/register", encode(i))))
            .collect(),
        checkpoint,
        mirror_of: summary
            .mirror_of
            .as_ref()
            .map(|(partner, _, _)| partner.clone()),
        downloads: vec![
            ("Everything, as RSF", format!("{base}/download-rsf")),
            (
                "Records as JSON (up to 5,000)",
                format!("{base}/records.json?page-size=5000"),
            ),
            (
                "Records as CSV (up to 5,000)",
                format!("{base}/records.csv?page-size=5000"),
            ),
            (
                "Entries as JSON (up to 5,000)",
                format!("{base}/entries.json?limit=5000"),
            ),
            (
                "Entries as CSV (up to 5,000)",
                format!("{base}/entries.csv?limit=5000"),
            ),
            ("The latest checkpoint", format!("{base}/checkpoint")),
        ],
        log: log.clone(),
    })
}

/// The store's name for a log.
pub fn source(log: &Log) -> Source {
    Source {
        register: log.name.clone(),
        index: log.index.clone(),
    }
}

/// What a records page asks for.
#[derive(Debug, Clone, Default)]
pub struct RecordsAsk {
    /// 1-based page.
    pub page: u64,
    /// Rows per page.
    pub size: u64,
    /// A key searched for (empty: none).
    pub key: String,
    /// A filter: field and value.
    pub filter: Option<(String, String)>,
}

/// A page of records: all, or those whose field has a value; a search by key that finds its
/// record goes to it.
pub fn records(
    store: &Store,
    domain: &str,
    log: &Log,
    summary: &RegisterSummary,
    ask: RecordsAsk,
) -> Result<Outcome, ApiError> {
    let source = source(log);
    let key = ask.key.trim().to_string();
    let mut notice = None;
    if !key.is_empty() {
        if store.log_record(&source, &key)?.is_some() {
            return Ok(Outcome::Redirect(log.record(&key)));
        }
        notice = Some(format!("No record has the key “{key}”."));
    }
    let metadata = store.metadata(&log.name)?;
    let fields = field_order(&metadata);
    // A filter on a field the register does not have shows nothing, as the API's 404 says.
    let filter = ask
        .filter
        .filter(|(field, value)| log.index.is_none() && !value.is_empty() && !field.is_empty());
    let offset = paging::offset(ask.page, ask.size);
    let (records, more) = match &filter {
        Some((field, value)) if fields.contains(field) => {
            let mut found = store.facet(&log.name, field, value, offset, ask.size + 1)?;
            let more = found.len() as u64 > ask.size;
            found.truncate(ask.size as usize);
            (found, more)
        }
        Some((field, _)) => {
            notice = Some(format!("The register has no field “{field}”."));
            (Vec::new(), false)
        }
        None => (
            store.log_records(&source, offset, ask.size)?,
            paging::next_page(ask.page, ask.size, summary.total_records).is_some(),
        ),
    };
    let columns: Vec<String> = match log.index {
        Some(_) => Vec::new(),
        None => fields.iter().filter(|f| **f != log.name).cloned().collect(),
    };
    let items = records
        .iter()
        .flat_map(|r| r.items.iter().map(|(_, j)| j.as_str()));
    let known = known(store, &log.name, link_targets(&metadata, items));
    let is_known = |r: &str| known.contains(r);
    let rows = records
        .iter()
        .map(|r| RecordRow {
            key: r.entry.key.clone(),
            href: log.record(&r.entry.key),
            cells: match (&log.index, r.items.first()) {
                (None, Some((_, json))) => cells(&metadata, &columns, json, &is_known),
                _ => Vec::new(),
            },
            items: r.items.len(),
            updated: r.entry.timestamp.to_string(),
        })
        .collect::<Vec<_>>();
    let query = |page: u64| {
        let mut q = format!("?page-index={page}&page-size={}", ask.size);
        if let Some((field, value)) = &filter {
            q.push_str(&format!("&field={}&value={}", encode(field), encode(value)));
        }
        format!("{}/records{q}", log.base())
    };
    let pager = Pager {
        previous: paging::previous_page(ask.page).map(query),
        next: ask.page.checked_add(1).filter(|_| more).map(query),
    };
    let first = offset.saturating_add(1);
    let last = offset.saturating_add(rows.len() as u64);
    let caption = match (&filter, rows.is_empty()) {
        (Some((field, value)), true) => format!("No record whose {field} is “{value}”"),
        (Some((field, value)), false) => {
            format!("Records {first} to {last} whose {field} is “{value}”, newest first")
        }
        (None, true) => "No records on this page".to_string(),
        (None, false) => format!(
            "Records {first} to {last} of {}, newest first",
            summary.total_records
        ),
    };
    let base = log.base();
    let json = match &filter {
        Some((field, value)) => format!("{base}/records/{}/{}.json", encode(field), encode(value)),
        None => format!(
            "{base}/records.json?page-index={}&page-size={}",
            ask.page, ask.size
        ),
    };
    let csv = json.replacen(".json", ".csv", 1);
    render(RecordsPage {
        chrome: chrome(
            domain,
            format!("Records of {}", log_title(log)),
            crumbs(log, &[("Records", None)]),
            vec![("JSON", json), ("CSV", csv)],
        ),
        caption,
        filterable: if log.index.is_none() {
            fields
        } else {
            Vec::new()
        },
        columns,
        rows,
        key,
        filter,
        notice,
        pager,
        log: log.clone(),
    })
}

pub(super) fn log_title(log: &Log) -> String {
    match &log.index {
        None => log.name.clone(),
        Some(index) => format!("index {index} of {}", log.name),
    }
}

fn entry_row(log: &Log, entry: Entry) -> EntryRow {
    EntryRow {
        items: entry
            .item_hashes
            .iter()
            .map(|h| {
                let hash = h.to_string();
                (short_hash(&hash), log.item(&hash))
            })
            .collect(),
        entry,
    }
}

/// A page of entries from `start`.
pub fn entries(
    store: &Store,
    domain: &str,
    log: &Log,
    summary: &RegisterSummary,
    start: u64,
    limit: u64,
) -> Result<Outcome, ApiError> {
    let found = store.log_entries(&source(log), start, limit)?;
    let base = log.base();
    let last = start.saturating_add(found.len() as u64) - u64::from(!found.is_empty());
    let caption = match found.is_empty() {
        true => format!(
            "No entries from {start}; the log has {}",
            summary.total_entries
        ),
        false => format!(
            "Entries {start} to {last} of {}, oldest first",
            summary.total_entries
        ),
    };
    let page = |from: u64| format!("{base}/entries?start={from}&limit={limit}");
    render(EntriesPage {
        chrome: chrome(
            domain,
            format!("Entries of {}", log_title(log)),
            crumbs(log, &[("Entries", None)]),
            vec![
                (
                    "JSON",
                    format!("{base}/entries.json?start={start}&limit={limit}"),
                ),
                (
                    "CSV",
                    format!("{base}/entries.csv?start={start}&limit={limit}"),
                ),
            ],
        ),
        caption,
        rows: found.into_iter().map(|e| entry_row(log, e)).collect(),
        pager: Pager {
            previous: paging::previous_start(start, limit).map(page),
            next: paging::next_start(start, limit, summary.total_entries).map(page),
        },
        log: log.clone(),
    })
}

/// One entry.
pub fn entry(
    store: &Store,
    domain: &str,
    log: &Log,
    summary: &RegisterSummary,
    n: u64,
) -> Result<Outcome, ApiError> {
    let source = source(log);
    let found = match n {
        0 => None,
        n => store.log_entries(&source, n, 1)?.pop(),
    };
    let entry =
        found.ok_or_else(|| ApiError::NotFound(format!("entry {n} not found in {source}")))?;
    let mut leaf = String::new();
    entry.write_leaf(&mut leaf);
    let base = log.base();
    let number = n.to_string();
    render(EntryPage {
        chrome: chrome(
            domain,
            format!("Entry {n}"),
            crumbs(
                log,
                &[
                    ("Entries", Some(format!("{base}/entries"))),
                    (&number, None),
                ],
            ),
            vec![
                ("JSON", format!("{base}/entries/{n}.json")),
                ("CSV", format!("{base}/entries/{n}.csv")),
            ],
        ),
        proof: format!(
            "{base}/proof/entry/{n}/{}/merkle:sha-256",
            summary.total_entries
        ),
        leaf,
        row: entry_row(log, entry),
        log: log.clone(),
    })
}

/// An error as a page.
pub fn error(domain: &str, title: &str, message: &str) -> Result<String, ApiError> {
    super::templates::ErrorPage {
        chrome: chrome(
            domain,
            title.to_string(),
            vec![
                ("Registers".into(), Some("/".into())),
                (title.to_string(), None),
            ],
            Vec::new(),
        ),
        message: message.to_string(),
    }
    .render()
    .map_err(|e| ApiError::Internal(format!("rendering a page: {e}")))
}
