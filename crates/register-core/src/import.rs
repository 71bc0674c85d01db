//! Importing tabular snapshots: a full copy of a source table (CSV or TSV with a header row, or
//! JSON Lines) becomes an RSF patch holding only what changed.
//!
//! An [`Importer`] is given the register's metadata and its current records as a *record
//! index* (key → item hash, plus a "seen" row number), then reads the snapshot row by row:
//!
//! - each row becomes one canonical item (header names are field names; empty cells are left
//!   out; cells of cardinality-`n` fields are split on `;`), validated with
//!   [`Metadata::validate_user_entry`] exactly as the loader would;
//! - a row whose item equals the current record's adds nothing; a new or different one writes
//!   `add-item` and `append-entry` at once, so the patch streams out as the rows stream in;
//! - after the last row, records no row mentioned are reported as missing and, when asked,
//!   each gets an entry setting its `end-date` field to the snapshot date.
//!
//! Memory is the record index plus the keys of new rows (needed to catch duplicates), never
//! the file. The first problem stops the import with an error naming the row, line, column and
//! rule; the caller discards the partial patch, so a bad snapshot changes nothing.
//!
//! ```
//! use register_core::{diff_register, Format, ImportOptions, LogKind, Mode, Register};
//!
//! # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/colour.rsf");
//! # let colour_rsf = std::fs::read(path).expect("fixture");
//! let mut register = Register::new();
//! register.load(&colour_rsf[..], Mode::Strict)?; // red is "Scarlet", blue is "Blue"
//! let snapshot = "colour,name\nred,Scarlet\nblue,Navy\n";
//! let options = ImportOptions {
//!     format: Format::Csv,
//!     timestamp: "2024-05-01T00:00:00Z".parse()?,
//!     ignore: Vec::new(),
//!     end_missing: false,
//!     base_root: None,
//! };
//! let mut patch = Vec::new();
//! let summary = diff_register(&register, options, snapshot.as_bytes(), &mut patch)?;
//! assert_eq!((summary.changed, summary.unchanged), (1, 1));
//! register.load(&patch[..], Mode::Strict)?;
//! assert_eq!(register.size(LogKind::User), 4);
//! # Ok::<(), register_core::Error>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};

use crate::datatype::Datatype;
use crate::entry::{check_user_key, Entry, LogKind};
use crate::error::Error;
use crate::hash::{Digest, ItemHash};
use crate::item::{Item, ItemView, Value};
use crate::metadata::{Cardinality, Metadata, Mode};
use crate::register::Register;
use crate::rsf;
use crate::time::Timestamp;

/// The field an ended record's new entry sets.
pub const END_DATE_FIELD: &str = "end-date";

/// The tabular formats a snapshot can come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row (RFC 4180 quoting).
    Csv,
    /// Tab-separated values with a header row (quoted cells allowed, as in CSV).
    Tsv,
    /// One JSON object per line; values are strings, lists of strings or null.
    JsonLines,
}

impl Format {
    /// `csv`, `tsv` or `jsonl` (also `ndjson`).
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "csv" => Some(Format::Csv),
            "tsv" => Some(Format::Tsv),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            _ => None,
        }
    }

    /// The format a file name's extension suggests, CSV when it suggests none.
    ///
    /// Only the name is looked at: the content is never sniffed.
    pub fn from_file_name(name: &str) -> Format {
        name.rsplit_once('.')
            .and_then(|(_, ext)| Format::from_name(&ext.to_ascii_lowercase()))
            .unwrap_or(Format::Csv)
    }
}

impl std::str::FromStr for Format {
    type Err = Error;

    /// As [`Format::from_name`], for command-line arguments.
    fn from_str(name: &str) -> Result<Format, Error> {
        Format::from_name(name).ok_or_else(|| Error::UnknownFormat(name.to_string()))
    }
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The snapshot's format.
    pub format: Format,
    /// The timestamp of every entry the patch appends; its date ends missing records.
    pub timestamp: Timestamp,
    /// Columns (or JSON keys) to leave out; any other column must be a field.
    pub ignore: Vec<String>,
    /// Whether records absent from the snapshot get an entry setting `end-date`.
    pub end_missing: bool,
    /// When set, the patch starts with `assert-root-hash` of this root, so it applies only to
    /// the register state it was computed against.
    pub base_root: Option<Digest>,
}

/// What an import found (serialised with kebab-case names for the tools' JSON summaries).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ImportSummary {
    /// Data rows read.
    pub rows: u64,
    /// Rows whose key had no record: one entry each.
    pub new: u64,
    /// Rows whose item differs from their record's: one entry each.
    pub changed: u64,
    /// Rows equal to their record: nothing.
    pub unchanged: u64,
    /// Missing records given an end date (those that had none yet).
    pub ended: u64,
    /// Keys of current records no row mentioned, sorted (last, as the list may be long).
    pub missing: Vec<String>,
}

impl ImportSummary {
    /// User entries the patch appends.
    pub fn entries(&self) -> u64 {
        self.new + self.changed + self.ended
    }
}

/// A current record as the importer remembers it.
#[derive(Debug, Clone, Copy)]
struct Current {
    /// The record's item when it has exactly one (a multi-item record never equals a row).
    hash: Option<ItemHash>,
    /// The row that mentioned the key, 0 while none has.
    seen_row: u64,
}

/// Where a row is, for error messages.
#[derive(Debug, Clone, Copy)]
struct RowAt {
    row: u64,
    line: u64,
}

/// Turns a snapshot into an RSF patch against a register's current records (see the module
/// documentation).
#[derive(Debug)]
pub struct Importer {
    metadata: Metadata,
    /// The primary field, named like the register: its cell is the record key.
    key_field: String,
    cardinality: HashMap<String, Cardinality>,
    options: ImportOptions,
    index: HashMap<Box<str>, Current>,
    /// Keys of rows that created records, with their row, to catch duplicates.
    new_keys: HashMap<Box<str>, u64>,
    summary: ImportSummary,
}

impl Importer {
    /// An importer for a register described by `metadata`, with no records yet (add them with
    /// [`Importer::add_record`]). The register definition and every field definition must
    /// exist, and `end-date` must be a field when `end_missing` is set.
    pub fn new(metadata: &Metadata, options: ImportOptions) -> Result<Importer, Error> {
        let register = match (metadata.name.as_deref(), metadata.register_definition()) {
            (_, Some(register)) => register,
            (None, None) => return Err(Error::MissingName),
            (Some(name), None) => return Err(Error::MissingRegisterDefinition(name.to_string())),
        };
        let mut cardinality = HashMap::new();
        for field in &register.fields {
            let def = metadata
                .fields
                .get(field)
                .ok_or_else(|| Error::MissingFieldDefinition(field.clone()))?;
            cardinality.insert(field.clone(), def.cardinality);
        }
        if options.end_missing && !cardinality.contains_key(END_DATE_FIELD) {
            return Err(Error::NoEndDateField(register.id.clone()));
        }
        Ok(Importer {
            key_field: register.id.clone(),
            metadata: metadata.clone(),
            cardinality,
            options,
            index: HashMap::new(),
            new_keys: HashMap::new(),
            summary: ImportSummary::default(),
        })
    }

    /// Makes the patch start with `assert-root-hash` of `root` (see [`ImportOptions::base_root`]).
    pub fn set_base_root(&mut self, root: Digest) {
        self.options.base_root = Some(root);
    }

    /// Adds a current record of the register: its key and its entry's item hashes.
    pub fn add_record(&mut self, key: &str, item_hashes: &[ItemHash]) {
        let hash = match item_hashes {
            [one] => Some(*one),
            _ => None,
        };
        self.index.insert(key.into(), Current { hash, seen_row: 0 });
    }

    /// Reads the snapshot and writes the patch for its rows to `out`, then ends missing
    /// records when asked; `items_of` gives the items of a missing record's current entry.
    ///
    /// On error `out` holds a partial patch that must be discarded.
    pub fn import<R: BufRead, W: Write + ?Sized>(
        mut self,
        reader: R,
        out: &mut W,
        mut items_of: impl FnMut(&str) -> Result<Vec<Item>, Error>,
    ) -> Result<ImportSummary, Error> {
        if let Some(root) = &self.options.base_root {
            rsf::write_assert_root_hash(out, root).map_err(io)?;
        }
        match self.options.format {
            Format::Csv => self.read_delimited(reader, b',', out)?,
            Format::Tsv => self.read_delimited(reader, b'\t', out)?,
            Format::JsonLines => self.read_json_lines(reader, out)?,
        }
        let mut missing: Vec<String> = self
            .index
            .iter()
            .filter(|(_, current)| current.seen_row == 0)
            .map(|(key, _)| key.to_string())
            .collect();
        missing.sort_unstable();
        if self.options.end_missing {
            for key in &missing {
                let items = items_of(key)?;
                if self.end_record(key, items, out)? {
                    self.summary.ended += 1;
                }
            }
        }
        self.summary.missing = missing;
        Ok(self.summary)
    }

    fn read_delimited<R: BufRead, W: Write + ?Sized>(
        &mut self,
        reader: R,
        delimiter: u8,
        out: &mut W,
    ) -> Result<(), Error> {
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .from_reader(reader);
        let mut record = csv::StringRecord::new();
        if !csv.read_record(&mut record).map_err(csv_error)? {
            return Err(Error::MissingKeyColumn(self.key_field.clone()));
        }
        let columns = self.columns(&record)?;
        let mut fields = BTreeMap::new();
        let mut row = 0u64;
        while csv.read_record(&mut record).map_err(csv_error)? {
            row += 1;
            let at = RowAt {
                row,
                line: record.position().map_or(0, |p| p.line()),
            };
            fields.clear();
            for (cell, field) in record.iter().zip(&columns) {
                if let Some(field) = field {
                    if let Some(value) = self.cell_value(field, cell) {
                        fields.insert(field.clone(), value);
                    }
                }
            }
            let column_of = |field: &str| {
                columns
                    .iter()
                    .position(|c| c.as_deref() == Some(field))
                    .map(|i| i + 1)
            };
            self.row(at, &mut fields, &column_of, out)?;
        }
        Ok(())
    }

    /// Maps header columns to fields (`None`: ignored), checking them all.
    fn columns(&self, header: &csv::StringRecord) -> Result<Vec<Option<String>>, Error> {
        let mut columns: Vec<Option<String>> = Vec::with_capacity(header.len());
        for (i, name) in header.iter().enumerate() {
            // Spreadsheets often start UTF-8 exports with a byte order mark.
            let name = if i == 0 {
                name.trim_start_matches('\u{feff}')
            } else {
                name
            };
            let column = i + 1;
            if self.is_ignored(name) {
                columns.push(None);
                continue;
            }
            if !self.cardinality.contains_key(name) {
                return Err(Error::UnknownColumn {
                    column,
                    name: name.to_string(),
                });
            }
            if columns.iter().any(|c| c.as_deref() == Some(name)) {
                return Err(Error::DuplicateColumn {
                    column,
                    name: name.to_string(),
                });
            }
            columns.push(Some(name.to_string()));
        }
        if !columns.iter().any(|c| c.as_ref() == Some(&self.key_field)) {
            return Err(Error::MissingKeyColumn(self.key_field.clone()));
        }
        Ok(columns)
    }

    fn is_ignored(&self, name: &str) -> bool {
        self.options.ignore.iter().any(|i| i == name)
    }

    /// A cell's value: `None` when empty, split on `;` for cardinality `n`.
    fn cell_value(&self, field: &str, cell: &str) -> Option<Value> {
        if cell.is_empty() {
            return None;
        }
        Some(match self.cardinality.get(field) {
            Some(Cardinality::Many) => Value::List(cell.split(';').map(str::to_string).collect()),
            _ => Value::String(cell.to_string()),
        })
    }

    fn read_json_lines<R: BufRead, W: Write + ?Sized>(
        &mut self,
        mut reader: R,
        out: &mut W,
    ) -> Result<(), Error> {
        let mut text = String::new();
        let mut fields = BTreeMap::new();
        let (mut line, mut row) = (0u64, 0u64);
        loop {
            text.clear();
            line += 1;
            let read = reader.read_line(&mut text).map_err(|e| {
                let error = if e.kind() == std::io::ErrorKind::InvalidData {
                    Error::InvalidUtf8
                } else {
                    io(e)
                };
                error.at_line(line)
            })?;
            if read == 0 {
                return Ok(());
            }
            if text.trim().is_empty() {
                continue;
            }
            row += 1;
            let at = RowAt { row, line };
            let failed = |field: Option<&str>, source: Error| row_error(at, None, field, source);
            let object = match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Object(object)) => object,
                Ok(_) => return Err(failed(None, Error::NotAnObject)),
                Err(_) => return Err(failed(None, Error::InvalidJson)),
            };
            fields.clear();
            for (name, value) in object {
                if self.is_ignored(&name) {
                    continue;
                }
                if !self.cardinality.contains_key(&name) {
                    return Err(failed(Some(&name), Error::UnknownField(name.clone())));
                }
                let value = match value {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => self.cell_value(&name, &s),
                    serde_json::Value::Array(list) => {
                        let strings = list
                            .into_iter()
                            .map(|v| match v {
                                serde_json::Value::String(s) => Some(s),
                                _ => None,
                            })
                            .collect::<Option<Vec<String>>>()
                            .ok_or_else(|| {
                                failed(Some(&name), Error::InvalidFieldValue(name.clone()))
                            })?;
                        (!strings.is_empty()).then_some(Value::List(strings))
                    }
                    _ => return Err(failed(Some(&name), Error::InvalidFieldValue(name.clone()))),
                };
                if let Some(value) = value {
                    fields.insert(name, value);
                }
            }
            self.row(at, &mut fields, &|_| None, out)?;
        }
    }

    /// Compares one row's item with its record and writes an entry when they differ.
    fn row<W: Write + ?Sized>(
        &mut self,
        at: RowAt,
        fields: &mut BTreeMap<String, Value>,
        column_of: &dyn Fn(&str) -> Option<usize>,
        out: &mut W,
    ) -> Result<(), Error> {
        self.summary.rows += 1;
        let key_field = self.key_field.as_str();
        let failed =
            |field: &str, source: Error| row_error(at, column_of(field), Some(field), source);
        let key = match fields.get(key_field) {
            Some(Value::String(key)) if !key.trim().is_empty() => key.clone(),
            Some(Value::List(_)) => {
                return Err(failed(
                    key_field,
                    Error::WrongCardinality {
                        field: key_field.to_string(),
                        cardinality: '1',
                    },
                ))
            }
            _ => {
                return Err(failed(
                    key_field,
                    Error::MissingPrimaryField(key_field.to_string()),
                ))
            }
        };
        check_user_key(&key).map_err(|e| failed(key_field, e))?;

        let (current, is_new) = match self.index.get_mut(key.as_str()) {
            Some(current) => {
                if current.seen_row != 0 {
                    return Err(duplicate(key, at, current.seen_row));
                }
                current.seen_row = at.row;
                (current.hash, false)
            }
            None => {
                if let Some(&first_row) = self.new_keys.get(key.as_str()) {
                    return Err(duplicate(key, at, first_row));
                }
                self.new_keys.insert(key.as_str().into(), at.row);
                (None, true)
            }
        };

        let item =
            Item::from_fields(std::mem::take(fields)).map_err(|e| row_error(at, None, None, e))?;
        let json = item.canonical_json();
        let view = ItemView::parse(&json).map_err(|e| row_error(at, None, None, e))?;
        if let Err(e) =
            self.metadata
                .validate_user_entry(&key, std::slice::from_ref(&view), Mode::Strict)
        {
            let field = error_field(&e).map(str::to_string);
            let column = field.as_deref().and_then(column_of);
            return Err(row_error(at, column, field.as_deref(), e));
        }
        let hash = ItemHash::of_canonical(json.as_bytes());
        if current == Some(hash) {
            self.summary.unchanged += 1;
            return Ok(());
        }
        if is_new {
            self.summary.new += 1;
        } else {
            self.summary.changed += 1;
        }
        self.write_entry(key, &[(hash, json)], out)
    }

    /// Writes an entry setting `end-date` on the record's items; `false` (and nothing
    /// written) when every item has an end date already.
    fn end_record<W: Write + ?Sized>(
        &self,
        key: &str,
        items: Vec<Item>,
        out: &mut W,
    ) -> Result<bool, Error> {
        let failed = |source: Error| Error::EndRecord {
            key: key.to_string(),
            source: Box::new(source),
        };
        if items.iter().all(|item| item.get(END_DATE_FIELD).is_some()) {
            return Ok(false);
        }
        let date = self.end_date();
        let mut ended = Vec::with_capacity(items.len());
        for item in items {
            let mut fields: BTreeMap<String, Value> = item
                .fields()
                .map(|(name, value)| (name.to_string(), value.clone()))
                .collect();
            fields
                .entry(END_DATE_FIELD.to_string())
                .or_insert_with(|| date.clone());
            let json = Item::from_fields(fields).map_err(failed)?.canonical_json();
            ended.push((ItemHash::of_canonical(json.as_bytes()), json));
        }
        let views = ended
            .iter()
            .map(|(_, json)| ItemView::parse(json))
            .collect::<Result<Vec<_>, _>>()
            .map_err(failed)?;
        self.metadata
            .validate_user_entry(key, &views, Mode::Strict)
            .map_err(failed)?;
        self.write_entry(key.to_string(), &ended, out)?;
        Ok(true)
    }

    /// The snapshot date in the form the `end-date` field's datatype takes.
    fn end_date(&self) -> Value {
        let timestamp = self.options.timestamp.to_string();
        let is_timestamp = self
            .metadata
            .fields
            .get(END_DATE_FIELD)
            .is_some_and(|def| def.datatype == Datatype::Timestamp);
        let text = if is_timestamp {
            timestamp
        } else {
            // `YYYY-MM-DD`, a valid `datetime`.
            timestamp.get(..10).unwrap_or(&timestamp).to_string()
        };
        match self.cardinality.get(END_DATE_FIELD) {
            Some(Cardinality::Many) => Value::List(vec![text]),
            _ => Value::String(text),
        }
    }

    fn write_entry<W: Write + ?Sized>(
        &self,
        key: String,
        items: &[(ItemHash, String)],
        out: &mut W,
    ) -> Result<(), Error> {
        for (_, json) in items {
            rsf::write_add_item(out, json).map_err(io)?;
        }
        // Only key, timestamp and items are written; the loader numbers entries.
        let entry = Entry {
            entry_number: 0,
            index_entry_number: 0,
            timestamp: self.options.timestamp,
            key,
            item_hashes: items.iter().map(|(hash, _)| *hash).collect(),
        };
        rsf::write_append_entry(out, LogKind::User, &entry).map_err(io)
    }
}

fn io(e: std::io::Error) -> Error {
    Error::Io(e.to_string())
}

fn row_error(at: RowAt, column: Option<usize>, field: Option<&str>, source: Error) -> Error {
    Error::ImportRow {
        row: at.row,
        line: at.line,
        column,
        field: field.map(str::to_string),
        source: Box::new(source),
    }
}

fn duplicate(key: String, at: RowAt, first_row: u64) -> Error {
    Error::DuplicateKey {
        key,
        row: at.row,
        line: at.line,
        first_row,
    }
}

/// The field a validation error is about, to point at its column.
fn error_field(error: &Error) -> Option<&str> {
    match error {
        Error::UnknownField(field)
        | Error::MissingPrimaryField(field)
        | Error::InvalidFieldValue(field) => Some(field),
        Error::WrongCardinality { field, .. }
        | Error::InvalidValue { field, .. }
        | Error::PrimaryFieldMismatch { field, .. } => Some(field),
        _ => None,
    }
}

fn csv_error(e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    let error = match e.kind() {
        csv::ErrorKind::Io(io_error) => return Error::Io(io_error.to_string()),
        csv::ErrorKind::Utf8 { .. } => Error::InvalidUtf8,
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Error::InvalidSnapshot(format!(
            "row has {len} column{}, the header has {expected_len}",
            if *len == 1 { "" } else { "s" }
        )),
        _ => Error::InvalidSnapshot(e.to_string()),
    };
    error.at_line(line)
}

/// Imports a snapshot against an in-memory register: builds the record index from its
/// records, writes the patch to `out` and returns the summary. The patch starts with
/// `assert-root-hash` of the register's current root unless `options.base_root` says
/// otherwise.
pub fn diff_register<R: BufRead, W: Write + ?Sized>(
    register: &Register,
    mut options: ImportOptions,
    reader: R,
    out: &mut W,
) -> Result<ImportSummary, Error> {
    options
        .base_root
        .get_or_insert_with(|| register.root(LogKind::User));
    let mut importer = Importer::new(register.metadata(), options)?;
    for entry in register.records() {
        importer.add_record(&entry.key, &entry.item_hashes);
    }
    importer.import(reader, out, |key| {
        let entry = register
            .record(LogKind::User, key)
            .ok_or_else(|| Error::InvalidKey(key.to_string(), "has no record"))?;
        entry
            .item_hashes
            .iter()
            .map(|hash| {
                let json = register
                    .item_json(hash)
                    .ok_or(Error::OrphanAppendEntry(*hash))?;
                Item::parse(json)
            })
            .collect()
    })
}
