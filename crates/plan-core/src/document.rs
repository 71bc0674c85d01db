//! Reading untrusted XML: size, depth and node limits, no DTDs, positions for diagnostics.

use std::cell::OnceCell;
use std::collections::HashMap;

use roxmltree::{Document, Node, ParsingOptions};

use crate::error::Diagnostic;
use crate::limits::Limits;
use crate::scan;

/// Bytes per block of [`Parsed::chars_before`]'s index.
const BLOCK: usize = 1024;

/// A parsed document with indexes that keep every diagnostic cheap whatever the document's
/// shape (one long line, many siblings): a diagnostic's cost must not grow with the document,
/// or a document with many problems costs the square of its size.
#[derive(Debug)]
pub(crate) struct Parsed<'input> {
    pub(crate) doc: Document<'input>,
    line_starts: Vec<usize>,
    /// Characters before each [`BLOCK`]-byte boundary: a column counts at most one block.
    block_chars: Vec<usize>,
    /// Per node (by id): its 1-based index among its same-named element siblings and how many
    /// there are; built on the first diagnostic that needs one.
    siblings: OnceCell<Vec<(u32, u32)>>,
    text: &'input str,
}

impl<'input> Parsed<'input> {
    /// Parse `text` within `limits`; a document that cannot be read is one diagnostic.
    pub(crate) fn parse(text: &'input str, limits: &Limits) -> Result<Self, Diagnostic> {
        if text.len() > limits.max_bytes {
            return Err(document_problem(
                1,
                1,
                format!(
                    "the document is {} bytes, over the limit of {} bytes",
                    text.len(),
                    limits.max_bytes
                ),
            ));
        }
        if let Err(refusal) = scan::scan(text, limits) {
            let (line, column) = line_column(text, refusal.offset);
            return Err(document_problem(line, column, refusal.message));
        }
        let options = ParsingOptions {
            allow_dtd: false,
            nodes_limit: limits.max_nodes,
        };
        let doc = Document::parse_with_options(text, options).map_err(|e| {
            let pos = e.pos();
            let message = match e {
                roxmltree::Error::DtdDetected => {
                    "DTDs and entity declarations are not accepted".to_string()
                }
                roxmltree::Error::NodesLimitReached => {
                    format!("the document has more than {} XML nodes", limits.max_nodes)
                }
                other => format!("not well-formed XML: {other}"),
            };
            document_problem(pos.row, pos.col, message)
        })?;
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut block_chars = Vec::with_capacity(text.len() / BLOCK + 1);
        let mut chars = 0;
        for block in text.as_bytes().chunks(BLOCK) {
            block_chars.push(chars);
            chars += count_chars(block);
        }
        let parsed = Parsed {
            doc,
            line_starts,
            block_chars,
            siblings: OnceCell::new(),
            text,
        };
        Ok(parsed)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn position(&self, offset: usize) -> (u32, u32) {
        let line = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .chars_before(offset)
            .saturating_sub(self.chars_before(start))
            + 1;
        (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    /// Characters in the text before byte `offset` (a character boundary).
    fn chars_before(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        let block = offset / BLOCK;
        let counted = self.block_chars.get(block).copied().unwrap_or(0);
        let rest = self.text.as_bytes().get(block * BLOCK..offset);
        counted + rest.map_or(0, count_chars)
    }

    /// `node`'s 1-based index among its same-named element siblings, and their number.
    pub(crate) fn siblings(&self, node: Node<'_, '_>) -> (usize, usize) {
        let table = self.siblings.get_or_init(|| sibling_table(&self.doc));
        table
            .get(node.id().get_usize())
            .map_or((1, 1), |&(index, total)| (index as usize, total as usize))
    }

    pub(crate) fn source(&self, range: std::ops::Range<usize>) -> &'input str {
        self.text.get(range).unwrap_or_default()
    }
}

/// Characters in UTF-8 `bytes`: every byte that does not continue a character starts one.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

/// [`Parsed::siblings`] for every node, in one pass over each element's children.
fn sibling_table(doc: &Document<'_>) -> Vec<(u32, u32)> {
    let mut table = vec![(1, 1); doc.descendants().count()];
    let mut seen: HashMap<(Option<&str>, &str), u32> = HashMap::new();
    for parent in doc.descendants() {
        seen.clear();
        for child in parent.children().filter(Node::is_element) {
            let name = child.tag_name();
            let count = seen.entry((name.namespace(), name.name())).or_insert(0);
            *count += 1;
            if let Some(slot) = table.get_mut(child.id().get_usize()) {
                slot.0 = *count;
            }
        }
        for child in parent.children().filter(Node::is_element) {
            let name = child.tag_name();
            let total = seen.get(&(name.namespace(), name.name())).copied();
            if let Some(slot) = table.get_mut(child.id().get_usize()) {
                slot.1 = total.unwrap_or(1);
            }
        }
    }
    table
}

/// 1-based line and column (in characters) of a byte offset, by counting (for rare errors).
fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

fn document_problem(line: u32, column: u32, message: String) -> Diagnostic {
    Diagnostic {
        line,
        column,
        path: "/".to_string(),
        message,
    }
}

/// A value quoted for a message: at most 40 characters, so errors never echo large input.
pub(crate) fn excerpt(value: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = value
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if value.chars().nth(MAX).is_some() {
        out.push('…');
    }
    format!("'{out}'")
}

/// Put diagnostics in document order and cap them at `limits.max_diagnostics`, saying so.
pub(crate) fn finish(mut diagnostics: Vec<Diagnostic>, limits: &Limits) -> Vec<Diagnostic> {
    diagnostics.sort_by_key(|d| (d.line, d.column));
    if diagnostics.len() > limits.max_diagnostics {
        diagnostics.truncate(limits.max_diagnostics);
        diagnostics.push(Diagnostic {
            line: 1,
            column: 1,
            path: "/".into(),
            message: format!(
                "more than {} problems; stopped reporting",
                limits.max_diagnostics
            ),
        });
    }
    diagnostics
}
