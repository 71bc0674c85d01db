//! The pages' templates (`templates/*.html`, compiled by askama): one struct per page type,
//! holding only what its template shows. Every `{{ … }}` is HTML-escaped by askama; no
//! template marks anything `safe`.

use askama::Template;
use register_core::Entry;

use super::view::{FieldRow, Log, Pager, Shown, Version};

/// What every page has around its content: the title, the breadcrumbs, other
/// representations of the same resource.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The page's title (and its `h1`).
    pub title: String,
    /// The node's domain, named in the header.
    pub domain: String,
    /// Breadcrumbs: text and link, the last without a link (the page itself).
    pub crumbs: Vec<(String, Option<String>)>,
    /// Other formats of this resource: label and URL.
    pub formats: Vec<(&'static str, String)>,
}

/// One register on the home page.
#[derive(Debug, Clone)]
pub struct RegisterRow {
    /// Its name.
    pub name: String,
    /// Its page.
    pub href: String,
    /// Its human title.
    pub title: String,
    /// Its description.
    pub description: String,
    /// Current records.
    pub records: u64,
    /// User-log entries.
    pub entries: u64,
    /// Last load (`YYYY-MM-DD HH:MM UTC`).
    pub updated: String,
    /// It mirrors a partner's register.
    pub mirror: bool,
}

/// `/`: the registers on this node and where to start.
#[derive(Debug, Template)]
#[template(path = "home.html")]
pub struct Home {
    /// Around the content.
    pub chrome: Chrome,
    /// The registers.
    pub registers: Vec<RegisterRow>,
}

/// A field definition on a register's page.
#[derive(Debug, Clone)]
pub struct FieldDefRow {
    /// The field.
    pub name: String,
    /// Its datatype.
    pub datatype: String,
    /// `1` or `n`.
    pub cardinality: String,
    /// The register it links to, and that register's page when this node has it.
    pub register: Option<(String, Option<String>)>,
    /// Its description.
    pub description: String,
}

/// A signed checkpoint as a page shows it.
#[derive(Debug, Clone)]
pub struct CheckpointView {
    /// Origin line.
    pub origin: String,
    /// Tree size.
    pub size: u64,
    /// Root, `sha-256:<hex>`.
    pub root: String,
    /// Key names of the log's own signatures.
    pub signers: Vec<String>,
    /// Key names of every other signature (witnesses, mirrors).
    pub cosigners: Vec<String>,
    /// The note as served.
    pub note: String,
}

/// A register's (or an index's) page.
#[derive(Debug, Template)]
#[template(path = "register.html")]
pub struct RegisterPage {
    /// Around the content.
    pub chrome: Chrome,
    /// The log.
    pub log: Log,
    /// The register's description.
    pub description: String,
    /// Custodian, registry, …: label and value.
    pub facts: Vec<(&'static str, String)>,
    /// For an index: the register field whose values key it.
    pub index_field: Option<String>,
    /// Field definitions, in declared order.
    pub fields: Vec<FieldDefRow>,
    /// Indexes of the register: name and page.
    pub indexes: Vec<(String, String)>,
    /// The latest signed checkpoint.
    pub checkpoint: Option<CheckpointView>,
    /// Set for a mirror: whose register it holds.
    pub mirror_of: Option<String>,
    /// Downloads: label and URL.
    pub downloads: Vec<(&'static str, String)>,
}

/// A row of the records table.
#[derive(Debug, Clone)]
pub struct RecordRow {
    /// The key (the link to the record).
    pub key: String,
    /// The record's page.
    pub href: String,
    /// One cell per column.
    pub cells: Vec<Vec<Shown>>,
    /// Items of the record (shown for indexes).
    pub items: usize,
    /// The newest entry's timestamp.
    pub updated: String,
}

/// A log's records: a page of them, a search by key and a filter by field value.
#[derive(Debug, Template)]
#[template(path = "records.html")]
pub struct RecordsPage {
    /// Around the content.
    pub chrome: Chrome,
    /// The log.
    pub log: Log,
    /// The table's caption.
    pub caption: String,
    /// Field columns (none for an index: its records list items).
    pub columns: Vec<String>,
    /// Fields that may filter (registers only).
    pub filterable: Vec<String>,
    /// The rows.
    pub rows: Vec<RecordRow>,
    /// The key searched for.
    pub key: String,
    /// The filter: field and value.
    pub filter: Option<(String, String)>,
    /// A note above the table ("No record has the key …").
    pub notice: Option<String>,
    /// Paging.
    pub pager: Pager,
}

/// One item of a record, as rows.
#[derive(Debug, Clone)]
pub struct ItemBlock {
    /// Its hash.
    pub hash: String,
    /// Its page.
    pub href: String,
    /// Its fields.
    pub fields: Vec<FieldRow>,
}

/// A record: its fields, its entry, a link to its history, and the Verify control.
#[derive(Debug, Template)]
#[template(path = "record.html")]
pub struct RecordPage {
    /// Around the content.
    pub chrome: Chrome,
    /// The log.
    pub log: Log,
    /// The key.
    pub key: String,
    /// Its items.
    pub items: Vec<ItemBlock>,
    /// Its newest entry.
    pub entry: Entry,
    /// The item hashes of the entry, space-separated (for the Verify script).
    pub hashes: String,
    /// The log's size.
    pub size: u64,
}

/// A record's history: every version and what it changed.
#[derive(Debug, Template)]
#[template(path = "history.html")]
pub struct HistoryPage {
    /// Around the content.
    pub chrome: Chrome,
    /// The log.
    pub log: Log,
    /// The key.
    pub key: String,
    /// Versions, newest first.
    pub versions: Vec<Version>,
    /// Versions older than those shown.
    pub older: usize,
}

/// A row of the entries table.
#[derive(Debug, Clone)]
pub struct EntryRow {
    /// The entry.
    pub entry: Entry,
    /// Its item hashes, with their pages.
    pub items: Vec<(String, String)>,
}

/// A page of a log's entries.
#[derive(Debug, Template)]
#[template(path = "entries.html")]
pub struct EntriesPage {
    /// Around the content.
    pub chrome: Chrome,
    /// The log.
    pub log: Log,
    /// The table's caption.
    pub caption: String,
    /// The rows.
    pub rows: Vec<EntryRow>,
    /// Paging.
    pub pager: Pager,
}

/// One entry.
#[derive(Debug, Template)]
#[template(path = "entry.html")]
pub struct EntryPage {
    /// Around the content.
    pub chrome: Chrome,
    /// The log.
    pub log: Log,
    /// The entry and its items.
    pub row: EntryRow,
    /// Its Merkle leaf (the entry's JSON).
    pub leaf: String,
    /// Its inclusion proof in the current tree.
    pub proof: String,
}

/// One item.
#[derive(Debug, Template)]
#[template(path = "item.html")]
pub struct ItemPage {
    /// Around the content.
    pub chrome: Chrome,
    /// The item.
    pub item: ItemBlock,
    /// Its canonical JSON, cut to the page's limit.
    pub json: Shown,
}

/// An error as a page (for requests that asked for HTML).
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Around the content.
    pub chrome: Chrome,
    /// What went wrong.
    pub message: String,
}
