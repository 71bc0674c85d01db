//! The crate's one error type.

use crate::hash::{Digest, ItemHash};

/// Errors from a backing store that the loader validates against (see [`crate::RegisterState`]).
pub type StateError = std::sync::Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in register-core.
///
/// RSF errors are wrapped in [`Error::Line`], which prefixes the 1-based line number:
/// `line 16: Orphan add item: sha-256:…`. Message wording follows the reference implementation
/// (ORJ) for the common RSF cases.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // Items.
    /// The text is not JSON.
    #[error("Invalid JSON")]
    InvalidJson,
    /// Valid JSON, but not byte-identical to its canonical form.
    #[error("Non canonical JSON")]
    NonCanonicalJson,
    /// Valid JSON that is not an object.
    #[error("item must be a JSON object")]
    NotAnObject,
    /// A field name outside `[a-z][a-z0-9-]*`.
    #[error("field name '{0}' must match [a-z][a-z0-9-]*")]
    InvalidFieldName(String),
    /// A value that is neither a string nor a list of strings.
    #[error("field '{0}' must be a string or a list of strings")]
    InvalidFieldValue(String),
    /// The same field twice in one object.
    #[error("field '{0}' appears more than once")]
    DuplicateField(String),

    // RSF lines.
    /// The line is not UTF-8.
    #[error("line is not valid UTF-8")]
    InvalidUtf8,
    /// An empty line (RSF has none).
    #[error("Empty line")]
    EmptyLine,
    /// A line longer than the parser's bound.
    #[error("line is longer than {0} bytes")]
    LineTooLong(usize),
    /// An unknown command.
    #[error("Command '{0}' is not recognised")]
    UnknownCommand(String),
    /// A command with the wrong number of tab-separated arguments.
    #[error("{command} must have {expected} argument{}", if *.expected == 1 { "" } else { "s" })]
    ArgumentCount {
        /// The command.
        command: &'static str,
        /// How many it takes.
        expected: usize,
    },
    /// A three-argument `append-entry` in neither of the 2016–2017 forms.
    #[error(
        "append-entry must have 4 arguments (or 3 in a 2016 form: timestamp, hashes, key or \
         key, timestamp, hashes)"
    )]
    LegacyEntryShape,
    /// A system entry with no items (only a user record can leave the current set).
    #[error("a system entry must have at least one item")]
    EmptySystemEntry,
    /// An entry type other than `user` or `system`.
    #[error("Type must be 'user' or 'system', not '{0}'")]
    InvalidEntryType(String),
    /// A timestamp not of the form `YYYY-MM-DDThh:mm:ssZ`.
    #[error("Date is not in the correct format: '{0}'")]
    InvalidTimestamp(String),
    /// A hash not of the form `sha-256:<64 lowercase hex>`.
    #[error("'{0}' was not hashed using sha-256")]
    InvalidHash(String),
    /// A user key outside RFC 0008, or an empty system key.
    #[error("key '{0}' is not valid: {1}")]
    InvalidKey(String, &'static str),
    /// An entry that names one item twice (its item hashes must be distinct).
    #[error("item hash {0} appears more than once in the entry")]
    DuplicateItemHash(ItemHash),
    /// An entry naming an item that was never added.
    #[error("Orphan append entry: {0}")]
    OrphanAppendEntry(ItemHash),
    /// An item no entry of the same file refers to.
    #[error("Orphan add item: {0}")]
    OrphanAddItem(ItemHash),
    /// An `assert-root-hash` that does not hold.
    #[error("Root hashes don't match. Expected: {expected} actual: {actual}")]
    RootHashMismatch {
        /// The hash the file asserts.
        expected: Digest,
        /// The register's root at that point.
        actual: Digest,
    },
    /// Reading the input failed.
    #[error("cannot read input: {0}")]
    Io(String),
    /// Wraps another error with the 1-based RSF line it comes from.
    #[error("line {line}: {source}")]
    Line {
        /// 1-based line number.
        line: u64,
        /// What is wrong on that line.
        source: Box<Error>,
    },

    /// Wraps another error with the 0-based position of the record it comes from in a
    /// written batch (the JSON write API): `records[2]: field 'x' is not a field of the
    /// register`.
    #[error("records[{index}]: {source}")]
    Record {
        /// 0-based position in the request's array (0 for a single object).
        index: usize,
        /// What is wrong with that record.
        source: Box<Error>,
    },
    /// A written batch that is not one item object or a non-empty array of them; says why.
    #[error("{0}")]
    InvalidBatch(String),
    /// A removal of a key that has no current record.
    #[error("there is no record '{0}' to remove")]
    NoSuchRecord(String),

    /// A register name outside the rule of register names.
    #[error("register name '{name}' is not valid: {rule}")]
    InvalidRegisterName {
        /// The name (shortened when long).
        name: String,
        /// The rule it breaks.
        rule: &'static str,
    },

    // Validation (registers.md §3).
    /// Strict mode needs the `name` system record before user entries.
    #[error("register has no 'name' system entry")]
    MissingName,
    /// Rule 1: the register definition is missing.
    #[error("register definition 'register:{0}' is missing")]
    MissingRegisterDefinition(String),
    /// Rule 1: a field of the register has no definition.
    #[error("field definition 'field:{0}' is missing")]
    MissingFieldDefinition(String),
    /// Rule 2: a field the register does not have.
    #[error("field '{0}' is not a field of the register")]
    UnknownField(String),
    /// Rule 3: the primary field is absent or blank.
    #[error("primary field '{0}' is missing or blank")]
    MissingPrimaryField(String),
    /// Rule 3: the primary field differs from the entry key.
    #[error("primary field '{field}' value '{value}' does not equal the entry key '{key}'")]
    PrimaryFieldMismatch {
        /// The primary field.
        field: String,
        /// Its value.
        value: String,
        /// The entry key.
        key: String,
    },
    /// Rule 4: cardinality `1` needs a string, `n` a list.
    #[error("field '{field}' has cardinality {cardinality} and needs {}", if *.cardinality == '1' { "a string" } else { "a list of strings" })]
    WrongCardinality {
        /// The field.
        field: String,
        /// `'1'` or `'n'`.
        cardinality: char,
    },
    /// Rule 4: a value that fails its datatype.
    #[error("field '{field}' value '{value}' is not a{} {datatype}", if starts_with_vowel(.datatype) { "n" } else { "" })]
    InvalidValue {
        /// The field.
        field: String,
        /// The value (shortened when long).
        value: String,
        /// The datatype name.
        datatype: &'static str,
    },
    /// Rule 5: the entry repeats the current record.
    #[error("entry for key '{0}' is identical to previous entry")]
    IdenticalEntry(String),
    /// A system item that cannot describe the register.
    #[error("system entry '{key}' is not valid metadata: {reason}")]
    InvalidMetadata {
        /// The system key.
        key: String,
        /// What is wrong.
        reason: String,
    },

    // Snapshot imports (the `import` module).
    /// A snapshot's text that is not CSV, TSV or JSON Lines as promised (wrapped in
    /// [`Error::Line`]).
    #[error("{0}")]
    InvalidSnapshot(String),
    /// A snapshot format other than CSV, TSV and JSON Lines.
    #[error("format '{0}' must be csv, tsv or jsonl")]
    UnknownFormat(String),
    /// The snapshot has no column for the register's primary field.
    #[error("the snapshot has no column for the key field '{0}'")]
    MissingKeyColumn(String),
    /// A header column that is neither a field of the register nor ignored explicitly.
    #[error("column {column} '{name}' is not a field of the register (ignore it explicitly to leave it out)")]
    UnknownColumn {
        /// 1-based column number.
        column: usize,
        /// The header name.
        name: String,
    },
    /// The same header name twice.
    #[error("column {column} '{name}' repeats an earlier column")]
    DuplicateColumn {
        /// 1-based column number of the repeat.
        column: usize,
        /// The header name.
        name: String,
    },
    /// Two rows of one snapshot with the same key.
    #[error("row {row} (line {line}): key '{key}' already appeared in row {first_row}")]
    DuplicateKey {
        /// The key.
        key: String,
        /// 1-based data row of the repeat (the header is not counted).
        row: u64,
        /// The line it starts on.
        line: u64,
        /// The row the key first appeared in.
        first_row: u64,
    },
    /// A snapshot row that cannot become a valid item.
    #[error("row {row} (line {line}){}: {source}", cell(*.column, .field.as_deref()))]
    ImportRow {
        /// 1-based data row (the header is not counted).
        row: u64,
        /// The line it starts on (rows with quoted newlines span several).
        line: u64,
        /// 1-based column number, for CSV and TSV.
        column: Option<usize>,
        /// The field or column name involved, when one is.
        field: Option<String>,
        /// What is wrong.
        source: Box<Error>,
    },
    /// `end-missing` asked of a register without an `end-date` field.
    #[error("register '{0}' has no 'end-date' field, so missing records cannot be ended")]
    NoEndDateField(String),
    /// A record absent from the snapshot that cannot be given an end date.
    #[error("cannot end record '{key}': {source}")]
    EndRecord {
        /// The record's key.
        key: String,
        /// What is wrong.
        source: Box<Error>,
    },

    // Proofs and ranges.
    /// An entry number outside 1..=size.
    #[error("entry {entry} is outside a tree of size {size}")]
    EntryOutOfRange {
        /// Requested entry number.
        entry: u64,
        /// Tree size.
        size: u64,
    },
    /// A tree size larger than the log.
    #[error("size {size} is larger than the register's {current} entries")]
    SizeOutOfRange {
        /// Requested size.
        size: u64,
        /// Current size.
        current: u64,
    },
    /// A range whose start exceeds its end.
    #[error("range {from}..{to} is empty or reversed")]
    InvalidRange {
        /// Start.
        from: u64,
        /// End.
        to: u64,
    },
    /// A Merkle node the store should hold is missing.
    #[error("Merkle node at level {level}, index {index} is missing from the store")]
    MissingNode {
        /// Level (0 = leaves).
        level: u32,
        /// Index within the level.
        index: u64,
    },
    /// The backing store failed.
    #[error("store error: {0}")]
    State(StateError),
}

/// `, column 3 'name'`, `, field 'name'` or nothing: where in a row an import error is.
fn cell(column: Option<usize>, field: Option<&str>) -> String {
    match (column, field) {
        (Some(column), Some(field)) => format!(", column {column} '{field}'"),
        (Some(column), None) => format!(", column {column}"),
        (None, Some(field)) => format!(", field '{field}'"),
        (None, None) => String::new(),
    }
}

fn starts_with_vowel(word: &str) -> bool {
    matches!(
        word.as_bytes().first(),
        Some(b'a' | b'e' | b'i' | b'o' | b'u')
    )
}

impl Error {
    /// Attaches a 1-based line number.
    pub fn at_line(self, line: u64) -> Error {
        Error::Line {
            line,
            source: Box::new(self),
        }
    }

    /// Attaches the 0-based position of a written record.
    pub fn at_record(self, index: usize) -> Error {
        Error::Record {
            index,
            source: Box::new(self),
        }
    }

    /// The line number, if this error came from an RSF line.
    pub fn line(&self) -> Option<u64> {
        match self {
            Error::Line { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The error without its line wrapper.
    pub fn kind(&self) -> &Error {
        match self {
            Error::Line { source, .. } | Error::Record { source, .. } => source.kind(),
            other => other,
        }
    }
}

// Errors compare by message: enough for tests, and the boxed store error has no `PartialEq`.
impl PartialEq for Error {
    fn eq(&self, other: &Error) -> bool {
        self.to_string() == other.to_string()
    }
}
